"""Log review views: the user's scopes (403/404) -> the month's log or its review -> render or redirect.

Unit heads review the units they belong to today, administrators every unit and
the whole organisation (``services.scopes_for``); another unit's id is a 404.
Reading a month's log is audited as ``view_access_log``, recording its review as
``record_log_review``. The page shows ids, pseudonymous references and action
names only; an administrator's shows neither case references nor case ids (counts, staff and
highlights), since administrators reach no clinical data.
"""
from datetime import date

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import format_date, gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required

from fitapp.log_review import bp, forms, services
from fitapp.permissions import requires

LOG_REVIEWERS = frozenset({"unit_head", "admin"})

ACTION_LABELS = {
    "view_episode": _l("read the case"),
    "view_caseload": _l("saw the case on the case list"),
    "view_follow_up": _l("read the follow-up list"),
    "export_report": _l("exported a report"),
    "export_outcomes": _l("exported outcomes"),
    "tablet_handover": _l("handed the tablet to the family"),
    "tablet_return": _l("took the tablet back"),
    "tablet_return_failed": _l("failed to take the tablet back"),
    "open_episode": _l("opened the case"),
    "add_participant": _l("added a family member"),
    "create_session": _l("logged a session"),
    "correct_rating": _l("corrected a rating"),
    "correct_session": _l("corrected a session"),
    "delete_rating": _l("deleted a rating"),
    "delete_session": _l("deleted a session"),
    "close_episode": _l("closed the case"),
    "reassign_episode": _l("reassigned the case"),
    "import_ratings": _l("imported ratings"),
    "retention_delete_episode": _l("deleted the case (retention)"),
    "retention_prune_episode": _l("deleted part of the case (retention)"),
}
OBJECT_LABELS = {
    "episode": _l("case"),
    "session": _l("session"),
    "rating": _l("rating"),
    "report_period": _l("report period"),
    "report_file": _l("report file"),
    "report_csv": _l("report (CSV)"),
    "report_xlsx": _l("report (Excel)"),
    "report_print": _l("report (print)"),
    "outcome_file": _l("outcome file"),
    "ratings_file": _l("ratings file"),
}


@bp.app_context_processor
def _log_review_globals():
    return {"may_review_logs": current_user.is_authenticated and current_user.role in LOG_REVIEWERS}


@bp.app_template_filter("month_name")
def month_name(month: date) -> str:
    """"mars 2025" in Swedish, "March 2025" in English."""
    return format_date(month, "LLLL yyyy")


def _no_store(html: str, status: int = 200):
    response = make_response(html, status)
    # Who read which case: never kept in a browser or proxy cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/")
@login_required
@requires(LOG_REVIEWERS)
def index():
    today = services.today_local()
    scopes = services.scopes_for(current_user, today)
    if not scopes and not request.args.get("unit"):
        return _no_store(render_template("log_review/no_unit.html"))
    choice, errors = forms.parse_choice(request.args, scopes[0].key if scopes else "", today)
    scope = services.find_scope(scopes, choice.unit)
    if scope is None:
        abort(404)  # another unit's log is not revealed, not even that the unit exists
    context = {"choice": choice, "scope": scope, "scopes": scopes, "errors": errors,
               "history": services.review_history(scopes, today), "page_size": services.PAGE_SIZE}
    if errors:
        return _no_store(render_template("log_review/index.html", counts=None, page=None, **context), 422)
    counts = services.log_counts(scope, choice.month)
    case_references = services.shows_case_references(current_user)
    page = services.log_page(scope, choice.month, counts, choice.page, choice.only_highlighted,
                             case_references=case_references)
    if page is None:
        abort(404)
    html = render_template(
        "log_review/index.html", counts=counts, page=page, review=services.review_status(scope, choice.month),
        may_record=services.has_ended(choice.month, today), action_labels=ACTION_LABELS,
        case_references=case_references,
        object_labels=OBJECT_LABELS, **context)
    services.record_log_view(scope, choice.month)
    return _no_store(html)


@bp.route("/review", methods=["POST"])
@login_required
@requires(LOG_REVIEWERS)
def review():
    today = services.today_local()
    scope = services.find_scope(services.scopes_for(current_user, today), request.form.get("unit", ""))
    if scope is None:
        abort(404)
    month = forms.parse_month(request.form.get("month"), today)
    if month is None:
        abort(400)  # the form only sends months it showed
    try:
        services.record_review(current_user, scope, month, today)
    except services.MonthNotEnded:
        flash(_("%(month)s has not ended yet: it can be marked as reviewed from %(day)s.",
                month=month_name(month), day=services.add_months(month, 1).isoformat()), "error")
    except services.AlreadyReviewed as refused:
        flash(_("%(month)s was already reviewed by %(name)s on %(day)s. A month is marked as reviewed once.",
                month=month_name(month), name=refused.status.reviewer,
                day=refused.status.reviewed_at.date().isoformat()), "error")
    else:
        flash(_("The log for %(month)s is marked as reviewed.", month=month_name(month)), "success")
    return redirect(url_for("log_review.index", **forms.LogChoice(scope.key, month).args()))
