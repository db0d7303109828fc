"""What each report page needs, gathered in one call per page (house-style: thin views, logic in services).

Every page works on units the caller has already checked with
:func:`fitapp.reports.scope.report_units`.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from flask import current_app

from fitapp.models import Unit
from fitapp.reports import views
from fitapp.reports.forms import ReportChoice
from fitapp.reports.sections import FollowUpCase, follow_up_cases, parent_persons
from fitapp.reports.services import ALL_UNITS, EXACT, ComputedReport, compute_report, report_period
from fitapp.reports.targets import judged, targets_for
from fitapp.scoring.indicators import IndexPerson, rereferral_reportable_from
from fitapp.scoring.periods import Period


def threshold() -> int:
    return current_app.config["SUPPRESSION_THRESHOLD"]


def protection_id(report: ComputedReport) -> str:
    """What the page and the files say made the figures: the table's id, or "exact" (metrics.md §7.3)."""
    return report.protection.id if report.protection is not None else EXACT


def block_code(units: Sequence[Unit]) -> str:
    """One unit's own block, or the block of all the chosen units together."""
    return units[0].code if len(units) == 1 else ALL_UNITS


def compute(choice: ReportChoice, units: Sequence[Unit], year: int | None = None, *,
            scope: Sequence[Unit] | None = None, exact: bool = False, tertial: int | None = None,
            ytd: bool | None = None) -> ComputedReport:
    """The report of the chosen units; ALL is a fixed total when they are all of ``scope`` (metrics.md §7.5).

    ``year``, ``tertial`` and ``ytd`` replace the choice's period (over time).
    """
    fixed = scope is not None and {u.id for u in units} == {u.id for u in scope}
    return compute_report(year or choice.year, tertial or choice.last_tertial,
                          choice.ytd if ytd is None else ytd, [u.code for u in units],
                          choice.as_of, exact=exact, fixed_total=fixed)


@dataclass
class ReportPage:
    period: Period
    block: str
    rows: list
    cells: dict
    tables: list
    intake: list
    parents_all: dict
    parent_tables: list
    protection: str
    exact: bool
    rereferral_from: date | None
    targets: dict = field(default_factory=dict)
    follow_up_count: int | None = None


def report_page(choice: ReportChoice, units: Sequence[Unit], *, scope: Sequence[Unit], with_follow_up: bool,
                exact: bool = False) -> ReportPage:
    """§6 cells of the chosen block with breakdowns, intake groups, parents and targets (metrics.md §4–§7)."""
    report = compute(choice, units, scope=scope, exact=exact)
    return _page(report, units, block_code(units), choice, with_follow_up)


@dataclass(frozen=True)
class BlockSections:
    """The sections of one block that are not cells of the report file, protected like them."""

    parents: list
    intake: list


def block_sections(report: ComputedReport, code: str, parents: Sequence[IndexPerson]) -> BlockSections:
    """Parents' own figures and the intake table of a unit's block, or of ALL (metrics.md §4–§5, §7).

    ``parents``: the parents of the block's closed episodes. ALL is one cell
    when the report's ALL is a fixed total, else the sum of its units' cells.
    """
    one_cell = code != ALL_UNITS or report.fixed_total
    codes = [code] if code != ALL_UNITS else [unit_code for _, unit_code in report.units]
    by_unit: dict[int, list[IndexPerson]] = {}
    for parent in parents:
        by_unit.setdefault(report.inputs.unit_of[parent.episode_id], []).append(parent)
    ids = dict((unit_code, unit_id) for unit_id, unit_code in report.units)
    blocks = [report.block_inputs(unit_code) for unit_code in codes]
    parent_blocks = [(block.episodes, by_unit.get(ids[unit_code], [])) for block, unit_code in zip(blocks, codes)]
    return BlockSections(
        parents=views.parent_cells(parent_blocks, report.protection, one_cell=one_cell),
        intake=views.intake_category_table([block.persons for block in blocks], report.protection,
                                           one_cell=one_cell),
    )


def _page(report: ComputedReport, units: Sequence[Unit], code: str, choice: ReportChoice,
          with_follow_up: bool) -> ReportPage:
    rows = views.block(report.rows, code)
    cells = views.all_cells(rows)
    unit_ids = [u.id for u in units] if code == ALL_UNITS else [u.id for u in units if u.code == code]
    sections = block_sections(report, code, _parents(report, unit_ids))
    page = ReportPage(
        period=report.period,
        block=code,
        rows=rows,
        cells=cells,
        tables=views.breakdown_tables(rows),
        intake=sections.intake,
        parents_all=views.all_cells(sections.parents),
        parent_tables=views.breakdown_tables(sections.parents, ("gender",), views.PARENT_INDICATORS),
        protection=protection_id(report),
        exact=report.protection is None,
        rereferral_from=None if report.with_rereferral else rereferral_reportable_from(report.period.end),
    )
    if code != ALL_UNITS:
        unit = next(u for u in units if u.code == code)
        page.targets = judged(cells, targets_for(unit.id, choice.year))
    if with_follow_up:
        page.follow_up_count = len(follow_up_cases(report.period, unit_ids))
    return page


