"""Separation of duties (issue 12 item 2): a clinical access takes effect only when someone other
than the administrator who made it confirms it.

A membership an administrator adds (a new account's, a move's, a new one), and every running
membership of an account whose role or password an administrator changed, is *pending*: the one
access rule (fitapp.cases.access, through ``UnitMembership.grants_access_on``) grants nothing from it.
Who confirms:

- a unit head of the membership's unit, whose own membership there is confirmed and in force today,
  and who is not the person the membership is for;
- for a unit without such a unit head, an administrator other than the one whose change made it
  pending (``requested_by``);
- on the command line (``flask confirm-access``), audited with the actor "cli", to start a unit
  nobody heads yet.

Refusing removes the pending membership. Both are audited (``confirm_membership``,
``refuse_membership``) with the unit, ids only.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from fitapp.audit import record
from fitapp.extensions import db
from fitapp.models import Staff, UnitMembership
from fitapp.models._types import utcnow
from fitapp.models.staff import membership_grants_access

CLI_ACTOR = "cli"

# Why an actor may not confirm (codes; the page words them).
NOT_PENDING = "not_pending"
ENDED = "ended"
OWN_ACCESS = "own_access"
OWN_CHANGE = "own_change"
NOT_THEIR_UNIT = "not_their_unit"
UNIT_HAS_HEAD = "unit_has_head"
NOT_A_CONFIRMER = "not_a_confirmer"

_ENGLISH = {
    NOT_PENDING: "The access is not waiting for confirmation.",
    ENDED: "The membership has ended.",
    OWN_ACCESS: "Nobody confirms their own access.",
    OWN_CHANGE: "An administrator cannot confirm their own change: another administrator must.",
    NOT_THEIR_UNIT: "Only a unit head of the unit confirms its accesses.",
    UNIT_HAS_HEAD: "The unit has a unit head, who confirms its accesses.",
    NOT_A_CONFIRMER: "Only unit heads and administrators confirm accesses.",
}


class ConfirmationRefused(Exception):
    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(_ENGLISH[problem])


def _is_open(membership: UnitMembership, today: date) -> bool:
    return membership.valid_to is None or membership.valid_to >= today


def unit_head_ids(unit_id: int, today: date) -> set[int]:
    """The enabled unit heads whose confirmed membership of ``unit_id`` is in force on ``today``."""
    return set(db.session.scalars(
        select(Staff.id).join(UnitMembership, UnitMembership.staff_id == Staff.id)
        .where(UnitMembership.unit_id == unit_id, membership_grants_access(UnitMembership, today),
               Staff.role == "unit_head", Staff.is_enabled)))


def refusal(actor: Staff, membership: UnitMembership, today: date) -> str | None:
    """Why ``actor`` may not confirm (or refuse) ``membership`` on ``today``, as a code; None: they may."""
    if membership.is_confirmed:
        return NOT_PENDING
    if not _is_open(membership, today):
        return ENDED
    if membership.staff_id == actor.id:
        return OWN_ACCESS
    heads = unit_head_ids(membership.unit_id, today) - {membership.staff_id}
    if actor.role == "unit_head":
        return None if actor.id in heads else NOT_THEIR_UNIT
    if actor.role == "admin":
        if heads:
            return UNIT_HAS_HEAD
        return OWN_CHANGE if membership.requested_by_id == actor.id else None
    return NOT_A_CONFIRMER


@dataclass(frozen=True)
class Pending:
    """A membership waiting for ``actor``'s confirmation (names and units only, never a case)."""

    membership: UnitMembership

    @property
    def staff(self) -> Staff:
        return self.membership.staff


def _pending_memberships(today: date) -> list[UnitMembership]:
    return list(db.session.scalars(
        select(UnitMembership)
        .options(selectinload(UnitMembership.staff), selectinload(UnitMembership.unit),
                 selectinload(UnitMembership.requested_by))
        .where(UnitMembership.confirmed_at.is_(None),
               (UnitMembership.valid_to.is_(None)) | (UnitMembership.valid_to >= today))
        .order_by(UnitMembership.unit_id, UnitMembership.id)))


def pending_for(actor: Staff, today: date) -> list[Pending]:
    """The pending memberships ``actor`` may confirm today: a unit head's units', or for an
    administrator those of units without a unit head that another administrator's change made."""
    if actor.role not in ("unit_head", "admin"):
        return []
    if actor.role == "unit_head" and not actor.unit_ids_on(today):
        return []
    return [Pending(m) for m in _pending_memberships(today) if refusal(actor, m, today) is None]


def pending_count(actor: Staff, today: date) -> int:
    return len(pending_for(actor, today))


def _checked(actor: Staff, membership: UnitMembership, today: date) -> None:
    problem = refusal(actor, membership, today)
    if problem is not None:
        raise ConfirmationRefused(problem)


def confirm(membership: UnitMembership, actor: Staff, today: date) -> UnitMembership:
    """``actor`` confirms ``membership``: from now on it grants what its dates say. Audited."""
    _checked(actor, membership, today)
    _mark_confirmed(membership, actor)
    record("confirm_membership", object_type="unit_membership", object_id=membership.id,
           unit_id=membership.unit_id)
    db.session.commit()
    return membership


def refuse(membership: UnitMembership, actor: Staff, today: date) -> None:
    """``actor`` refuses ``membership``: it is removed, having never granted anything. Audited."""
    _checked(actor, membership, today)
    record("refuse_membership", object_type="unit_membership", object_id=membership.id,
           unit_id=membership.unit_id)
    db.session.delete(membership)
    db.session.commit()


def _mark_confirmed(membership: UnitMembership, actor: Staff | None) -> None:
    membership.confirmed_at = utcnow()
    membership.confirmed_by_id = actor.id if actor is not None else None
    membership.pending_reason = None


def confirm_on_command_line(staff: Staff, today: date, unit_code: str | None = None) -> list[UnitMembership]:
    """Confirm every pending, not ended membership of ``staff`` (of one unit, when given), audited
    with the actor "cli": how a unit that nobody heads yet gets its first unit head."""
    confirmed = [m for m in staff.memberships if not m.is_confirmed and _is_open(m, today)
                 and (unit_code is None or m.unit.code == unit_code)]
    for membership in confirmed:
        _mark_confirmed(membership, None)
        record("confirm_membership", object_type="unit_membership", object_id=membership.id,
               unit_id=membership.unit_id, actor_name=CLI_ACTOR)
    db.session.commit()
    return confirmed


def require_confirmation_again(staff: Staff, reason: str, actor: Staff | None, today: date) -> list[UnitMembership]:
    """Make every confirmed membership of ``staff`` that is not over before ``today`` pending again
    (the administrator changed the account's role or password); the caller audits and commits."""
    again = [m for m in staff.memberships if m.is_confirmed and _is_open(m, today)]
    for membership in again:
        membership.confirmed_at = None
        membership.confirmed_by_id = None
        membership.requested_by_id = actor.id if actor is not None else None
        membership.pending_reason = reason
    return again
