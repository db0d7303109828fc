"""Tablet mode: the therapist hands the device to ONE family member for ONE scale.

Flow: the session form posts its current values to ``tablet_start`` (a
"hand over" button), which keeps them as a *draft* on the server (the table
``session_form_draft``, tied to the session) under a random token and locks the
session to the tablet screen. The
family member marks the four lines; the values go into the draft and a "give
the device back" screen follows. Only the therapist's password (argon2,
audited "tablet_return") unlocks the session; the session form then opens
with the draft, so the therapist checks and saves.

The lock and its count of wrong passwords live in the session's row, in columns
only the lock's own statements write (fitapp.session_store), never in the cookie:
a response that began before the hand-over cannot lift the lock when it saves the
session, a replayed cookie names the same locked row, and no rating ever travels
in a cookie.

While locked, every request except the tablet screens, the language switch
and static files is redirected to the tablet screen (``enforce_tablet_lock``,
run before every request of the app, not only the cases blueprint, so
reports and unknown URLs are covered too). Neither the URL nor the tablet page
carries anything about the case: the draft token is random and the page shows
only the scale being filled in.
"""
from __future__ import annotations

import re
import secrets
from decimal import Decimal

from flask import abort, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from fitapp import session_store
from fitapp.audit import record
from fitapp.auth import sessions, throttle
from fitapp.auth.passwords import verify_password
from fitapp.cases import bp
from fitapp.cases.access import has_case_access, load_episode_for_view
from fitapp.cases.forms import ITEMS, SCALES
from fitapp.cases.services import participants_of
from fitapp.extensions import db
from fitapp.i18n import format_score
from fitapp.instrument_labels import item_label
from fitapp.permissions import CASE_ROLES, requires
from fitapp.scoring import InvalidValue, parse_item

MAX_DRAFTS = 2           # drafts of session forms kept per session (oldest dropped): one form is being filled in
MAX_FAILED_RETURNS = 5   # wrong passwords on the return screen before the session is logged out
# Reachable while the device is with the family: the tablet screens, the language switch, css/js.
UNLOCKED_ENDPOINTS = frozenset({"cases.tablet", "cases.tablet_submit", "cases.tablet_return", "auth.language",
                                "static"})
# The session form's fields, the only ones a draft keeps.
_DRAFT_FIELD = re.compile(
    r"^(date|(present|reason)-\d+|(outcome|alliance)-\d+-(instrument|[1-4])"
    r"|collateral-[12]-(subject|rater|instrument|[1-4]))$"
)
_ITEM_FIELD = re.compile(r"^(outcome|alliance|collateral)-\d+-[1-4]$")
_MAX_VALUE_LENGTH = 32


# ---------------------------------------------------------------- drafts of the session form


def _save_draft(token: str, episode_id: int, values: dict) -> None:
    session_store.save_form_draft(token, episode_id, values, keep=MAX_DRAFTS)


def _draft(token: str | None, episode_id: int) -> dict | None:
    """The draft's values, if ``token`` names one of this session's drafts of this episode."""
    found = session_store.form_draft(token)
    if found is None or found[0] != episode_id:
        return None
    return found[1]


def draft_values(episode_id: int, token: str | None) -> dict | None:
    """The saved values of the session form for this episode, items in the UI's number format."""
    draft = _draft(token, episode_id)
    if draft is None:
        return None
    values = dict(draft)
    for name, text in values.items():
        if _ITEM_FIELD.match(name):
            try:
                values[name] = format_score(parse_item(text))
            except InvalidValue:
                pass  # shown as typed; the session form explains what is wrong with it
    values["draft"] = token
    return values


def discard_draft(token: str | None) -> None:
    session_store.discard_form_draft(token)


def _form_snapshot(form) -> dict:
    # Only the session form's own fields, empty ones left out (they come back empty), each bounded.
    return {name: value[:_MAX_VALUE_LENGTH] for name, value in form.items() if value and _DRAFT_FIELD.match(name)}


# ---------------------------------------------------------------- the lock


def locked() -> dict | None:
    """The hand-over in progress in this session, if any (403 for roles that never hold cases)."""
    if not has_case_access(current_user):
        abort(403)
    return session_store.tablet_lock()


def enforce_tablet_lock():
    """While the family has the device, every other URL leads back to the tablet screen."""
    lock = session_store.tablet_lock()
    if lock is None or not current_user.is_authenticated:
        return None
    if request.endpoint in UNLOCKED_ENDPOINTS:
        return None
    return redirect(url_for("cases.tablet"))


@bp.record_once
def _lock_first(state) -> None:
    # First of the app's before-request checks, so that a page the therapist's role may not open
    # (a report, say) also leads back to the tablet instead of answering 403 in the site layout.
    state.app.before_request_funcs.setdefault(None, []).insert(0, enforce_tablet_lock)


def _private(html: str, status: int = 200):
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"  # person-level data, as on every case page
    return response


# ---------------------------------------------------------------- hand over