def _parents(report: ComputedReport, unit_ids: Sequence[int]) -> list[IndexPerson]:
    return parent_persons(report.period, unit_ids, {e.episode_id: e for e in report.inputs.episodes})


def export_blocks(choice: ReportChoice, units: Sequence[Unit], scope: Sequence[Unit]
                  ) -> tuple[ComputedReport, dict[str, list], dict]:
    """The report rows with, per block, the parents' cells and the intake table (for the XLSX export)."""
    report = compute(choice, units, scope=scope)
    parents: dict[str, list] = {}
    intake: dict[str, list] = {}
    all_parents = _parents(report, [u.id for u in units])
    for unit_id, code in [*report.units, (None, ALL_UNITS)]:
        block_parents = [p for p in all_parents if unit_id is None or report.inputs.unit_of[p.episode_id] == unit_id]
        sections = block_sections(report, code, block_parents)
        parents[code] = sections.parents
        intake[code] = sections.intake
    return report, parents, intake


@dataclass
class OverTimePage:
    """The chosen year's tertials side by side, and the chosen period in this and earlier years.

    ``tertials``: T1, T2, T3 and the whole year (metrics.md §6 "Periods");
    ``years``: the chosen period (a tertial, a year to date or the year) in
    ``views.YEARS_COMPARED`` years, oldest first; ``changes``: per indicator,
    the chosen year against the year before, with its test (issue 15 item 3).
    """

    period: Period
    block: str
    tertials: list
    years: list
    changes: dict
    indicator: str
    tertial_points: list
    points: list
    protection: str
    exact: bool
    tertial_intervals: list = field(default_factory=list)
    intervals: list = field(default_factory=list)


def over_time_page(choice: ReportChoice, units: Sequence[Unit], indicator: str, *, scope: Sequence[Unit],
                   exact: bool = False) -> OverTimePage:
    """T1, T2, T3 and the year of the chosen year; the same period in earlier years (metrics.md §6 "Periods").

    Each period is a report of its own (its own cells and cell keys, §7.5);
    a period asked for twice (the chosen tertial is one of the year's) is
    computed once.
    """
    code = block_code(units)
    computed: dict[Period, views.YearColumn] = {}
    last: ComputedReport | None = None

    def column(period: Period) -> views.YearColumn:
        nonlocal last
        if period not in computed:
            report = compute(choice, units, period.year, scope=scope, exact=exact,
                             tertial=period.last_tertial, ytd=period.year_to_date)
            last = report
            computed[period] = views.year_column(period.year, report.period.label, views.block(report.rows, code))
        return computed[period]

    chosen = report_period(choice.year, choice.last_tertial, choice.ytd)
    years = [column(chosen.in_year(year)) for year in range(choice.year - views.YEARS_COMPARED + 1, choice.year + 1)]
    tertials = [column(report_period(choice.year, t, False)) for t in (1, 2, 3)]
    tertials.append(column(report_period(choice.year, 3, True)))
    changes = views.year_changes(years[-1], years[-2]) if len(years) > 1 else {}
    assert last is not None
    return OverTimePage(chosen, code, tertials, years, changes, indicator,
                        views.trend_points(tertials, indicator, views.TERTIAL_CHART_LABELS), views.trend_points(years, indicator),
                        protection_id(last), exact, views.trend_intervals(tertials, indicator),
                        views.trend_intervals(years, indicator))


@dataclass
class ComparisonPage:
    period: Period
    rows: list
    indicator: str
    bars: list
    hidden: set
    protection: str


def comparison_page(choice: ReportChoice, units: Sequence[Unit], indicator: str, all_name: str, *,
                    scope: Sequence[Unit]) -> ComparisonPage:
    """Every chosen unit and all of them together, protected (metrics.md §7.5): a chosen set's total is the
    sum of its units' protected figures, so no pair of comparisons gives a hidden figure away."""
    report = compute(choice, units, scope=scope)
    rows = views.comparison_rows(report.rows, [(u.code, u.name) for u in units], all_name)
    return ComparisonPage(report.period, rows, indicator, views.bar_values(rows, indicator),
                          views.hidden_units(rows, indicator), protection_id(report))


def follow_up(choice: ReportChoice, units: Sequence[Unit]) -> tuple[Period, list[FollowUpCase]]:
    period = report_period(choice.year, choice.last_tertial, choice.ytd)
    return period, follow_up_cases(period, [u.id for u in units])
