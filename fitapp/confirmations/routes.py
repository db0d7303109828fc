"""Confirmation views: the user's pending list -> confirm or refuse one membership -> redirect.

A membership the user may not confirm because it is not theirs to see (another unit's, or the
user is not a confirmer of it) is a 404; one they see but may not confirm (an administrator's own
change, a unit that has a unit head) is refused with a message and nothing changed.
"""
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from fitapp import access_confirmation as confirmation
from fitapp.confirmations import bp
from fitapp.extensions import db
from fitapp.models import UnitMembership
from fitapp.organisation_time import organisation_today
from fitapp.permissions import CONFIRMERS, requires

REASON_LABELS = {
    "new_membership": _l("new membership"),
    "new_role": _l("new role"),
    "password_reset": _l("password reset by an administrator"),
}
MESSAGES = {
    confirmation.NOT_PENDING: _l("The access is not waiting for confirmation."),
    confirmation.ENDED: _l("The membership has ended."),
    confirmation.OWN_ACCESS: _l("Nobody confirms their own access."),
    confirmation.OWN_CHANGE: _l("You made this change yourself: another administrator must confirm it."),
    confirmation.UNIT_HAS_HEAD: _l("The unit has a unit head, who confirms its accesses."),
}
# Refusals that would tell the user about a unit they have nothing to do with.
_HIDDEN = {confirmation.NOT_THEIR_UNIT, confirmation.NOT_A_CONFIRMER}


@bp.app_context_processor
def _confirmation_globals():
    """The number waiting for the user, for the header (unit heads and administrators only)."""
    if not (current_user.is_authenticated and current_user.role in CONFIRMERS):
        return {"pending_confirmations": None}
    return {"pending_confirmations": confirmation.pending_count(current_user, organisation_today())}


@bp.route("/")
@login_required
@requires(CONFIRMERS)
def index():
    pending = confirmation.pending_for(current_user, organisation_today())
    return render_template("confirmations/index.html", pending=pending, reason_labels=REASON_LABELS)


def _decide(membership_id: int, act, message: str):
    membership = db.session.get(UnitMembership, membership_id)
    if membership is None:
        abort(404)
    today = organisation_today()
    problem = confirmation.refusal(current_user, membership, today)
    if problem in _HIDDEN:
        abort(404)
    if problem is not None:
        flash(str(MESSAGES[problem]), "error")
    else:
        act(membership, current_user._get_current_object(), today)
        flash(message, "success")
    return redirect(url_for("confirmations.index"), 303)


@bp.route("/<int:membership_id>/confirm", methods=["POST"])
@login_required
@requires(CONFIRMERS)
def confirm(membership_id: int):
    return _decide(membership_id, confirmation.confirm, _("The access was confirmed."))


@bp.route("/<int:membership_id>/refuse", methods=["POST"])
@login_required
@requires(CONFIRMERS)
def refuse(membership_id: int):
    return _decide(membership_id, confirmation.refuse, _("The access was refused and removed."))
