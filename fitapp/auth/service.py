"""Checking credentials, changing them, and the audit events of logging in and out."""
from functools import lru_cache

from fitapp.audit import record
from fitapp.auth import totp
from fitapp.auth.password_policy import password_problems
from fitapp.auth.passwords import hash_password, needs_rehash, verify_password
from fitapp.auth.sessions import end_all_sessions
from fitapp.extensions import db
from fitapp.models import Staff
from fitapp.models.staff import staff_by_username


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Verified against when the login name is unknown, so both failures take as long.
    return hash_password("not a password of anyone")


def authenticate(username: str, password: str) -> Staff | None:
    """The staff member with these credentials if they may log in; audits a failure.

    Disabled accounts and accounts without a password are refused like a
    wrong password, with the same work done, so the answer reveals nothing.
    """
    staff = staff_by_username(username.strip())
    real_hash = staff.password_hash if staff is not None else None
    password_ok = verify_password(real_hash or _dummy_hash(), password) and real_hash is not None
    if staff is None or not password_ok or not staff.is_active:
        record("login_failed", object_type="staff", object_id=staff.id if staff else None)
        db.session.commit()
        return None
    if needs_rehash(staff.password_hash):
        staff.password_hash = hash_password(password)
    return staff


def record_login(staff: Staff) -> None:
    record("login", object_type="staff", object_id=staff.id, actor_id=staff.id, actor_name=staff.username)
    db.session.commit()


def record_logout(staff: Staff) -> None:
    """Logging out ends every session of the account, on every device."""
    end_all_sessions(staff)
    record("logout", object_type="staff", object_id=staff.id, actor_id=staff.id, actor_name=staff.username)
    db.session.commit()


def verify_second_factor(staff: Staff, code: str) -> bool:
    """The one-time code at login; a wrong or replayed code is audited."""
    if totp.verify_and_consume(staff, code):
        return True
    record("login_failed_code", object_type="staff", object_id=staff.id)
    db.session.commit()
    return False


def enrol_second_factor(staff: Staff, secret: str, code: str) -> bool:
    """Store ``secret`` once the user shows a code from it; ends the account's other sessions."""
    step = totp.matching_step(secret, code)
    if step is None:
        record("enrol_second_factor_failed", object_type="staff", object_id=staff.id)
        db.session.commit()
        return False
    staff.totp_secret = secret
    staff.totp_last_step = step
    end_all_sessions(staff)
    record("enrol_second_factor", object_type="staff", object_id=staff.id)
    db.session.commit()
    return True


SAME_AS_RESET = "same_as_reset"


def change_password(staff: Staff, current: str, new: str) -> list[str] | None:
    """None when changed (and every session of the account ended); else the reasons.

    Reasons are the codes of fitapp.auth.password_policy, "wrong_current", or "same_as_reset" (after an
    administrator's reset the new password must not be the one the administrator set).
    """
    if not verify_password(staff.password_hash, current):
        record("change_password_failed", object_type="staff", object_id=staff.id)
        db.session.commit()
        return ["wrong_current"]
    problems = password_problems(new, staff.username)
    if problems:
        return problems
    if staff.must_change_password and new == current:
        return [SAME_AS_RESET]
    staff.password_hash = hash_password(new)
    staff.must_change_password = False
    end_all_sessions(staff)
    record("change_password", object_type="staff", object_id=staff.id)
    db.session.commit()
    return None
