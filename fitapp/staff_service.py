"""Staff accounts: creation with a hashed password and unit memberships."""
from datetime import date

from sqlalchemy import select

from fitapp.auth.password_policy import ENGLISH_MESSAGES, password_problems
from fitapp.auth.passwords import hash_password
from fitapp.auth.sessions import end_all_sessions
from fitapp.audit import record
from fitapp.extensions import db
from fitapp.models import Staff, Unit, UnitMembership
from fitapp.models.staff import ROLES


class StaffError(ValueError):
    pass


def password_problem(password: str, username: str | None = None) -> str | None:
    """The first reason the password policy refuses ``password``, in English (CLI), or None."""
    problems = password_problems(password, username)
    return ENGLISH_MESSAGES[problems[0]] if problems else None


def disable_staff(staff: Staff) -> None:
    """Disable an account; every session it has ends at its next request."""
    staff.is_enabled = False
    end_all_sessions(staff)
    record("disable_staff", object_type="staff", object_id=staff.id)
    db.session.commit()


def create_staff(username: str, *, role: str, unit_codes: list[str], password: str | None,
                 valid_from: date | None = None) -> Staff:
    """Create an account; password None makes one that cannot log in until a password is set."""
    username = username.strip()
    if not username:
        raise StaffError("A login name is required.")
    if role not in ROLES:
        raise StaffError(f"Unknown role {role!r}.")
    if db.session.scalar(select(Staff).where(Staff.username == username)) is not None:
        raise StaffError(f"The login name {username!r} is taken.")
    if password is not None and (problem := password_problem(password, username)):
        raise StaffError(problem)
    units = []
    for code in unit_codes:
        unit = db.session.scalar(select(Unit).where(Unit.code == code))
        if unit is None:
            raise StaffError(f"Unknown unit {code!r}.")
        units.append(unit)
    staff = Staff(username=username, role=role, password_hash=hash_password(password) if password else None)
    db.session.add(staff)
    for unit in units:
        staff.memberships.append(UnitMembership(unit=unit, valid_from=valid_from or date.today()))
    db.session.commit()
    return staff
