"""Staff accounts as the administrator manages them: accounts, roles, sign-in, report scope, unit memberships.

Each change is one transaction with its audit event (ids and action only).
Input is checked before anything is written; a refusal raises
:class:`fitapp.admin.formkit.Refused`. The administrator sees counts of open
cases, never a case. Changes that alter what an account may do or how it logs
in (role, password, second factor, disabling) end every session of the account.

Moving a therapist to another unit ends the current membership the day before
the move and starts the new one; their open cases in the old unit go, at once,
to a therapist of that unit chosen by the administrator. Cases stay in their
unit: person-level data never crosses a district boundary.

Separation of duties (issue 12 item 2): no change made here opens a case by itself. A new membership
(added or by a move) and the running memberships of an account whose role changes to a case role
or whose password is reset wait for a unit head's confirmation (fitapp.access_confirmation); a reset
password must be changed by its user at the next login. Administrator accounts are made on the
command line only: the page neither creates one, nor gives one a case role or a unit, nor turns an
account into one.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from fitapp import staff_service
from fitapp.access_confirmation import require_confirmation_again
from fitapp.admin.formkit import Refused, name_message
from fitapp.audit import record
from fitapp.auth.password_policy import CONTAINS_USERNAME
from fitapp.auth.routes import POLICY_MESSAGES
from fitapp.auth.sessions import end_all_sessions
from fitapp.cases.changes import assign_therapist, unit_therapists
from fitapp.extensions import db
from fitapp.models import District, Episode, Staff, Team, Unit, UnitMembership
from fitapp.models.staff import ROLES, membership_in_another_district
from fitapp.permissions import CASE_ROLES
from fitapp.names import USERNAME_MAX
from fitapp.organisation_time import organisation_today
from fitapp.staff_service import StaffError, disable_staff

# The administrator sets someone else's password: "the username", not "your username".
PASSWORD_MESSAGES = {**POLICY_MESSAGES, CONTAINS_USERNAME: _l("The password must not contain the username.")}


@dataclass(frozen=True)
class StaffRow:
    staff: Staff
    memberships_today: list[UnitMembership]
    open_cases: int


def staff_overview(today: date) -> list[StaffRow]:
    """Every account with its memberships today and the number of open cases it holds."""
    open_cases = dict(db.session.execute(
        select(Episode.therapist_id, func.count()).where(Episode.end_date.is_(None))
        .group_by(Episode.therapist_id)).all())
    accounts = db.session.scalars(
        select(Staff).options(selectinload(Staff.memberships).selectinload(UnitMembership.unit))
        .order_by(Staff.username))
    return [StaffRow(s, [m for m in s.memberships if m.covers(today)], open_cases.get(s.id, 0)) for s in accounts]


def open_cases_by_unit(staff: Staff) -> dict[int, int]:
    """Unit id -> how many open cases ``staff`` holds there (counts only)."""
    return dict(db.session.execute(
        select(Episode.unit_id, func.count()).where(Episode.therapist_id == staff.id, Episode.end_date.is_(None))
        .group_by(Episode.unit_id)).all())


def _open_cases_in(staff: Staff, unit_id: int) -> list[Episode]:
    return list(db.session.scalars(
        select(Episode).where(Episode.therapist_id == staff.id, Episode.unit_id == unit_id,
                              Episode.end_date.is_(None)).order_by(Episode.id)))


def _not_self(staff: Staff, actor: Staff, field: str) -> None:
    if staff.id == actor.id:
        raise Refused(field, _("You cannot do this to your own account."))


def _required_date(value: date | None, field: str) -> date:
    if value is None:
        raise Refused(field, _("Enter a date (YYYY-MM-DD)."))
    return value


# ---------------------------------------------------------------- accounts


def _refused(error: StaffError) -> Refused:
    """The staff service's refusal, worded for the page in the user's language."""
    if error.field == "username" and error.problem == staff_service.TAKEN:
        return Refused("username", _("The username %(name)s is taken.", name=error.params["name"]))
    if error.field == "username":
        return Refused("username", name_message(error.problem, USERNAME_MAX, username=True))
    if error.field == "password" and error.problem in PASSWORD_MESSAGES:
        return Refused("password", str(PASSWORD_MESSAGES[error.problem]))
    messages = {staff_service.NO_PASSWORD: _("Fill in this field."),
                staff_service.PASSWORDS_DIFFER: _("The passwords are not the same."),
                staff_service.UNKNOWN_ROLE: _("Choose one of the options."),
                staff_service.ADMIN_BY_COMMAND_ONLY: _admin_by_command_only()}
    return Refused(error.field, messages.get(error.problem, str(error)))


def _admin_by_command_only() -> str:
    return _("Administrator accounts are created on the command line only (flask create-staff --role admin), "
             "and administrators have no clinical role.")


def _refuse_admin_account(staff: Staff, field: str) -> None:
    if staff.role == "admin":
        raise Refused(field, _("An administrator has no clinical role and belongs to no unit."))


def create_account(username: str | None, role: str | None, password: str | None, confirm: str | None,
                   actor: Staff) -> Staff:
    """A new enabled account without units; it logs in with the initial password.

    The same service, checks and audit event as ``flask create-staff`` (fitapp.staff_service).
    """
    try:
        return staff_service.create_staff(username, role=role, password=password or "", confirm=confirm,
                                          confirmed=True, actor=actor)
    except StaffError as error:
        raise _refused(error) from None


def change_role(staff: Staff, role: str | None, actor: Staff) -> Staff:
    """A therapist holding open cases keeps the role until the cases are handed over."""
    _not_self(staff, actor, "role")
    if role not in ROLES:
        raise Refused("role", _("Choose one of the options."))
    if role == staff.role:
        return staff
    if role == "admin":
        raise Refused("role", _admin_by_command_only())
    _refuse_admin_account(staff, "role")
    open_cases = sum(open_cases_by_unit(staff).values())
    if staff.role == "therapist" and open_cases:
        raise Refused("role", _("%(name)s holds %(n)s open cases: they must be reassigned first.",
                                name=staff.username, n=open_cases))
    staff.role = role
    if role != "quality":
        staff.scope_district_id = None
    if role in CASE_ROLES:
        # A new case role reaches cases only once a unit head has confirmed it.
        require_confirmation_again(staff, "new_role", actor, organisation_today())
    end_all_sessions(staff)
    record("admin_change_role", object_type="staff", object_id=staff.id)
    db.session.commit()
    return staff


def disable(staff: Staff, actor: Staff) -> Staff:
    """Disable the account and end its sessions at once (its open cases stay for the unit head to reassign)."""
    _not_self(staff, actor, "account")
    disable_staff(staff)
    return staff


def enable(staff: Staff) -> Staff:
    staff.is_enabled = True
    record("admin_enable_staff", object_type="staff", object_id=staff.id)
    db.session.commit()
    return staff


def set_password(staff: Staff, password: str | None, confirm: str | None, actor: Staff) -> Staff:
    """An administrator's reset (fitapp.staff_service.reset_password): the user must choose a new password
    at the next login, and the account's case access waits for a unit head's confirmation again.

    Not for an administrator's account: one administrator who could set another's password could log in
    as the second administrator and confirm its own change; that is done on the command line."""
    if staff.role == "admin":
        raise Refused("password", _("An administrator's password is set on the command line only "
                                    "(flask set-password)."))
    try:
        password = staff_service.checked_password(password, staff.username, confirm, confirmed=True)
    except StaffError as error:
        raise _refused(error) from None
    return staff_service.reset_password(staff, password, actor=actor)


def reset_second_factor(staff: Staff) -> Staff:
    """Forget the TOTP secret and end every session: the user enrols again at the next login."""
    staff.totp_secret = None
    staff.totp_last_step = None
    end_all_sessions(staff)
    record("admin_reset_second_factor", object_type="staff", object_id=staff.id)
    db.session.commit()
    return staff


def set_report_scope(staff: Staff, district_id: int | None) -> Staff:
    """A quality group's district (its units' reports only), or None for the whole city."""
    if staff.role != "quality":
        raise Refused("district", _("Only quality group accounts have a report scope."))
    if district_id is not None and db.session.get(District, district_id) is None:
        raise Refused("district", _("Choose one of the options."))
    staff.scope_district_id = district_id
    record("admin_set_report_scope", object_type="staff", object_id=staff.id)
    db.session.commit()
    return staff


# ---------------------------------------------------------------- unit memberships


def _unit_and_team(unit_id: int | None, team_id: int | None) -> tuple[Unit, Team | None]:
    unit = db.session.get(Unit, unit_id) if unit_id is not None else None
    if unit is None:
        raise Refused("unit", _("Choose one of the options."))
    team = db.session.get(Team, team_id) if team_id is not None else None
    if team_id is not None and (team is None or team.unit_id != unit.id):
        raise Refused("team", _("The team is not a team of %(unit)s.", unit=unit.name))
    return unit, team


def _refuse_overlap(staff: Staff, unit: Unit, valid_from: date, field: str) -> None:
    if any(m.unit_id == unit.id and (m.valid_to is None or m.valid_to >= valid_from) for m in staff.memberships):
        raise Refused(field, _("%(name)s already belongs to %(unit)s on or after that date.",
                               name=staff.username, unit=unit.name))


def _refuse_another_district(staff: Staff, unit: Unit, valid_from: date, field: str,
                             ignoring: UnitMembership | None = None) -> None:
    # One district at a time (OSL 8 kap.): a membership in a unit of another district that is still
    # running on or after ``valid_from`` must end first (a move ends it the day before).
    clash = membership_in_another_district(staff, unit.district_id, valid_from, ignoring=ignoring)
    if clash is not None:
        raise Refused(field, _("%(name)s belongs to %(unit)s (%(district)s) on or after that date, and nobody "
                               "belongs to units of two districts at the same time. End that membership first, "
                               "or move %(name)s.", name=staff.username, unit=clash.unit.name,
                               district=clash.unit.district.name))


def add_membership(staff: Staff, unit_id: int | None, team_id: int | None, valid_from: date | None,
                   actor: Staff) -> UnitMembership:
    """A new membership, pending until a unit head of the unit (or a second administrator) confirms it."""
    _refuse_admin_account(staff, "unit")
    unit, team = _unit_and_team(unit_id, team_id)
    valid_from = _required_date(valid_from, "valid_from")
    _refuse_overlap(staff, unit, valid_from, "valid_from")
    _refuse_another_district(staff, unit, valid_from, "valid_from")
    membership = staff_service.pending_membership(staff, unit, valid_from, actor, team.id if team else None)
    db.session.add(membership)
    db.session.flush()
    record("admin_add_membership", object_type="unit_membership", object_id=membership.id, unit_id=unit.id)
    db.session.commit()
    return membership


def _refuse_ended(membership: UnitMembership, field: str) -> None:
    if membership.valid_to is not None:
        raise Refused(field, _("This membership has already ended."))


def end_membership(membership: UnitMembership, valid_to: date | None) -> UnitMembership:
    """End an open membership; refused while the person holds open cases in the unit (they would lose them)."""
    _refuse_ended(membership, "valid_to")
    valid_to = _required_date(valid_to, "valid_to")
    if valid_to < membership.valid_from:
        raise Refused("valid_to", _("The end date cannot be before the start date (%(day)s).",
                                    day=membership.valid_from.isoformat()))
    open_cases = len(_open_cases_in(membership.staff, membership.unit_id))
    if open_cases:
        raise Refused("valid_to", _("%(name)s holds %(n)s open cases in this unit: move them to another unit "
                                    "(the cases are handed over) or have the cases reassigned first.",
                                    name=membership.staff.username, n=open_cases))
    membership.valid_to = valid_to
    record("admin_end_membership", object_type="unit_membership", object_id=membership.id,
           unit_id=membership.unit_id)
    db.session.commit()
    return membership


@dataclass(frozen=True)
class MovePlan:
    """What moving away from ``membership`` involves: open cases to hand over and who may take them."""

    membership: UnitMembership
    open_cases: int
    receivers: list[Staff]


def move_plan(membership: UnitMembership, today: date) -> MovePlan:
    return MovePlan(membership, len(_open_cases_in(membership.staff, membership.unit_id)),
                    _receivers(membership, today))


def _receivers(membership: UnitMembership, today: date) -> list[Staff]:
    """The other therapists of the membership's unit today: those who may take over its open cases."""
    return [t for t in unit_therapists(membership.unit_id, today) if t.id != membership.staff_id]


