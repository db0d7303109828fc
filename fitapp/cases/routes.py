"""Caseload and episode page: load (with permission check) -> service -> render."""
from datetime import date

from flask import make_response, render_template
from flask_login import current_user, login_required

from fitapp.cases import bp
from fitapp.cases.access import has_case_access, load_episode_for_view
from fitapp.cases.services import caseload_for, episode_view, record_episode_view


@bp.route("/")
@login_required
def caseload():
    if not has_case_access(current_user):
        return render_template("cases/no_caseload.html")
    return render_template("cases/caseload.html", caseload=caseload_for(current_user, date.today()))


@bp.route("/cases/<int:episode_id>")
@login_required
def episode(episode_id: int):
    episode = load_episode_for_view(current_user, episode_id)
    view = episode_view(episode)
    record_episode_view(episode)
    response = make_response(render_template("cases/episode.html", episode=view))
    # Person-level data: never kept in a browser or proxy cache.
    response.headers["Cache-Control"] = "no-store"
    return response
