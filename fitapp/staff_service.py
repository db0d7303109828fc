"""Staff accounts: the one service that creates them, for the administration page and ``flask create-staff``.

Both go through :func:`create_staff`, with the same checks (the login name's
shape and no identity number, fitapp.names; unique without regard to case;
a known role; the password policy; known units of one district) and the same
audit events (``admin_create_staff``, and ``admin_add_membership`` per unit),
so the command line is no way around the page (issue 12, item 8). An event
from the command line has the actor name ``cli``.

Separation of duties (issue 12, item 2): the memberships it makes are pending until a unit head of
the unit (or, for a unit without one, a second administrator) confirms them
(fitapp.access_confirmation); administrator accounts are made on the command line only and belong
to no unit.

A refusal is a :class:`StaffError` naming the input it concerns and the
problem as a code: its ``str()`` is the English message (command line); the
administration words it in the user's language (fitapp.admin.staff_admin).
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from fitapp import names
from fitapp.access_confirmation import require_confirmation_again
from fitapp.audit import record
from fitapp.auth.password_policy import ENGLISH_MESSAGES, password_problems
from fitapp.auth.passwords import hash_password
from fitapp.auth.sessions import end_all_sessions
from fitapp.extensions import db
from fitapp.organisation_time import organisation_today
from fitapp.models import Staff, Unit, UnitMembership
from fitapp.models._types import utcnow
from fitapp.models.staff import ROLES
from fitapp.permissions import CASE_ROLES

# The actor of audit events written by a command (no one is logged in), as fitapp.retention writes it.
CLI_ACTOR = "cli"

# Problems that are not the name rules' (fitapp.names) or the password policy's.
TAKEN = "taken"
UNKNOWN_ROLE = "unknown_role"
NO_PASSWORD = "no_password"
PASSWORDS_DIFFER = "passwords_differ"
UNKNOWN_UNIT = "unknown_unit"
TWO_DISTRICTS = "two_districts"
ADMIN_BY_COMMAND_ONLY = "admin_by_command_only"
ADMIN_WITHOUT_UNITS = "admin_without_units"

_ENGLISH = {
    UNKNOWN_ROLE: "Unknown role {role!r}.",
    NO_PASSWORD: "A password is required.",
    PASSWORDS_DIFFER: "The passwords are not the same.",
    UNKNOWN_UNIT: "Unknown unit {code!r}.",
    TWO_DISTRICTS: "The units {codes} belong to different districts; nobody belongs to units of two districts.",
    ADMIN_BY_COMMAND_ONLY: "Administrator accounts are created on the command line only (flask create-staff --role admin).",
    ADMIN_WITHOUT_UNITS: "An administrator has no clinical role and belongs to no unit.",
}


class StaffError(ValueError):
    """A refused account change. ``field``: the input ("username", "role", "password", "confirm", "unit");
    ``problem``: why, as a code of fitapp.names, the password policy or this module; ``params``: for the message."""

    def __init__(self, field: str, problem: str, **params) -> None:
        self.field = field
        self.problem = problem
        self.params = params
        super().__init__(english_message(field, problem, params))


def english_message(field: str, problem: str, params: dict) -> str:
    if field == "username" and problem in names.ENGLISH_MESSAGES:
        return f"The login name {names.english(problem, names.USERNAME_MAX)}."
    if field == "password" and problem in ENGLISH_MESSAGES:
        return ENGLISH_MESSAGES[problem]
    if problem == TAKEN:
        name, holder = params["name"], params["holder"]
        also = "" if holder == name else f" (as {holder!r}: login names are unique without regard to case)"
        return f"The login name {name!r} is taken{also}."
    return _ENGLISH[problem].format(**params)


def password_problem(password: str, username: str | None = None) -> str | None:
    """The first reason the password policy refuses ``password``, in English (CLI), or None."""
    problems = password_problems(password, username)
    return ENGLISH_MESSAGES[problems[0]] if problems else None


def checked_username(username: str | None) -> str:
    """``username`` stripped, or StaffError: the name rules (fitapp.names), then unique without regard to case."""
    name = (username or "").strip()
    problem = names.username_problem(name)
    if problem is not None:
        raise StaffError("username", problem)
    holder = db.session.scalar(select(Staff.username).where(func.lower(Staff.username) == name.lower()).limit(1))
    if holder is not None:
        raise StaffError("username", TAKEN, name=name, holder=holder)
    return name


def checked_password(password: str | None, username: str, confirm: str | None = None, *,
                     confirmed: bool = False) -> str:
    """``password`` if the policy accepts it; ``confirmed``: ``confirm`` (typed again) must be the same."""
    if not password:
        raise StaffError("password", NO_PASSWORD)
    problems = password_problems(password, username)
    if problems:
        raise StaffError("password", problems[0])
    if confirmed and password != confirm:
        raise StaffError("confirm", PASSWORDS_DIFFER)
    return password


def _units(unit_codes: Sequence[str]) -> list[Unit]:
    units = []
    for code in dict.fromkeys(unit_codes):
        unit = db.session.scalar(select(Unit).where(Unit.code == code))
        if unit is None:
            raise StaffError("unit", UNKNOWN_UNIT, code=code)
        units.append(unit)
    if len({unit.district_id for unit in units}) > 1:
        # Each district is its own authority (OSL 8 kap.).
        raise StaffError("unit", TWO_DISTRICTS, codes=", ".join(unit.code for unit in units))
    return units


def _actor(actor: Staff | None) -> dict:
    return {"actor_id": actor.id, "actor_name": actor.username} if actor is not None else {"actor_name": CLI_ACTOR}


def create_staff(username: str | None, *, role: str | None, password: str | None, unit_codes: Sequence[str] = (),
                 confirm: str | None = None, confirmed: bool = False, valid_from: date | None = None,
                 actor: Staff | None = None) -> Staff:
    """Create an enabled account, with a pending membership from ``valid_from`` (default today) in each unit given.

    ``actor``: the administrator creating it, or None for the command line (audited as "cli").
    ``password`` None makes an account that cannot log in until a password is set; the
    administration always gives one, typed twice (``confirmed``). Nothing is written when
    any check fails.
    """
    name = checked_username(username)
    if role not in ROLES:
        raise StaffError("role", UNKNOWN_ROLE, role=role)
    if role == "admin" and actor is not None:
        raise StaffError("role", ADMIN_BY_COMMAND_ONLY)
    if role == "admin" and unit_codes:
        raise StaffError("unit", ADMIN_WITHOUT_UNITS)
    if password is not None or confirmed:
        password = checked_password(password, name, confirm, confirmed=confirmed)
    units = _units(unit_codes)
    staff = Staff(username=name, role=role, is_enabled=True,
                  password_hash=hash_password(password) if password else None)
    db.session.add(staff)
    try:
        db.session.flush()
    except IntegrityError:  # the same name created at the same moment
        db.session.rollback()
        raise StaffError("username", TAKEN, name=name, holder=name) from None
    who = _actor(actor)
    record("admin_create_staff", object_type="staff", object_id=staff.id, **who)
    for unit in units:
        membership = pending_membership(staff, unit, valid_from or organisation_today(), actor)
        db.session.add(membership)
        db.session.flush()
        record("admin_add_membership", object_type="unit_membership", object_id=membership.id, unit_id=unit.id,
               **who)
    db.session.commit()
    return staff


def pending_membership(staff: Staff, unit: Unit, valid_from: date, actor: Staff | None,
                       team_id: int | None = None) -> UnitMembership:
    """A new membership, waiting for confirmation (fitapp.access_confirmation); the caller flushes and audits."""
    return UnitMembership(staff=staff, unit=unit, team_id=team_id, valid_from=valid_from,
                          requested_by_id=actor.id if actor is not None else None, pending_reason="new_membership")


def reset_password(staff: Staff, password: str, *, actor: Staff | None = None) -> Staff:
    """Set ``staff``'s password for them (the administration, or ``flask set-password``: ``actor`` None),
    after the policy was checked. Its user must choose a new one at the next login and is told who reset
    it; a case role's running memberships wait for a unit head's confirmation again
    (fitapp.access_confirmation), so whoever reset it reaches no case through it. Ends every session."""
    staff.password_hash = hash_password(password)
    staff.must_change_password = True
    staff.password_reset_at = utcnow()
    staff.password_reset_by_id = actor.id if actor is not None else None
    if staff.role in CASE_ROLES:
        require_confirmation_again(staff, "password_reset", actor, organisation_today())
    end_all_sessions(staff)
    record("admin_set_password", object_type="staff", object_id=staff.id, **_actor(actor))
    db.session.commit()
    return staff


def disable_staff(staff: Staff) -> None:
    """Disable an account; every session it has ends at its next request."""
    staff.is_enabled = False
    end_all_sessions(staff)
    record("disable_staff", object_type="staff", object_id=staff.id)
    db.session.commit()
