"""Small-number suppression of published aggregates (metrics.md §7).

:func:`suppress` returns the same :class:`~fitapp.scoring.indicators.Cell`
objects, with ``suppressed=True`` and numerator, denominator and value blanked
on hidden ones, so a report writer cannot leak a hidden figure by mistake.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from fitapp.scoring.indicators import ALL_GROUP, Cell, group_sort_key

DEFAULT_THRESHOLD = 5
MIN_THRESHOLD = 3


def suppress(cells: Sequence[Cell], threshold: int = DEFAULT_THRESHOLD) -> list[Cell]:
    """Apply primary and secondary suppression to one unit's cells (metrics.md §7).

    Primary: any cell whose count, numerator or denominator is between 1 and
    ``threshold`` − 1 is hidden; zero is shown. Secondary: within one
    breakdown of one indicator, if exactly one group is hidden while the
    indicator's `all` cell is shown (or absent), the shown group with the
    smallest non-zero denominator (counts: count) is hidden too, ties going
    to the first group in §6 order. Cells keep their order.
    """
    if threshold < MIN_THRESHOLD:
        raise ValueError(f"the suppression threshold is never below {MIN_THRESHOLD}, got {threshold}")
    hidden = [_primary(cell, threshold) for cell in cells]
    _secondary(cells, hidden)
    return [_blank(cell) if hide else cell for cell, hide in zip(cells, hidden)]


def _primary(cell: Cell, threshold: int) -> bool:
    return cell.suppressed or _small(cell.numerator, threshold) or _small(cell.denominator, threshold)


def _small(number: int | None, threshold: int) -> bool:
    return number is not None and 1 <= number < threshold


def _secondary(cells: Sequence[Cell], hidden: list[bool]) -> None:
    # Marks `hidden` in place; one pass suffices because it only ever turns
    # one hidden group into two, which the rule then leaves alone.
    total_hidden = {c.indicator: h for c, h in zip(cells, hidden) if c.breakdown == ALL_GROUP}
    blocks: dict[tuple[str, str], list[int]] = {}
    for i, cell in enumerate(cells):
        if cell.breakdown != ALL_GROUP:
            blocks.setdefault((cell.indicator, cell.breakdown), []).append(i)
    for (indicator, breakdown), members in blocks.items():
        if total_hidden.get(indicator, False) or sum(hidden[i] for i in members) != 1:
            continue
        candidates = [i for i in members if not hidden[i] and _size(cells[i]) > 0]
        if candidates:
            chosen = min(candidates, key=lambda i: (_size(cells[i]), group_sort_key(breakdown, cells[i].group)))
            hidden[chosen] = True


def _size(cell: Cell) -> int:
    """What the secondary rule compares: the count for counts, else the denominator."""
    size = cell.numerator if cell.kind == "count" else cell.denominator
    return size or 0


def _blank(cell: Cell) -> Cell:
    return dataclasses.replace(cell, numerator=None, denominator=None, value=None, suppressed=True)
