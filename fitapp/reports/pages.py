"""What each report page needs, gathered in one call per page (house-style: thin views, logic in services).

Every page works on units the caller has already checked with
:func:`fitapp.reports.scope.report_units`.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from flask import current_app

from fitapp.models import Unit
from fitapp.reports import views
from fitapp.reports.forms import ReportChoice
from fitapp.reports.sections import FollowUpCase, follow_up_cases, parent_persons
from fitapp.reports.services import ALL_UNITS, ComputedReport, compute_report, report_period
from fitapp.reports.targets import judged, targets_for
from fitapp.scoring.periods import Period


def threshold() -> int:
    return current_app.config["SUPPRESSION_THRESHOLD"]


def block_code(units: Sequence[Unit]) -> str:
    """One unit's own block, or the block of all the chosen units together."""
    return units[0].code if len(units) == 1 else ALL_UNITS


def compute(choice: ReportChoice, units: Sequence[Unit], year: int | None = None) -> ComputedReport:
    return compute_report(year or choice.year, choice.last_tertial, choice.ytd, [u.code for u in units],
                          choice.as_of)


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
    targets: dict = field(default_factory=dict)
    follow_up_count: int | None = None


def report_page(choice: ReportChoice, units: Sequence[Unit], *, with_follow_up: bool) -> ReportPage:
    """§6 cells of the chosen block with breakdowns, intake groups, parents and targets (metrics.md §4–§7)."""
    report = compute(choice, units)
    return _page(report, units, block_code(units), choice, with_follow_up)


def _page(report: ComputedReport, units: Sequence[Unit], code: str, choice: ReportChoice,
          with_follow_up: bool) -> ReportPage:
    rows = views.block(report.rows, code)
    cells = views.all_cells(rows)
    inputs = report.block_inputs(code)
    episodes = {e.episode_id: e for e in inputs.episodes}
    unit_ids = [u.id for u in units] if code == ALL_UNITS else [u.id for u in units if u.code == code]
    parents = parent_persons(report.period, unit_ids, episodes)
    parent_cells = views.parent_cells(inputs.episodes, parents, threshold())
    page = ReportPage(
        period=report.period,
        block=code,
        rows=rows,
        cells=cells,
        tables=views.breakdown_tables(rows),
        intake=views.intake_category_table(inputs.persons, cells, threshold()),
        parents_all=views.all_cells(parent_cells),
        parent_tables=views.breakdown_tables(parent_cells, ("gender",), views.PARENT_INDICATORS),
    )
    if code != ALL_UNITS:
        unit = next(u for u in units if u.code == code)
        page.targets = judged(cells, targets_for(unit.id, choice.year))
    if with_follow_up:
        page.follow_up_count = len(follow_up_cases(report.period, unit_ids))
    return page


def export_blocks(choice: ReportChoice, units: Sequence[Unit]) -> tuple[ComputedReport, dict[str, list], dict]:
    """The report rows with, per block, the parents' cells and the intake table (for the XLSX export)."""
    report = compute(choice, units)
    parents: dict[str, list] = {}
    intake: dict[str, list] = {}
    all_parents = parent_persons(report.period, [u.id for u in units],
                                 {e.episode_id: e for e in report.inputs.episodes})
    parents_by_unit: dict[int, list] = {}
    for parent in all_parents:
        parents_by_unit.setdefault(report.inputs.unit_of[parent.episode_id], []).append(parent)
    for unit_id, code in [*report.units, (None, ALL_UNITS)]:
        inputs = report.block_inputs(code)
        block_parents = all_parents if unit_id is None else parents_by_unit.get(unit_id, [])
        parents[code] = views.parent_cells(inputs.episodes, block_parents, threshold())
        intake[code] = views.intake_category_table(
            inputs.persons, views.all_cells(views.block(report.rows, code)), threshold())
    return report, parents, intake


@dataclass
class OverTimePage:
    period: Period
    block: str
    columns: list
    indicator: str
    points: list


def over_time_page(choice: ReportChoice, units: Sequence[Unit], indicator: str) -> OverTimePage:
    """The same tertial (or year to date) in this and up to three earlier years (metrics.md §6 "Periods")."""
    code = block_code(units)
    columns = []
    for year in range(choice.year - views.YEARS_COMPARED + 1, choice.year + 1):
        report = compute(choice, units, year)
        columns.append(views.year_column(year, report.period.label, views.block(report.rows, code)))
    return OverTimePage(report_period(choice.year, choice.last_tertial, choice.ytd), code, columns, indicator,
                        views.trend_points(columns, indicator))


@dataclass
class ComparisonPage:
    period: Period
    rows: list
    indicator: str
    bars: list
    hidden: set


def comparison_page(choice: ReportChoice, units: Sequence[Unit], indicator: str, all_name: str) -> ComparisonPage:
    """Every unit in scope and all of them together; no unit against "all others" (metrics.md §7)."""
    report = compute(choice, units)
    rows = views.comparison_rows(report.rows, [(u.code, u.name) for u in units], all_name)
    return ComparisonPage(report.period, rows, indicator, views.bar_values(rows, indicator),
                          views.hidden_units(rows, indicator))


def follow_up(choice: ReportChoice, units: Sequence[Unit]) -> tuple[Period, list[FollowUpCase]]:
    period = report_period(choice.year, choice.last_tertial, choice.ytd)
    return period, follow_up_cases(period, [u.id for u in units])
