"""Staff accounts: creation with a hashed password and unit memberships."""
from datetime import date

from sqlalchemy import select

from fitapp.auth.passwords import MIN_LENGTH, hash_password
from fitapp.extensions import db
from fitapp.models import Staff, Unit, UnitMembership
from fitapp.models.staff import ROLES


class StaffError(ValueError):
    pass


def password_problem(password: str) -> str | None:
    if len(password) < MIN_LENGTH:
        return f"The password must have at least {MIN_LENGTH} characters."
    return None


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
    if password is not None and (problem := password_problem(password)):
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
