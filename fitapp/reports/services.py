"""Unit reports: query -> facts -> totals -> protected (or exact) figures (metrics.md §5–§7).

One query serves every unit of a report: each row becomes integer facts
with record keys, summed into its unit's group totals
(:meth:`~fitapp.reports.queries.ReportFacts.unit_totals`). Each unit's
totals are protected with the cell-key method
(:func:`~fitapp.scoring.protection.shown_totals`) and become its figures
(:func:`~fitapp.scoring.figures.block_figures`). The ``ALL`` block is a
fixed total of its own (the whole organisation, or all of a reader's units)
or, for units a user chose, the sum of their protected figures (§7.5).
"""
from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from flask import current_app
from sqlalchemy import select

from fitapp.extensions import db
from fitapp.models import Unit
from fitapp.norms_service import NoActiveNormSet, active_norm_set_key
from fitapp.reports.queries import ReportFacts, ReportInputs, report_facts
from fitapp.disclosure import ptable_in_force
from fitapp.scoring import periods
from fitapp.scoring.figures import Figure, block_figures
from fitapp.scoring.indicators import BlockTotals, block_totals
from fitapp.scoring.periods import Period
from fitapp.scoring.protection import Protection, published_totals, shown_totals

ALL_UNITS = "ALL"
# The report file's protection column for exact figures (interchange.md).
EXACT = "exact"


class ReportError(Exception):
    """The report cannot be made as asked (unknown unit, bad period, stale series)."""


class ReportRow(NamedTuple):
    """One cell of the report file (interchange.md "Report file").

    A NamedTuple rather than a dataclass: a city report has tens of
    thousands of cells and this is the cheapest immutable record.
    """

    period: str
    unit: str
    breakdown: str
    group: str
    indicator: str
    kind: str
    numerator: int | None
    denominator: int | None
    value: Decimal | None
    suppressed: bool
    protection: str


def current_protection() -> Protection:
    """The organisation's perturbation table in force and the display threshold (metrics.md §7.3–§7.4)."""
    return Protection(ptable_in_force(), current_app.config["SUPPRESSION_THRESHOLD"])


def report_period(year: int, tertial_no: int, ytd: bool) -> Period:
    """Tertial ``tertial_no`` of ``year``, or the year to date through it (metrics.md §6, "Periods")."""
    try:
        return periods.year_to_date(year, tertial_no) if ytd else periods.tertial(year, tertial_no)
    except ValueError as problem:
        raise ReportError(str(problem)) from None


def build_report(year: int, tertial: int, ytd: bool, unit_codes: list[str], as_of: date, *,
                 exact: bool = False) -> list[ReportRow]:
    """Rows for each unit (in code order) and then for all of them together (metrics.md §6–§7).

    Protected figures unless ``exact``. No unit codes means every unit, and
    ALL is then the whole organisation, a cell of its own; with unit codes,
    ALL is the sum of their protected figures (§7.5).
    """
    return compute_report(year, tertial, ytd, unit_codes, as_of, exact=exact).rows


@dataclass(frozen=True)
class ComputedReport:
    """The rows of :func:`build_report` with what they were computed from.

    The report pages need the inputs again for the sections that are not
    cells of the report file (intake groups, parents' own ratings), so the
    queries run once for both.
    """

    period: Period
    units: list[tuple[int, str]]
    rows: list[ReportRow]
    facts: ReportFacts
    protection: Protection | None
    fixed_total: bool

    @property
    def with_rereferral(self) -> bool:
        """The period is reported for `not_rereferred_12m` (metrics.md §6)."""
        return self.facts.with_rereferral

    @cached_property
    def inputs(self) -> ReportInputs:
        """The whole report's records, built only when a page asks for them."""
        return self.facts.inputs()

    @cached_property
    def _blocks(self) -> dict[int, ReportInputs]:
        return self.inputs.by_unit()

    def block_inputs(self, unit: str) -> ReportInputs:
        """The inputs of one unit's block, or of the whole report for ``ALL``."""
        if unit == ALL_UNITS:
            return self.inputs
        unit_id = next(unit_id for unit_id, code in self.units if code == unit)
        return self._blocks.get(unit_id) or ReportInputs([], [], [], {}, self.inputs.parameter_sets)


