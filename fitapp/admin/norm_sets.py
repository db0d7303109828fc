"""Norm parameter sets (metrics.md §2): list, create (typed or computed by Jacobson & Truax), activate.

A stored set is never edited: reports and exports name the set whose cutoff
and RC they used by its key, so the same key must always mean the same values.
A new set is a new key.

Activating a set recomputes every stored series summary with it
(:func:`fitapp.reports.series_store.refresh_series`) in the same transaction:
readers see the old set with the old summaries until the commit, then the new
set with the new ones, never a mix that reports would refuse.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from fitapp.admin.formkit import Refused
from fitapp.audit import record
from fitapp.extensions import db
from fitapp.models import NormParameter, NormSetRecord, SeriesSummaryRecord
from fitapp.reports.series_store import RefreshResult, refresh_series
from fitapp.scoring.norms import NormRow, jacobson_truax_rows

KEY_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,39}")
MAX_THRESHOLD = Decimal(40)  # a total is at most 40.0 (metrics.md §1); the table allows no more


@dataclass(frozen=True)
class Sample:
    """Statistics of one instrument and age band from which a row is computed (metrics.md §2)."""

    instrument: str
    min_age: int | None
    max_age: int | None
    includes_unknown_age: bool
    m1: Decimal
    sd1: Decimal
    m0: Decimal
    sd0: Decimal
    r: Decimal


def norm_sets() -> list[NormSetRecord]:
    """Every stored set with its rows, the active one first."""
    return list(db.session.scalars(
        select(NormSetRecord).options(selectinload(NormSetRecord.parameters))
        .order_by(NormSetRecord.is_active.desc(), NormSetRecord.created_at, NormSetRecord.key)))


def norm_set_or_none(set_id: int) -> NormSetRecord | None:
    return db.session.get(NormSetRecord, set_id)


def computed_rows(samples: Iterable[Sample]) -> list[NormRow]:
    """Cutoff and RC of each sample by the Jacobson–Truax formulas (fitapp.scoring.norms)."""
    rows = []
    for index, s in enumerate(samples):
        row = jacobson_truax_rows(s.instrument, s.m1, s.sd1, s.m0, s.sd0, s.r, min_age=s.min_age,
                                  max_age=s.max_age, includes_unknown_age=s.includes_unknown_age)
        if row.cutoff > MAX_THRESHOLD or row.rc > MAX_THRESHOLD:
            raise Refused(f"rows-{index}-instrument", _("These values give a cutoff or RC above 40, the highest "
                                                        "possible total: check the sample statistics."))
        rows.append(row)
    return rows


def create_norm_set(key: str, name: str, source: str, rows: list[NormRow]) -> NormSetRecord:
    """Store a new, inactive set. ``rows`` come in the order the administrator gave them (form row i)."""
    key = key.strip()
    if not KEY_PATTERN.fullmatch(key):
        raise Refused("key", _("Use small letters, digits, '.', '-' and '_' (at most 40), e.g. pcoms-2003."))
    if db.session.scalar(select(NormSetRecord.id).where(func.lower(NormSetRecord.key) == key.lower())) is not None:
        raise Refused("key", _("There is already a norm set with the key %(key)s.", key=key))
    if not rows:
        raise Refused("rows-0-instrument", _("Give at least one row: instrument, age band, cutoff and RC."))
    _check_bands(rows)
    norm_set = NormSetRecord(key=key, name=name, source=source, is_active=False, parameters=[
        NormParameter(instrument=row.instrument, min_age=row.min_age, max_age=row.max_age,
                      includes_unknown_age=row.includes_unknown_age,
                      cutoff_x100=int(row.cutoff.scaleb(2)), rc_x100=int(row.rc.scaleb(2)))
        for row in rows
    ])
    db.session.add(norm_set)
    db.session.flush()
    record("admin_create_norm_set", object_type="norm_set", object_id=norm_set.id)
    db.session.commit()
    return norm_set


def _check_bands(rows: list[NormRow]) -> None:
    """A person falls in at most one row per instrument: no overlapping bands, one row for unknown age."""
    for i, row in enumerate(rows):
        for earlier in rows[:i]:
            if earlier.instrument != row.instrument:
                continue
            if _overlap(earlier, row):
                raise Refused(f"rows-{i}-min_age", _("The age band overlaps an earlier %(instrument)s row.",
                                                     instrument=row.instrument))
            if earlier.includes_unknown_age and row.includes_unknown_age:
                raise Refused(f"rows-{i}-includes_unknown_age",
                              _("Only one %(instrument)s row can cover unknown age.", instrument=row.instrument))


def _overlap(a: NormRow, b: NormRow) -> bool:
    low = max(_low(a), _low(b))
    high = min(_high(a), _high(b))
    return low <= high


def _low(row: NormRow) -> float:
    return float("-inf") if row.min_age is None else row.min_age


def _high(row: NormRow) -> float:
    return float("inf") if row.max_age is None else row.max_age


def activate_norm_set(norm_set: NormSetRecord) -> RefreshResult | None:
    """Make ``norm_set`` the only active set and recompute every series summary with it; one transaction.

    None when it already was the active set (nothing done). The audit event is
    written last, so the audit chain's lock is held only for the commit.
    """
    if norm_set.is_active:
        return None
    set_id = norm_set.id
    # One statement over every row: two administrators activating at once leave exactly one active set.
    db.session.execute(update(NormSetRecord).values(is_active=NormSetRecord.id == set_id),
                       execution_options={"synchronize_session": False})
    db.session.expire_all()
    result = refresh_series(commit=False)
    record("admin_activate_norm_set", object_type="norm_set", object_id=set_id)
    db.session.commit()
    return result


def series_count() -> int:
    return db.session.scalar(select(func.count()).select_from(SeriesSummaryRecord))


def too_many_for_a_request() -> bool:
    """Whether recomputing every series would take too long for a web request (then the CLI does it)."""
    return series_count() > current_app.config["NORM_ACTIVATION_MAX_SERIES"]


def refresh_with_active_set() -> RefreshResult:
    """Recompute every series summary with the active set (after an interrupted activation, say)."""
    result = refresh_series(commit=False)
    record("admin_refresh_series", object_type="norm_set")
    db.session.commit()
    return result


def stale_series(active_key: str | None) -> int:
    """How many stored series were categorised with another set than the active one (reports refuse them)."""
    computed_with = SeriesSummaryRecord.parameter_set
    query = select(func.count()).select_from(SeriesSummaryRecord).where(computed_with.is_not(None))
    if active_key is not None:
        query = query.where(computed_with != active_key)
    return db.session.scalar(query)
