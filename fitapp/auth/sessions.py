"""The logged-in session: started fresh at login, checked on every request, ended everywhere at once.

The session lives in the database (fitapp.session_store; the cookie holds only
its random id, which each of these three replaces). Besides Flask-Login's user id
it carries the account's session version and two timestamps; on every request
``check_session`` ends it when

- the account's ``session_version`` has moved on (logout, password change,
  second-factor enrolment or disabling end every session of the account),
- it has been idle longer than IDLE_TIMEOUT_MINUTES, or
- it is older than ABSOLUTE_TIMEOUT_HOURS, however active.

Between the password and the one-time code the session holds only a
"pending" login that expires after PENDING_SECONDS. The store itself refuses a
session past either limit when its cookie comes back (``record_ended_in_store``
audits that as ``check_session`` would).
"""
import time

from flask import current_app, session
from flask_login import login_user, logout_user

from fitapp import session_store
from fitapp.audit import record
from fitapp.extensions import db
from fitapp.models import Staff

# Kept across the new session that logging in or out starts: a preference, not a credential.
KEPT_KEYS = ("lang",)
VERSION = "_fitapp_sv"
STARTED = "_fitapp_t0"
LAST_SEEN = "_fitapp_ta"
SECOND_FACTOR = "_fitapp_mfa"
PENDING = "_fitapp_pending"
PENDING_SECONDS = 300

# Roles that must use the second factor: they cannot reach any other page until enrolled.
SECOND_FACTOR_REQUIRED = frozenset({"admin", "quality"})


def now() -> int:
    return int(time.time())


def _clear() -> None:
    """Nothing survives but the language, under a new session id (the old one names nothing)."""
    kept = {key: session[key] for key in KEPT_KEYS if key in session}
    session.clear()
    session.update(kept)
    session_store.rotate()


def session_fields(staff: Staff, *, second_factor: bool, at: int | None = None) -> dict:
    """The fields a fresh session of ``staff`` carries (besides Flask-Login's)."""
    at = now() if at is None else at
    return {VERSION: staff.session_version or 0, STARTED: at, LAST_SEEN: at, SECOND_FACTOR: second_factor}


def start_session(staff: Staff, *, second_factor: bool) -> None:
    """A new session for ``staff``: nothing from before login survives but the language."""
    _clear()
    login_user(staff)
    session.update(session_fields(staff, second_factor=second_factor))


def end_session() -> None:
    logout_user()
    _clear()


def end_all_sessions(staff: Staff) -> None:
    """Every session of ``staff``, on every device, ends at its next request."""
    staff.session_version = (staff.session_version or 0) + 1


def begin_pending_login(staff: Staff, next_path: str | None) -> None:
    """The password was right; the one-time code is still to come."""
    _clear()
    session[PENDING] = {"id": staff.id, "sv": staff.session_version or 0, "at": now(), "next": next_path}


def pending_login() -> tuple[Staff, str | None] | None:
    """The staff member half-way through logging in (and where to go after), if still valid."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or now() - int(pending.get("at", 0)) > PENDING_SECONDS:
        return None
    staff = db.session.get(Staff, pending.get("id"))
    if staff is None or not staff.is_active or (staff.session_version or 0) != pending.get("sv"):
        return None
    return staff, pending.get("next")


def check_session(staff: Staff) -> str | None:
    """Why the current session of ``staff`` must end ("revoked", "idle", "expired"), or None.

    Refreshes the idle timestamp when the session may continue.
    """
    config = current_app.config
    at = now()
    if session.get(VERSION) != (staff.session_version or 0):
        return "revoked"
    started, last_seen = session.get(STARTED), session.get(LAST_SEEN)
    if not isinstance(started, int) or not isinstance(last_seen, int):
        return "revoked"
    if at - started > config["ABSOLUTE_TIMEOUT_HOURS"] * 3600:
        return "expired"
    if at - last_seen > config["IDLE_TIMEOUT_MINUTES"] * 60:
        return "idle"
    session[LAST_SEEN] = at
    return None


def needs_second_factor(staff: Staff) -> bool:
    """True while a role that must use the second factor has not verified one in this session."""
    return staff.role in SECOND_FACTOR_REQUIRED and not session.get(SECOND_FACTOR)


def second_factor_verified() -> bool:
    return bool(session.get(SECOND_FACTOR))


def mark_second_factor(staff: Staff) -> None:
    """After enrolment in this session: keep it, with the account's new session version."""
    session[SECOND_FACTOR] = True
    session[VERSION] = staff.session_version or 0


def record_ended_in_store() -> bool:
    """Audit a session the store refused as past its limits (``session_idle``/``session_expired``).

    True when the request's cookie named such a session of a user (the caller tells them).
    """
    ended = session_store.ended_in_store()
    if ended is None:
        return False
    reason, user_id = ended
    staff = db.session.get(Staff, int(user_id)) if str(user_id).isdigit() else None
    if staff is None:
        return False
    record("session_" + reason, object_type="staff", object_id=staff.id, actor_id=staff.id,
           actor_name=staff.username)
    db.session.commit()
    return True
