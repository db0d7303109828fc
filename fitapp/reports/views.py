"""What the report pages show, computed from report rows and inputs: pure functions, no Flask, no SQL.

The §6 cells come from :func:`fitapp.reports.services.compute_report`, already
suppressed (metrics.md §7). This module arranges them for the pages and adds
what the report file has no cells for: the outcome categories with the
clinical and non-clinical intake groups apart (§4), the parents' own ratings
as their own section (§5), the same tertial in earlier years (§6 "Periods"),
targets met or not, and the unit comparison. Every figure here is suppressed
with the same threshold before it reaches a page or an export.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from fitapp.scoring.indicators import (
    ALL_GROUP, INDICATOR_KINDS, INDICATORS, Cell, ClosedEpisode, IndexPerson, compute_indicators,
    group_sort_key,
)
from fitapp.scoring.numbers import CONTEXT, FOUR_DECIMALS, round_half_up
from fitapp.scoring.suppression import suppress

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


def parent_cells(episodes: Sequence[ClosedEpisode], parents: Sequence[IndexPerson], threshold: int) -> list[Cell]:
    """Parents' own outcome figures, all and by gender, suppressed as one block (metrics.md §5–§7).

    ``index_persons`` here counts parents; ``coverage`` the parents with an
    own outcome rating, ``paired`` those whose own series has n ≥ 2 (scored).
    """
    cells = compute_indicators(episodes, parents, [])
    kept = [c for c in cells if c.indicator in PARENT_INDICATORS and c.breakdown in PARENT_BREAKDOWNS]
    return suppress(kept, threshold)


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


def intake_category_table(persons: Sequence[IndexPerson], published: Mapping[str, object],
                          threshold: int) -> list[IntakeRow]:
    """Outcome categories of the paired index series, clinical and non-clinical intake apart (metrics.md §4).

    Counts of 1..threshold−1 are hidden (§7). Because the rows and columns add
    up to figures published elsewhere on the page (``published``: the block's
    `all` cells of paired, reliable_improvement, recovered and deteriorated),
    a hidden count must never be the only hidden one in a sum whose total is
    known: :func:`protect` hides more until none is.
    """
    series = [p.index_series for p in persons if p.index_series is not None and p.index_series.paired]
    counts: dict[tuple[str, str], int] = {}
    for group in INTAKE_GROUPS:
        members = [s for s in series if bool(s.intake_clinical) == (group == "clinical")]
        counts[(group, "total")] = len(members)
        for category in CATEGORY_COLUMNS:
            counts[(group, category)] = sum(_category(s) == category for s in members)
    impossible = {("non_clinical", "recovered")}  # §4: a series starting at or above c is never recovered
    shown = {name: cell for name, cell in published.items() if not cell.suppressed}
    lines: list[list[tuple[str, str]]] = [
        [("clinical", c) for c in CATEGORY_COLUMNS] + [("clinical", "total")],
        [("non_clinical", c) for c in CATEGORY_COLUMNS if ("non_clinical", c) not in impossible]
        + [("non_clinical", "total")],
    ]
    fixed: set[tuple[str, str]] = set()
    if "paired" in shown:
        lines.append([("clinical", "total"), ("non_clinical", "total")])
    if "recovered" in shown:
        fixed |= {("clinical", "recovered"), ("clinical", "total")}
    if "reliable_improvement" in shown:
        lines.append([("clinical", "recovered"), ("clinical", "improved"), ("non_clinical", "improved")])
    if "deteriorated" in shown:
        lines.append([("clinical", "deteriorated"), ("non_clinical", "deteriorated")])
    if {"paired", "reliable_improvement", "deteriorated"} <= set(shown):
        lines.append([("clinical", "unchanged"), ("non_clinical", "unchanged")])
    values = {key: value for key, value in counts.items() if key not in impossible}
    hidden = protect(values, lines, fixed, threshold)
    rows = []
    for group in INTAKE_GROUPS:
        total_key = (group, "total")
        total = _category_figure(counts[total_key], None, total_key in hidden)
        categories = {}
        for category in CATEGORY_COLUMNS:
            key = (group, category)
            if key in impossible:
                categories[category] = CategoryFigure(None, None, False, possible=False)
            else:
                categories[category] = _category_figure(
                    counts[key], None if total_key in hidden else counts[total_key], key in hidden)
        rows.append(IntakeRow(group, total, categories))
    return rows


def _category(series) -> str:
    # Paired scored series are never not_scored or single_rating (§4).
    return series.category


def _category_figure(count: int, total: int | None, hidden: bool) -> CategoryFigure:
    if hidden:
        return CategoryFigure(None, None, True)
    share = round_half_up(CONTEXT.divide(Decimal(count), total), FOUR_DECIMALS) if total else None
    return CategoryFigure(count, share, False)


def protect(values: Mapping, lines: Sequence[Sequence], fixed: Iterable, threshold: int) -> set:
    """Keys to hide: counts of 1..threshold−1, then more until no line has exactly one hidden member.

    A line is a set of cells whose sum is known (from the table itself or a
    figure published elsewhere), so a lone hidden member could be found by
    subtraction (metrics.md §7, secondary suppression). The extra cell hidden
    is the line's smallest non-zero shown one that is not ``fixed``
    (published elsewhere); ties go to the first in the line. Repeats until
    nothing changes, since hiding a cell can leave another line with one.
    """
    fixed = set(fixed)
    hidden = {key for key, value in values.items() if 1 <= value < threshold}
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(key in hidden for key in line) != 1:
                continue
            candidates = [k for k in line if k not in hidden and k not in fixed and values[k] > 0]
            if candidates:
                hidden.add(min(candidates, key=lambda k: (values[k], line.index(k))))
                changed = True
    return hidden


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


def trend_points(columns: Sequence[YearColumn], indicator: str) -> list[tuple[str, Decimal | None]]:
    """(year label, value) per year, oldest first; None where hidden, empty or without data."""
    points = []
    for column in columns:
        cell = column.cells.get(indicator)
        shown = column.has_data and cell is not None and not cell.suppressed
        points.append((str(column.year), cell.value if shown else None))
    return points


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
