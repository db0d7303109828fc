"""Small-number suppression of published aggregates (metrics.md §7).

:func:`suppress` returns the same :class:`~fitapp.scoring.indicators.Cell`
objects, with ``suppressed=True`` and numerator, denominator and value blanked
on hidden ones, so a report writer cannot leak a hidden figure by mistake.
"""
from __future__ import annotations

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
    figures = [(c.breakdown, c.group, c.indicator, c.kind, c.numerator, c.denominator, c.value) for c in cells]
    hidden = hidden_cells(figures, threshold, [c.suppressed for c in cells])
    return [_blank(cell) if hide else cell for cell, hide in zip(cells, hidden)]


def hidden_cells(
    figures: Sequence[Sequence], threshold: int = DEFAULT_THRESHOLD, already: Sequence[bool] | None = None
) -> list[bool]:
    """Which cells :func:`suppress` hides, for plain figures (metrics.md §7).

    ``figures`` are (breakdown, group, indicator, kind, numerator,
    denominator, value) tuples, as
    :func:`~fitapp.scoring.indicators.indicator_figures` returns them;
    ``already`` marks cells hidden before. Lets a report build each of its
    rows once, hidden or not.
    """
    if threshold < MIN_THRESHOLD:
        raise ValueError(f"the suppression threshold is never below {MIN_THRESHOLD}, got {threshold}")
    # Primary (§7): a count, numerator or denominator of 1..threshold-1.
    hidden = [(numerator is not None and 1 <= numerator < threshold)
              or (denominator is not None and 1 <= denominator < threshold)
              for _, _, _, _, numerator, denominator, _ in figures]
    if already is not None:
        hidden = [before or hide for before, hide in zip(already, hidden)]
    _secondary(figures, hidden)
    return hidden


def _secondary(figures: Sequence[Sequence], hidden: list[bool]) -> None:
    # Marks `hidden` in place; one pass suffices because it only ever turns
    # one hidden group into two, which the rule then leaves alone. The pass
    # counts the hidden groups of each (indicator, breakdown) and notes its
    # shown ones, so only blocks with exactly one hidden group are looked at
    # again: in a city report that is a small share of them.
    total_hidden = {}
    hidden_in: dict[tuple[str, str], int] = {}
    shown_in: dict[tuple[str, str], list[int]] = {}
    for i, (figure, hide) in enumerate(zip(figures, hidden)):
        breakdown = figure[0]
        if breakdown == ALL_GROUP:
            total_hidden[figure[2]] = hide
            continue
        key = (figure[2], breakdown)
        if hide:
            hidden_in[key] = hidden_in.get(key, 0) + 1
        else:
            shown_in.setdefault(key, []).append(i)
    for key, n_hidden in hidden_in.items():
        if n_hidden != 1 or total_hidden.get(key[0], False):
            continue
        breakdown = key[1]
        candidates = [i for i in shown_in.get(key, ()) if _size(figures[i]) > 0]
        if candidates:
            chosen = min(candidates, key=lambda i: (_size(figures[i]), group_sort_key(breakdown, figures[i][1])))
            hidden[chosen] = True


def _size(figure: Sequence) -> int:
    """What the secondary rule compares: the count for counts, else the denominator."""
    size = figure[4] if figure[3] == "count" else figure[5]
    return size or 0


def _blank(cell: Cell) -> Cell:
    # A new cell rather than dataclasses.replace(), which is several times slower.
    return Cell(cell.breakdown, cell.group, cell.indicator, cell.kind, None, None, None, suppressed=True)
