"""Case views: load (with permission check) -> validate -> service -> render or redirect.

Every view of one episode loads it through ``load_episode_for_view`` (403 for
roles without case access, 404 for an episode the user may not see). State
changes are POST only (CSRF checked by CSRFProtect) and audited by the
services. Pages with person-level data are never cached, and showing them is
audited: a case page or form every time (also a refused form shown again), the
caseload per case shown and day. "Today" is the organisation's day.
"""
from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from fitapp.cases import bp, changes, forms, tablet
from fitapp.cases.access import has_case_access, load_episode_for_view
from fitapp.cases.services import (
    caseload_for, episode_view, participants_of, record_caseload_view, record_episode_view,
)
from fitapp.i18n import format_score
from fitapp.models.cases import CORRECTION_REASONS, END_REASONS, NO_RATING_REASONS, PARTICIPANT_ROLES
from fitapp.organisation_time import organisation_today
from fitapp.permissions import ALL_ROLES, CASE_ROLES, THERAPIST, requires
from fitapp.scoring import ALLIANCE_INSTRUMENTS, OUTCOME_INSTRUMENTS


def _private(html: str, status: int = 200):
    response = make_response(html, status)
    # Person-level data: never kept in a browser or proxy cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def _form_page(template: str, episode, errors=None, **context):
    """A form page about an episode, audited as a read: on GET, and when a refused POST shows it
    again (422) with the family's references and the values sent."""
    record_episode_view(episode)
    status = 422 if errors else 200
    return _private(render_template(template, episode=episode, errors=errors or {}, **context), status)


def _to_case(episode_id: int, row: str | None = None):
    """Back to the case page; after a correction at the corrected row (``row``: its element id)."""
    return redirect(url_for("cases.episode", episode_id=episode_id, _anchor=row))


def _refuse_if_closed(episode):
    if not episode.is_open:
        flash(_("The case is closed: nothing can be added to it."), "error")
        return _to_case(episode.id)
    return None


@bp.route("/")
@login_required
@requires(ALL_ROLES)
def caseload():
    if current_user.role == "admin":
        return redirect(url_for("admin.index"))
    if not has_case_access(current_user):
        return render_template("cases/no_caseload.html")
    today = organisation_today()
    caseload = caseload_for(current_user, today, forms.parse_caseload_filter(request.args))
    record_caseload_view(current_user, caseload, today)  # which cases' references were shown
    return _private(render_template("cases/caseload.html", caseload=caseload))


@bp.route("/cases/<int:episode_id>")
@login_required
@requires(CASE_ROLES)
def episode(episode_id: int):
    episode = load_episode_for_view(current_user, episode_id)
    view = episode_view(episode)
    record_episode_view(episode)
    return _private(render_template("cases/episode.html", episode=view,
                                    may_reassign=current_user.role == "unit_head"))


# ---------------------------------------------------------------- open a case


@bp.route("/cases/new", methods=["GET", "POST"])
@login_required
@requires(THERAPIST)
def open_case():
    if current_user.role != "therapist":
        abort(403)  # cases are opened by the therapist who will hold them
    today = organisation_today()
    units = changes.units_of(current_user, today)
    if not units:
        return render_template("cases/no_unit.html")
    interventions = changes.active_interventions()
    errors, values = {}, {"start_date": today.isoformat()}
    if request.method == "POST":
        values = request.form.to_dict()
        data, errors = forms.parse_open_case(request.form, {i.id for i in interventions}, [u.id for u in units], today)
    warnings = []
    if request.method == "POST":
        values = request.form.to_dict()
        data, errors = forms.parse_open_case(request.form, {i.id for i in interventions}, [u.id for u in units], today)
        if data is not None:
            try:
                warnings = changes.open_case_warnings(data)
                if not warnings or forms.warnings_accepted(request.form, warnings):
                    episode = changes.open_episode(current_user, data)
                    flash(_("Case %(ref)s opened.", ref=episode.ref), "success")
                    return _to_case(episode.id)
            except changes.ExistingPersonNotFound as missing:
                errors = _person_not_found(missing.row)
        _forget_identity_numbers(values)
    return _private(render_template(
        "cases/open.html", units=units, interventions=interventions, values=values, errors=errors,
        warnings=warnings, warnings_key=forms.warnings_key(warnings),
        rows=range(1, forms.MEMBER_ROWS + 1), rows_shown=forms.MEMBER_ROWS_SHOWN, roles=PARTICIPANT_ROLES,
        genders=forms.MEMBER_GENDERS,
    ), 422 if errors else 200)


