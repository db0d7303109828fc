"""What the report pages show, computed from report rows and inputs: pure functions, no Flask, no SQL.

The §6 cells come from :func:`fitapp.reports.services.compute_report`, already
protected (metrics.md §7). This module arranges them for the pages and adds
what the report file has no cells for: the outcome categories with the
clinical and non-clinical intake groups apart (§4), the parents' own ratings
as their own section (§5), the same tertial in earlier years (§6 "Periods"),
targets met or not, and the unit comparison. Every figure added here is
protected by the same cell-key method and table before it reaches a page or
an export (exact only when the caller asks for a unit head's exact figures).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from fitapp.reports.intervals import Change, change, figure_interval
from fitapp.scoring.ckm import KEY_MODULUS
from fitapp.scoring.figures import block_figures
from fitapp.scoring.indicators import (
    ALL_GROUP, INDICATOR_KINDS, INDICATORS, Cell, ClosedEpisode, IndexPerson, block_entries, block_totals,
    group_sort_key,
)
from fitapp.scoring.numbers import CONTEXT, FOUR_DECIMALS, round_half_up
from fitapp.scoring.protection import Protection, published_totals

DETAIL_BREAKDOWNS = ("gender", "age_band", "intervention")
# metrics.md §6 person-level indicators that mean something for a parent's own ratings.
PARENT_INDICATORS = (
    "index_persons", "coverage", "paired", "reliable_improvement", "recovered", "deteriorated",
    "mean_intake", "mean_change", "effect_size",
)
PARENT_BREAKDOWNS = ("all", "gender")
# Indicators a chart can draw: shares and means (a count has no common scale across units or years).
CHARTABLE = tuple(i for i in INDICATORS if INDICATOR_KINDS[i] != "count")
# The figures of the unit comparison table.
# The chart's indicator is always added to these (see the units page), so every chartable one can be compared.
COMPARISON_INDICATORS = (
    "episodes_closed", "index_persons", "coverage", "paired", "reliable_improvement", "recovered",
    "deteriorated", "not_rereferred_12m", "srs_mean",
)
YEARS_COMPARED = 4

# metrics.md §4: the categories of a paired series, by intake group. Recovered needs a clinical intake.
INTAKE_GROUPS = ("clinical", "non_clinical")
CATEGORY_COLUMNS = ("recovered", "improved", "unchanged", "deteriorated")


# ---------------------------------------------------------------- §6 cells arranged for a page


def block(rows: Iterable, unit: str) -> list:
    """The rows of one unit's block (or ``ALL``'s), in report order."""
    return [row for row in rows if row.unit == unit]


def all_cells(rows: Iterable) -> dict[str, object]:
    """indicator -> the `all`/`all` cell of a block."""
    return {row.indicator: row for row in rows if row.breakdown == ALL_GROUP}


@dataclass(frozen=True)
class BreakdownTable:
    """One breakdown of a block: indicators as lines, groups as columns (None where a group has no cell)."""

    breakdown: str
    groups: tuple[str, ...]
    lines: tuple[tuple[str, tuple[object | None, ...]], ...]


def breakdown_tables(rows: Iterable, breakdowns: Sequence[str] = DETAIL_BREAKDOWNS,
                     indicators: Sequence[str] = INDICATORS) -> list[BreakdownTable]:
    """A table per breakdown that has any group; lines only for indicators with a cell in it."""
    cells: dict[str, dict[tuple[str, str], object]] = {b: {} for b in breakdowns}
    for row in rows:
        if row.breakdown in cells:
            cells[row.breakdown][(row.group, row.indicator)] = row
    tables = []
    for breakdown in breakdowns:
        found = cells[breakdown]
        if not found:
            continue
        groups = tuple(sorted({g for g, _ in found}, key=lambda g: group_sort_key(breakdown, g)))
        lines = tuple(
            (indicator, tuple(found.get((g, indicator)) for g in groups))
            for indicator in indicators
            if any((g, indicator) in found for g in groups)
        )
        tables.append(BreakdownTable(breakdown, groups, lines))
    return tables


# ---------------------------------------------------------------- parents' own ratings (§5)

# A block of a page: the closed episodes and the persons of one unit, or of several that are
# either one cell (a fixed total) or a sum of their own cells (units a user chose, §7.5).
UnitRecords = tuple[Sequence[ClosedEpisode], Sequence[IndexPerson]]


def parent_cells(units: Sequence[UnitRecords], protection: Protection | None, *, one_cell: bool) -> list[Cell]:
    """Parents' own outcome figures, all and by gender, protected like the index figures (metrics.md §5, §7).

    ``index_persons`` here counts parents; ``coverage`` the parents with an
    own outcome rating, ``paired`` those whose own series has n ≥ 2 (scored).
    Each parent's participant record key makes the cell keys.
    """
    blocks = [block_totals(*block_entries(episodes, parents, [])) for episodes, parents in units]
    table = protection.table if protection is not None else None
    threshold = protection.threshold if protection is not None else None
    figures = block_figures(published_totals(blocks, table, one_cell=one_cell), threshold)
    return [Cell(*f) for f in figures if f[2] in PARENT_INDICATORS and f[0] in PARENT_BREAKDOWNS]


# ---------------------------------------------------------------- categories by intake group (§4)


@dataclass(frozen=True)
class CategoryFigure:
    """A count of paired index series and its share of the intake group; both None when hidden."""

    count: int | None
    share: Decimal | None
    suppressed: bool
    possible: bool = True


@dataclass(frozen=True)
class IntakeRow:
    group: str
    total: CategoryFigure
    categories: dict[str, CategoryFigure]


# metrics.md §4: a series starting at or above the cutoff is never recovered.
IMPOSSIBLE = frozenset({("non_clinical", "recovered")})
IntakeCounts = dict[tuple[str, str], tuple[int, int]]


def intake_counts(persons: Sequence[IndexPerson]) -> IntakeCounts:
    """(count, sum of record keys) of the paired index series per (intake group, category or "total")."""
    counts: IntakeCounts = {}
    for group in INTAKE_GROUPS:
        for column in ("total", *CATEGORY_COLUMNS):
            if (group, column) not in IMPOSSIBLE:
                counts[(group, column)] = (0, 0)
    for person in persons:
        series = person.index_series
        if series is None or not series.paired:
            continue
        group = "clinical" if series.intake_clinical else "non_clinical"
        # Paired scored series are never not_scored or single_rating (§4).
        for key in ((group, "total"), (group, series.category)):
            n, keys = counts[key]
            counts[key] = (n + 1, keys + person.record_key)
    return counts


def intake_category_table(units: Sequence[Sequence[IndexPerson]], protection: Protection | None, *,
                          one_cell: bool) -> list[IntakeRow]:
    """Outcome categories of the paired index series, clinical and non-clinical intake apart (metrics.md §4).

    Each count is protected with its own cell key and shown by §7.4; a share
    is the protected count over the protected total of its intake group. A
    block of chosen units adds up their protected counts (§7.5).
    """
    per_unit = [intake_counts(persons) for persons in units]
    if one_cell or protection is None:
        merged: IntakeCounts = {}
        for counts in per_unit:
            for key, (n, keys) in counts.items():
                before = merged.get(key, (0, 0))
                merged[key] = (before[0] + n, before[1] + keys)
        per_unit = [merged]
    shown: dict[tuple[str, str], int] = {}
    for counts in per_unit:
        for key, (n, keys) in counts.items():
            protected = n if protection is None else protection.table.perturb(n, keys % KEY_MODULUS)
            shown[key] = shown.get(key, 0) + protected
    threshold = protection.threshold if protection is not None else 0
    rows = []
    for group in INTAKE_GROUPS:
        total = shown.get((group, "total"), 0)
        categories = {}
        for category in CATEGORY_COLUMNS:
            if (group, category) in IMPOSSIBLE:
                categories[category] = CategoryFigure(None, None, False, possible=False)
            else:
                categories[category] = _category_figure(shown.get((group, category), 0), total, threshold)
        rows.append(IntakeRow(group, _category_figure(total, None, threshold), categories))
    return rows


def _category_figure(count: int, total: int | None, threshold: int) -> CategoryFigure:
    """A shown count and its share of ``total`` by the display rule of metrics.md §7.4."""
    if 0 < count < threshold:
        return CategoryFigure(None, None, True)
    if total is None or 0 < total < threshold:
        return CategoryFigure(count, None, False)
    count = min(count, total)  # a protected count above its protected total is lowered to it
    share = round_half_up(CONTEXT.divide(Decimal(count), total), FOUR_DECIMALS) if total else None
    return CategoryFigure(count, share, False)


# ---------------------------------------------------------------- over time (§6 "Periods")


@dataclass(frozen=True)
class YearColumn:
    """One year's `all` cells of the same period; ``has_data`` False means "no comparison"."""

    year: int
    label: str
    has_data: bool
    cells: dict[str, object]


