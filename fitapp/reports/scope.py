"""Who may see which units' reports: the one place report access is decided.

Unit heads see the units they belong to today (their current
UnitMembership); a quality group sees the units of its district
(Staff.scope_district_id, set by the administrator) or, without one, the whole city. Therapists and
administrators see no reports (403): SRS is feedback to the therapist, not a
ranking, and administrators have no access to clinical data (domain.md).
The coarse role gate is ``@requires`` (fitapp.permissions) on each view; this
function decides the units.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from fitapp.extensions import db
from fitapp.models import Staff, Unit


def report_units(user: Staff, today: date) -> list[Unit] | None:
    """The units whose reports ``user`` may see, ordered by code; None when the role sees no reports."""
    if user.role == "unit_head":
        unit_ids = user.unit_ids_on(today)
        if not unit_ids:
            return []
        return list(db.session.scalars(select(Unit).where(Unit.id.in_(sorted(unit_ids))).order_by(Unit.code)))
    if user.role == "quality":
        # scope_district_id: the quality group's district; NULL means the whole city.
        in_scope = () if user.scope_district_id is None else (Unit.district_id == user.scope_district_id,)
        return list(db.session.scalars(select(Unit).where(*in_scope).order_by(Unit.code)))
    return None