def compute_report(year: int, tertial: int, ytd: bool, unit_codes: list[str], as_of: date, *,
                   exact: bool = False, fixed_total: bool | None = None) -> ComputedReport:
    """:func:`build_report`, keeping the period, the units and the inputs.

    ``fixed_total``: ALL is a cell of its own (the whole organisation, or all
    the units in the reader's scope) rather than the sum of the chosen units'
    protected figures; by default when no unit codes are given (§7.5).
    """
    period = report_period(year, tertial, ytd)
    units = resolve_units(unit_codes)
    protection = None if exact else current_protection()
    fixed = not unit_codes if fixed_total is None else fixed_total
    with gc_paused():
        facts = report_facts(period, _scope(units, unit_codes), as_of)
        _check_norm_set(facts.parameter_sets)
        blocks = publish_blocks(facts.unit_totals(), [unit_id for unit_id, _ in units], protection, fixed)
        rows: list[ReportRow] = []
        codes = dict(units)
        label = protection.id if protection is not None else EXACT
        threshold = protection.threshold if protection is not None else None
        for unit_id, shown in blocks.items():
            figures = block_figures(shown, threshold, with_rereferral=facts.with_rereferral)
            rows.extend(_rows(period, codes.get(unit_id, ALL_UNITS), figures, label))
    return ComputedReport(period, units, rows, facts, protection, fixed)


def publish_blocks(totals: dict[int, BlockTotals], unit_ids: Sequence[int], protection: Protection | None,
                   fixed_total: bool) -> dict[int | None, BlockTotals]:
    """The shown totals of each unit, in the given order, and of ALL (key None) (metrics.md §7.5).

    Each unit is a cell of its own; ALL is one too when it is a fixed total,
    else the sum of the units' protected totals.
    """
    table = protection.table if protection is not None else None
    blocks = [totals.get(unit_id) or block_totals((), ()) for unit_id in unit_ids]
    shown: dict[int | None, BlockTotals] = {
        unit_id: shown_totals(block, table) for unit_id, block in zip(unit_ids, blocks)}
    shown[None] = published_totals(blocks, table, one_cell=fixed_total)
    return shown


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a report is computed.

    A city report allocates a few hundred thousand small records that all
    stay alive until it is written; each collection would walk them (and the
    whole app) again, which cost about a third of the report's time; so
    would the first collection after it if the rows were still alive then,
    which is why the export keeps it paused until the file is written. They
    form no reference cycles, so nothing is lost by collecting afterwards.
    Collection is turned back on only if it was on (another thread may be
    inside a report too: it then just finishes with collection on).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def resolve_units(unit_codes: Sequence[str]) -> list[tuple[int, str]]:
    """(id, code) of the given units, or of every unit, ordered by code; unknown codes are an error."""
    known = dict(db.session.execute(select(Unit.code, Unit.id)).all())
    unknown = sorted({code for code in unit_codes if code not in known})
    if unknown:
        raise ReportError(f"unknown unit code(s): {', '.join(unknown)}")
    codes = sorted(set(unit_codes) if unit_codes else known)
    return [(known[code], code) for code in codes]


def _scope(units: list[tuple[int, str]], unit_codes: Sequence[str]) -> set[int] | None:
    # Without a unit filter the database can skip the IN list: the whole city is asked for.
    return {unit_id for unit_id, _ in units} if unit_codes else None


def _check_norm_set(parameter_sets: frozenset[str]) -> None:
    """Refuse figures from series computed with another norm set than the active one (metrics.md §2)."""
    try:
        active = active_norm_set_key()
    except NoActiveNormSet as problem:
        raise ReportError(str(problem)) from None
    stale = sorted(parameter_sets - {active})
    if stale:
        raise ReportError(
            f"series were computed with norm set(s) {', '.join(stale)}, not the active {active}: "
            "run 'flask --app fitapp refresh-series' first"
        )


def _rows(period: Period, unit: str, figures: list[Figure], protection: str) -> list[ReportRow]:
    """One unit's (or ALL's) report rows from its figures; a hidden figure keeps only its labels."""
    label = period.label
    # tuple.__new__ is ReportRow._make without its checks: the fields are complete by construction.
    new = tuple.__new__
    return [new(ReportRow, (label, unit, *figure, protection)) for figure in figures]
