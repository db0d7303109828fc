"""Target values (målvärden) per unit, year and indicator: read, set (audited) and judged."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from fitapp import audit
from fitapp.extensions import db
from fitapp.models import ReportTarget, Staff, Unit
from fitapp.models.reports import LOWER_IS_BETTER, TARGET_INDICATORS
from fitapp.reports.views import target_status


def targets_for(unit_id: int, year: int) -> dict[str, Decimal]:
    """indicator -> target (a share as 0..1, a mean as itself) of one unit and year."""
    records = db.session.scalars(
        select(ReportTarget).where(ReportTarget.unit_id == unit_id, ReportTarget.year == year)
    )
    return {record.indicator: record.target for record in records}


def set_targets(user: Staff, unit: Unit, year: int, targets: dict[str, int | None]) -> int:
    """Store the unit's targets for ``year`` (None removes one); audits each change; returns how many changed.

    The audit names the unit, the year and the indicator, never a figure of a child.
    """
    existing = {
        record.indicator: record
        for record in db.session.scalars(
            select(ReportTarget).where(ReportTarget.unit_id == unit.id, ReportTarget.year == year))
    }
    changed = 0
    for indicator in TARGET_INDICATORS:
        value = targets.get(indicator)
        record = existing.get(indicator)
        if value is None and record is None or record is not None and record.target_x10000 == value:
            continue
        if value is None:
            db.session.delete(record)
        elif record is None:
            db.session.add(ReportTarget(unit_id=unit.id, year=year, indicator=indicator, target_x10000=value,
                                        set_by_id=user.id))
        else:
            record.target_x10000 = value
            record.set_by_id = user.id
        audit.record("set_target", object_type="report_target", object_id=f"{unit.code}/{year}/{indicator}",
                     unit_id=unit.id)
        changed += 1
    db.session.commit()
    return changed


def judged(cells: dict[str, object], targets: dict[str, Decimal]) -> dict[str, tuple[Decimal, str]]:
    """indicator -> (target, status) for every indicator with a target."""
    return {
        indicator: (target, target_status(indicator, cells.get(indicator), target, LOWER_IS_BETTER))
        for indicator, target in targets.items()
    }