@bp.route("/cases/<int:episode_id>/members/new", methods=["GET", "POST"])
@login_required
@requires(CASE_ROLES)
def add_member(episode_id: int):
    episode = load_episode_for_view(current_user, episode_id)
    refused = _refuse_if_closed(episode)
    if refused:
        return refused
    row = len(episode.participants) + 1
    if row > forms.MEMBER_ROWS:
        flash(_("A case has at most %(count)s family members.", count=forms.MEMBER_ROWS), "error")
        return _to_case(episode.id)
    errors, values, warnings = {}, {}, []
    if request.method == "POST":
        values = request.form.to_dict()
        member, errors = forms.parse_new_member(request.form, row, organisation_today())
        if member is not None:
            try:
                warnings = changes.add_member_warnings(episode, member, row)
                if not warnings or forms.warnings_accepted(request.form, warnings):
                    participant = changes.add_member(episode, member)
                    flash(_("%(ref)s is now a family member of the case.", ref=participant.person.ref), "success")
                    return _to_case(episode.id)
            except changes.ExistingPersonNotFound:
                errors = _person_not_found(row)
            except changes.AlreadyInCase as present:
                errors = forms.Errors()
                errors.add(f"member-{row}-existing_ref", _(
                    "Family member %(row)s: %(ref)s already takes part in this case.", row=row, ref=str(present)))
        _forget_identity_numbers(values)
    return _form_page("cases/add_member.html", episode, errors, values=values, row=row, warnings=warnings,
                      warnings_key=forms.warnings_key(warnings), roles=PARTICIPANT_ROLES,
                      genders=forms.MEMBER_GENDERS)


def _person_not_found(row: int) -> forms.Errors:
    errors = forms.Errors()
    errors.add(f"member-{row}-existing_ref", _(
        "Family member %(row)s: there is no person with this reference in your district.", row=row))
    return errors


def _forget_identity_numbers(values: dict) -> None:
    # Something that looks like an identity number is never echoed back to the page.
    from fitapp.identity_numbers import looks_like_identity_number

    for name in [n for n in values if n.endswith("-existing_ref")]:
        if looks_like_identity_number(values[name]):
            values[name] = ""


# ---------------------------------------------------------------- log a session


@bp.route("/cases/<int:episode_id>/sessions/new", methods=["GET", "POST"])
@login_required
@requires(CASE_ROLES)
def new_session(episode_id: int):
    episode = load_episode_for_view(current_user, episode_id)
    refused = _refuse_if_closed(episode)
    if refused:
        return refused
    today = organisation_today()
    people = [forms.FormPerson(p.id, p.person.ref, p.role, p.person.birth_year) for p in participants_of(episode.id)]
    # Back from tablet mode: the form as it was, with the family member's marks (fitapp.cases.tablet).
    draft = tablet.draft_values(episode.id, request.args.get("draft"))
    errors, values = {}, draft or forms.session_defaults(people, today)
    if request.method == "POST":
        values = request.form.to_dict()
        data, errors = forms.parse_session(request.form, people, episode.start_date, today)
        if data is not None:
            episode_id = episode.id
            number = changes.log_session(episode, data)  # with the episode's series summaries
            tablet.discard_draft(request.form.get("draft"))
            if number is None:  # the same form sent again: the first save stands
                flash(_("This session was already saved; it was not saved again."), "success")
            else:
                flash(_("Session %(number)s saved.", number=number), "success")
            return _to_case(episode_id)
    # One random key per form (kept when the form comes back with errors): a second send is recognised.
    if forms.parse_submission_key(values) is None:
        values["submission_key"] = forms.new_submission_key()
    return _form_page("cases/session_form.html", episode, errors, people=people, values=values,
                      totals=forms.live_totals(values, people), outcome_instruments=OUTCOME_INSTRUMENTS,
                      alliance_instruments=ALLIANCE_INSTRUMENTS, reasons=NO_RATING_REASONS,
                      collateral_rows=range(1, forms.COLLATERAL_ROWS + 1),
                      collateral_open=any(k.startswith("collateral-") for k in errors)
                      or any(v for k, v in values.items() if k.startswith("collateral-") and k[-1].isdigit()))


# ---------------------------------------------------------------- corrections and soft delete


def _rating_or_404(episode, rating_id: int):
    rating = changes.live_rating_of(episode, rating_id)
    if rating is None:
        abort(404)
    return rating


def _session_or_404(episode, session_id: int):
    session = changes.live_session_of(episode, session_id)
    if session is None:
        abort(404)
    return session


def _rating_label(rating) -> str:
    subject = rating.subject
    return f"{subject.person.ref} {rating.instrument}"


@bp.route("/cases/<int:episode_id>/ratings/<int:rating_id>/correct", methods=["GET", "POST"])
@login_required
@requires(CASE_ROLES)
def correct_rating(episode_id: int, rating_id: int):
    episode = load_episode_for_view(current_user, episode_id)
    rating = _rating_or_404(episode, rating_id)
    label = _rating_label(rating)
    errors = {}
    values = {f"item-{n}": format_score(item) for n, item in zip(forms.ITEMS, rating.items)}
    if request.method == "POST":
        values = request.form.to_dict()
        change, errors = forms.parse_rating_correction(request.form, label, rating.items)
        if change is not None:
            changes.correct_rating(episode, rating, change)
            flash(_("The rating was corrected; the old values are kept."), "success")
            return _to_case(episode.id, f"rating-{rating.id}")
    return _form_page("cases/correct_rating.html", episode, errors, rating=rating, label=label, values=values,
                      reasons=CORRECTION_REASONS)