def year_column(year: int, label: str, rows: Iterable) -> YearColumn:
    """A year with no closed episode in the period has nothing to compare with."""
    cells = all_cells(rows)
    closed = cells.get("episodes_closed")
    has_data = closed is not None and (closed.suppressed or bool(closed.numerator))
    return YearColumn(year, label, has_data, cells)


def trend_points(columns: Sequence[YearColumn], indicator: str, labels: Sequence[str] | None = None
                 ) -> list[tuple[str, Decimal | None]]:
    """(label, value) per column in order, the year unless ``labels`` are given; None where hidden,
    empty or without data."""
    points = []
    for i, column in enumerate(columns):
        cell = column.cells.get(indicator)
        shown = column.has_data and cell is not None and not cell.suppressed
        points.append((labels[i] if labels else str(column.year), cell.value if shown else None))
    return points


def trend_intervals(columns: Sequence[YearColumn], indicator: str) -> list[tuple[float, float] | None]:
    """Per column the 95 % interval of the shown figure, for the chart's whiskers; None where there is none."""
    result: list[tuple[float, float] | None] = []
    for column in columns:
        found = figure_interval(column.cells.get(indicator)) if column.has_data else None
        result.append(None if found is None or found.interval is None
                      else (found.interval.low, found.interval.high))
    return result