@bp.route("/cases/<int:episode_id>/sessions/new/tablet", methods=["POST"])
@login_required
@requires(CASE_ROLES)
def tablet_start(episode_id: int):
    """Keep the session form's values and give the device to one person for one scale."""
    episode = load_episode_for_view(current_user, episode_id)
    if not episode.is_open:
        flash(_("The case is closed: nothing can be added to it."), "error")
        return redirect(url_for("cases.episode", episode_id=episode.id))
    scale, _sep, pid_text = (request.form.get("tablet") or "").partition("-")
    people = {p.id: p for p in participants_of(episode.id)}
    if scale not in SCALES or not pid_text.isdigit() or int(pid_text) not in people:
        abort(404)
    participant_id = int(pid_text)
    instrument = (request.form.get(f"{scale}-{participant_id}-instrument") or "").strip()
    if instrument not in SCALES[scale]:
        abort(404)
    token = request.form.get("draft")
    if _draft(token, episode.id) is None:
        token = secrets.token_urlsafe(16)
    _save_draft(token, episode.id, _form_snapshot(request.form))
    session_store.set_tablet_lock({
        "token": token, "episode_id": episode.id, "unit_id": episode.unit_id, "participant_id": participant_id,
        "scale": scale, "instrument": instrument, "step": "rate", "lang": session.get("lang"),
    })
    record("tablet_handover", object_type="episode", object_id=episode.id, unit_id=episode.unit_id)
    db.session.commit()
    return redirect(url_for("cases.tablet"))


# ---------------------------------------------------------------- the family's screens


@bp.route("/tablet")
@login_required
@requires(CASE_ROLES)
def tablet():
    lock = locked()
    if lock is None:
        return redirect(url_for("cases.caseload"))
    if lock["step"] == "rate":
        return _scale_page(lock, {}, {})
    return _return_page(None)


def _scale_page(lock: dict, values: dict, errors: dict, status: int = 200):
    marks = {n: _item_value(values.get(f"item-{n}")) for n in ITEMS}
    return _private(render_template(
        "cases/tablet.html", title=_scale_title(lock["scale"]), instrument=lock["instrument"], items=ITEMS,
        marks=marks, errors=errors), status)


def _return_page(error: str | None, status: int = 200):
    return _private(render_template("cases/tablet_return.html", error=error), status)


@bp.route("/tablet", methods=["POST"])
@login_required
@requires(CASE_ROLES)
def tablet_submit():
    """The family member's four marks (or none: "give back without answering")."""
    lock = locked()
    if lock is None:
        return redirect(url_for("cases.caseload"))
    if lock["step"] != "rate":
        return redirect(url_for("cases.tablet"))
    if request.form.get("skip") != "1":
        values, errors = {}, {}
        for n in ITEMS:
            text = (request.form.get(f"item-{n}") or "").strip()
            values[f"item-{n}"] = text
            try:
                parse_item(text)
            except InvalidValue:
                errors[f"item-{n}"] = _("%(item)s: mark the line.", item=item_label(lock["instrument"], n))
        if errors:
            return _scale_page(lock, values, errors, 422)
        snapshot = dict(_draft(lock["token"], lock["episode_id"]) or {})
        prefix = f"{lock['scale']}-{lock['participant_id']}"
        snapshot.update({f"{prefix}-{n}": str(parse_item(values[f"item-{n}"])) for n in ITEMS})
        snapshot[f"{prefix}-instrument"] = lock["instrument"]
        snapshot[f"present-{lock['participant_id']}"] = "1"
        _save_draft(lock["token"], lock["episode_id"], snapshot)
    session_store.change_tablet_lock({**lock, "step": "return"})
    return redirect(url_for("cases.tablet"))


@bp.route("/tablet/return", methods=["POST"])
@login_required
@requires(CASE_ROLES)
def tablet_return():
    """The therapist takes the device back with their password; the session form opens with the values."""
    lock = locked()
    if lock is None:
        return redirect(url_for("cases.caseload"))
    staff = current_user._get_current_object()
    # The same counters as the login's (fitapp.auth.throttle), per account and address: new sessions
    # and replayed cookies gain no guesses.
    account = throttle.account_of(staff.username)
    refusal = throttle.refusal(throttle.PASSWORD, account)
    if refusal is not None:
        response = _return_page(refusal.message(), 429)
        response.headers.update(refusal.headers())
        return response
    if not verify_password(staff.password_hash, request.form.get("password") or ""):
        failures = session_store.count_tablet_failure()
        record("tablet_return_failed", object_type="episode", object_id=lock["episode_id"],
               unit_id=lock.get("unit_id"))
        db.session.commit()
        throttle.failed(throttle.PASSWORD, account)
        if failures >= MAX_FAILED_RETURNS:
            # Someone keeps guessing: end the therapist's session altogether.
            record("logout", object_type="staff", object_id=staff.id)
            db.session.commit()
            sessions.end_session()  # the row goes, with the lock and the drafts: its cookie names nothing
            return redirect(url_for("auth.login"))
        return _return_page(_("Wrong password. The device stays locked."), 422)
    session_store.clear_tablet_lock()
    if lock.get("lang"):
        session["lang"] = lock["lang"]
    else:
        session.pop("lang", None)
    record("tablet_return", object_type="episode", object_id=lock["episode_id"], unit_id=lock.get("unit_id"))
    db.session.commit()
    throttle.succeeded(throttle.PASSWORD, account)
    return redirect(url_for("cases.new_session", episode_id=lock["episode_id"], draft=lock["token"]))


def _scale_title(scale: str) -> str:
    # Neutral wording: the licensed forms' own words are the organisation's to enter.
    if scale == "outcome":
        return _("How have things been for you lately?")
    return _("How was today's meeting?")


def _item_value(text: str | None) -> Decimal | None:
    try:
        return parse_item(text or "")
    except InvalidValue:
        return None