@bp.route("/cases/<int:episode_id>/ratings/<int:rating_id>/delete", methods=["GET", "POST"])
@login_required
@requires(CASE_ROLES)
def delete_rating(episode_id: int, rating_id: int):
    episode = load_episode_for_view(current_user, episode_id)
    rating = _rating_or_404(episode, rating_id)
    errors, values = {}, {}
    if request.method == "POST":
        values = request.form.to_dict()
        reason, errors = forms.parse_deletion(request.form)
        if not errors:
            changes.delete_rating(episode, rating, reason)
            flash(_("The rating was deleted."), "success")
            return _to_case(episode.id)
    return _form_page("cases/delete.html", episode, errors, values=values, reasons=CORRECTION_REASONS,
                      what=_("Delete the rating %(label)s from session %(number)s",
                             label=_rating_label(rating), number=rating.session.number))


@bp.route("/cases/<int:episode_id>/sessions/<int:session_id>/correct", methods=["GET", "POST"])
@login_required
@requires(CASE_ROLES)
def correct_session(episode_id: int, session_id: int):
    episode = load_episode_for_view(current_user, episode_id)
    session = _session_or_404(episode, session_id)
    errors, values = {}, {"date": session.date.isoformat()}
    if request.method == "POST":
        values = request.form.to_dict()
        change, errors = forms.parse_session_correction(request.form, session.date, episode.start_date,
                                                        organisation_today())
        if change is not None:
            changes.correct_session(episode, session, *change)
            flash(_("The session date was corrected; the old date is kept."), "success")
            return _to_case(episode.id, f"session-{session.id}")
    return _form_page("cases/correct_session.html", episode, errors, session=session, values=values,
                      reasons=CORRECTION_REASONS)


@bp.route("/cases/<int:episode_id>/sessions/<int:session_id>/delete", methods=["GET", "POST"])
@login_required
@requires(CASE_ROLES)
def delete_session(episode_id: int, session_id: int):
    episode = load_episode_for_view(current_user, episode_id)
    session = _session_or_404(episode, session_id)
    errors, values = {}, {}
    if request.method == "POST":
        values = request.form.to_dict()
        reason, errors = forms.parse_deletion(request.form)
        if not errors:
            changes.delete_session(episode, session, reason)
            flash(_("Session %(number)s was deleted.", number=session.number), "success")
            return _to_case(episode.id)
    return _form_page("cases/delete.html", episode, errors, values=values, reasons=CORRECTION_REASONS,
                      what=_("Delete session %(number)s (%(date)s) and all its ratings",
                             number=session.number, date=session.date.isoformat()))


# ---------------------------------------------------------------- close and reassign


@bp.route("/cases/<int:episode_id>/close", methods=["GET", "POST"])
@login_required
@requires(CASE_ROLES)
def close_case(episode_id: int):
    episode = load_episode_for_view(current_user, episode_id)
    refused = _refuse_if_closed(episode)
    if refused:
        return refused
    today = organisation_today()
    last = changes.last_session_date(episode.id)
    errors, values = {}, {"end_date": today.isoformat()}
    if request.method == "POST":
        values = request.form.to_dict()
        data, errors = forms.parse_close(request.form, episode.start_date, last, today)
        if data is not None:
            changes.close_episode(episode, data)
            flash(_("Case %(ref)s closed.", ref=episode.ref), "success")
            return _to_case(episode.id)
    return _form_page("cases/close.html", episode, errors, view=episode_view(episode), values=values,
                      end_reasons=END_REASONS, reasons=NO_RATING_REASONS)


@bp.route("/cases/<int:episode_id>/reassign", methods=["GET", "POST"])
@login_required
@requires(CASE_ROLES)  # the unit-head check follows the episode loader: 404 before 403
def reassign(episode_id: int):
    episode = load_episode_for_view(current_user, episode_id)
    if current_user.role != "unit_head":
        abort(403)  # only the unit head hands cases over
    therapists = changes.unit_therapists(episode.unit_id, organisation_today())
    errors, values = {}, {}
    if request.method == "POST":
        values = request.form.to_dict()
        chosen, errors = forms.parse_reassign(request.form, {t.id for t in therapists}, episode.therapist_id)
        if chosen is not None:
            changes.reassign_episode(episode, chosen)
            flash(_("Case %(ref)s now belongs to %(name)s.", ref=episode.ref,
                    name=next(t.username for t in therapists if t.id == chosen)), "success")
            return redirect(url_for("cases.caseload"))
    return _form_page("cases/reassign.html", episode, errors, therapists=therapists, values=values)