# The chart of a year's tertials: T1, T2, T3 and the whole year (year to date through T3).
TERTIAL_CHART_LABELS = ("T1", "T2", "T3", "T1–T3")


def year_changes(now: YearColumn, before: YearColumn) -> dict[str, Change]:
    """indicator -> the change of each share and mean from ``before`` to ``now`` (issue 15 item 3)."""
    changes = {}
    for indicator in INDICATORS:
        found = change(now.cells.get(indicator), before.cells.get(indicator),
                       now_has_data=now.has_data, before_has_data=before.has_data)
        if found is not None:
            changes[indicator] = found
    return changes


# ---------------------------------------------------------------- targets (målvärden)


def target_status(indicator: str, cell, target: Decimal | None, lower_is_better: Iterable[str]) -> str | None:
    """"met", "not_met", "unknown" (hidden or no figure) or None when no target is set."""
    if target is None:
        return None
    if cell is None or cell.suppressed or cell.value is None:
        return "unknown"
    value = Decimal(cell.value)
    met = value <= target if indicator in set(lower_is_better) else value >= target
    return "met" if met else "not_met"


# ---------------------------------------------------------------- across units


@dataclass(frozen=True)
class ComparisonRow:
    unit: str
    name: str
    cells: dict[str, object]


def comparison_rows(rows: Iterable, units: Sequence[tuple[str, str]], all_name: str) -> list[ComparisonRow]:
    """One row per unit (code order) and the `ALL` row last; never a unit against ALL minus it (§7)."""
    by_unit: dict[str, dict[str, object]] = {}
    for row in rows:
        if row.breakdown == ALL_GROUP:
            by_unit.setdefault(row.unit, {})[row.indicator] = row
    result = [ComparisonRow(code, name, by_unit.get(code, {})) for code, name in units]
    result.append(ComparisonRow("ALL", all_name, by_unit.get("ALL", {})))
    return result


def bar_values(rows: Sequence[ComparisonRow], indicator: str) -> list[tuple[str, Decimal | None]]:
    """(unit code, value) for a bar chart; None where hidden or empty."""
    values = []
    for row in rows:
        cell = row.cells.get(indicator)
        values.append((row.unit, None if cell is None or cell.suppressed else cell.value))
    return values


def hidden_units(rows: Sequence[ComparisonRow], indicator: str) -> set[str]:
    """Units whose figure for ``indicator`` is suppressed (a chart says "<5" rather than "no figure")."""
    return {row.unit for row in rows if row.cells.get(indicator) is not None and row.cells[indicator].suppressed}