def move_staff(membership: UnitMembership, *, unit_id: int | None, team_id: int | None, move_date: date | None,
               receiver_id: int | None, today: date, actor: Staff) -> UnitMembership:
    """End ``membership`` the day before ``move_date``, start one (pending) in the new unit, hand over the open cases.

    Every open case of the person in the old unit gets ``receiver_id`` (a
    therapist of the old unit today) as therapist; closed cases and the old
    membership stay as they are (history). Refused, with nothing changed,
    when there are open cases and nobody in the old unit to take them.
    """
    staff, old_unit = membership.staff, membership.unit
    _refuse_ended(membership, "move_date")
    unit, team = _unit_and_team(unit_id, team_id)
    if unit.id == old_unit.id:
        raise Refused("unit", _("Choose another unit than %(unit)s.", unit=old_unit.name))
    move_date = _required_date(move_date, "move_date")
    if move_date <= membership.valid_from:
        raise Refused("move_date", _("The move must come after the start of the current membership (%(day)s).",
                                     day=membership.valid_from.isoformat()))
    _refuse_overlap(staff, unit, move_date, "move_date")
    _refuse_another_district(staff, unit, move_date, "move_date", ignoring=membership)
    cases = _open_cases_in(staff, old_unit.id)
    receiver = None
    if cases:
        receivers = _receivers(membership, today)
        if not receivers:
            raise Refused("receiver", _(
                "%(name)s holds %(n)s open cases in %(unit)s and no other therapist belongs to the unit: "
                "the cases would have nobody. Add a therapist to the unit first.",
                name=staff.username, n=len(cases), unit=old_unit.name))
        receiver = next((t for t in receivers if t.id == receiver_id), None)
        if receiver is None:
            raise Refused("receiver", _("Choose the therapist of %(unit)s who takes over the open cases.",
                                        unit=old_unit.name))
    membership.valid_to = move_date - timedelta(days=1)
    # The new unit's head confirms the newcomer (fitapp.access_confirmation).
    new = staff_service.pending_membership(staff, unit, move_date, actor, team.id if team else None)
    db.session.add(new)
    db.session.flush()
    for episode in cases:
        assign_therapist(episode, receiver.id)
    record("admin_end_membership", object_type="unit_membership", object_id=membership.id, unit_id=old_unit.id)
    record("admin_move_staff", object_type="unit_membership", object_id=new.id, unit_id=unit.id)
    db.session.commit()
    return new
