"""Error pages for refused (403) and unknown (404) pages, in the site's layout."""
from flask import Blueprint, render_template

bp = Blueprint("errors", __name__)


@bp.app_errorhandler(403)
def forbidden(error):
    return render_template("errors/403.html"), 403


@bp.app_errorhandler(404)
def not_found(error):
    return render_template("errors/404.html"), 404
