"""Checking a login name and password, and the audit events of logging in and out."""
from functools import lru_cache

from fitapp.audit import record
from fitapp.auth.passwords import hash_password, needs_rehash, verify_password
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
    record("logout", object_type="staff", object_id=staff.id, actor_id=staff.id, actor_name=staff.username)
    db.session.commit()
