"""A block's figures from its shown totals: values and the display rule (metrics.md §6, §7.4).

The last stage of a report: records -> facts -> totals
(:mod:`fitapp.scoring.indicators`) -> shown totals, protected or exact
(:mod:`fitapp.scoring.protection`) -> figures (here). A figure is a
:class:`~fitapp.scoring.indicators.Cell`'s fields as a plain tuple (reports
make tens of thousands of them). With a threshold, the §7.4 rule hides a
protected count, share or mean as "<5"; without one (exact figures) nothing
is hidden.
"""
from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, localcontext

from fitapp.scoring.indicators import (
    BREAKDOWNS,
    E_DAYS,
    E_DROPOUT,
    E_EPISODES,
    E_REFERRED,
    E_SESSIONS,
    E_SRS,
    E_SRS_BELOW,
    E_SRS_TOTAL,
    E_WITHIN,
    P_CLINICAL,
    P_COVERED,
    P_DETERIORATED,
    P_IMPROVED,
    P_KEPT,
    P_PAIRED,
    P_PERSONS,
    P_RECOVERED,
    AllianceTally,
    BlockTotals,
    Cell,
    ClosedEpisode,
    IndexPerson,
    alliance_tallies,
    block_entries,
    block_totals,
    check_consistent,
    group_sort_key,
)
from fitapp.scoring.numbers import CONTEXT, FOUR_DECIMALS, round_half_up
from fitapp.scoring.protection import (
    S_EXACT_PAIRED,
    S_EXACT_SUM_F,
    S_EXACT_SUM_F2,
    S_SUM_D,
    S_SUM_F,
    Protection,
    shown_totals,
)

# (breakdown, group, indicator, kind, numerator, denominator, value, suppressed)
Figure = tuple[str, str, str, str, int | None, int | None, Decimal | None, bool]


def compute_indicators(
    episodes: Sequence[ClosedEpisode],
    persons: Sequence[IndexPerson],
    srs_totals: Sequence[tuple],
    protection: Protection | None = None,
    *,
    with_rereferral: bool = True,
) -> list[Cell]:
    """All §6 indicators for one period and scope, exact or protected (metrics.md §6–§7).

    ``srs_totals`` holds (episode_id, intervention, total[, record key]) for
    every self-rated SRS/CSRS rating in the closed episodes. Returns the `all`
    breakdown for every indicator, person-level indicators by gender,
    age_band and intervention, episode-level ones by intervention. Cells are
    ordered by breakdown, then group (§6 order), then indicator (§6 order).
    ``with_rereferral`` False leaves `not_rereferred_12m` out (a period not
    yet reported for it, §6).
    """
    figures = indicator_figures(episodes, persons, alliance_tallies(srs_totals), protection,
                                with_rereferral=with_rereferral)
    return [Cell(*figure) for figure in figures]


def indicator_figures(
    episodes: Sequence[ClosedEpisode],
    persons: Sequence[IndexPerson],
    alliance: Sequence[AllianceTally],
    protection: Protection | None = None,
    *,
    with_rereferral: bool = True,
) -> list[Figure]:
    """:func:`compute_indicators` as plain tuples, in the same order."""
    check_consistent(episodes, persons, alliance)
    totals = block_totals(*block_entries(episodes, persons, alliance))
    table = protection.table if protection is not None else None
    threshold = protection.threshold if protection is not None else None
    return block_figures(shown_totals(totals, table), threshold, with_rereferral=with_rereferral)


def block_figures(shown: BlockTotals, threshold: int | None, *, with_rereferral: bool = True) -> list[Figure]:
    """The figures of every group of a block's shown totals, ordered by breakdown, group (§6 order),
    indicator (§6 order); ``threshold`` None shows everything (exact figures)."""
    figures: list[Figure] = []
    for breakdown in BREAKDOWNS:
        by_person = shown.persons.get(breakdown, {})
        by_episode = shown.episodes.get(breakdown, {})
        for group in sorted(by_person.keys() | by_episode.keys(), key=lambda g: group_sort_key(breakdown, g)):
            cell = _CellMaker(breakdown, group, threshold)
            episode, person = by_episode.get(group), by_person.get(group)
            # §6 table order: the levels interleave.
            if episode is not None:
                figures.append(cell.count("episodes_closed", episode[E_EPISODES]))
            if person is not None:
                figures.extend(_person_figures(cell, person))
            if episode is not None:
                figures.extend(_episode_figures(cell, episode))
            if person is not None and with_rereferral:
                figures.append(cell.share("not_rereferred_12m", person[P_KEPT], person[P_PERSONS]))
            if episode is not None:
                figures.extend(_alliance_figures(cell, episode))
    return figures


class _CellMaker:
    """Builds the figures of one group, hiding by metrics.md §7.4 when there is a ``threshold``."""

    __slots__ = ("breakdown", "group", "threshold")

    def __init__(self, breakdown: str, group: str, threshold: int | None) -> None:
        self.breakdown, self.group, self.threshold = breakdown, group, threshold or 0

    def _hidden(self, indicator: str, kind: str) -> Figure:
        return (self.breakdown, self.group, indicator, kind, None, None, None, True)

    def _small(self, n: int) -> bool:
        """A (shown) count of 1..threshold−1: hidden as "<5". Zero is shown."""
        return 0 < n < self.threshold

    def count(self, indicator: str, n: int) -> Figure:
        if self._small(n):
            return self._hidden(indicator, "count")
        return (self.breakdown, self.group, indicator, "count", n, None, Decimal(n), False)

    def share(self, indicator: str, numerator: int, denominator: int) -> Figure:
        # §7.4: a protected numerator above its protected denominator is lowered to it.
        numerator = min(int(numerator), denominator)
        if self._small(denominator) or self._small(numerator):
            return self._hidden(indicator, "share")
        value = _quotient4(numerator, denominator) if denominator else None
        return (self.breakdown, self.group, indicator, "share", numerator, denominator, value, False)

    def mean(self, indicator: str, total: int, divisor: int, n: int) -> Figure:
        """A mean of ``n`` values whose sum is ``total / divisor`` (divisor = n, or 10·n for tenths)."""
        if self._small(n):
            return self._hidden(indicator, "mean")
        value = _quotient4(total, divisor) if n > 0 else None
        return (self.breakdown, self.group, indicator, "mean", None, n, value, False)

    def effect_size(self, n: int, sum_d: int, paired: int, sum_f: int, sum_f2: int) -> Figure:
        """(shown) mean change / exact sample SD of F (metrics.md §6, §7.4)."""
        if self._small(n):
            return self._hidden("effect_size", "mean")
        value = _effect_size(n, sum_d, paired, sum_f, sum_f2) if n > 0 else None
        return (self.breakdown, self.group, "effect_size", "mean", None, n,
                None if value is None else round_half_up(value, FOUR_DECIMALS), False)


def _person_figures(cell: _CellMaker, totals: Sequence[int]) -> list[Figure]:
    """index_persons … effect_size of a group's shown person totals, in table order."""
    n, paired = totals[P_PERSONS], totals[P_PAIRED]
    return [
        cell.count("index_persons", n),
        cell.share("coverage", totals[P_COVERED], n),
        cell.share("paired", paired, n),
        cell.share("reliable_improvement", totals[P_IMPROVED], paired),
        cell.share("recovered", totals[P_RECOVERED], totals[P_CLINICAL]),
        cell.share("deteriorated", totals[P_DETERIORATED], paired),
        cell.mean("mean_intake", totals[S_SUM_F], 10 * paired, paired),
        cell.mean("mean_change", totals[S_SUM_D], 10 * paired, paired),
        cell.effect_size(paired, totals[S_SUM_D], totals[S_EXACT_PAIRED], totals[S_EXACT_SUM_F],
                         totals[S_EXACT_SUM_F2]),
    ]


def _episode_figures(cell: _CellMaker, totals: Sequence[int]) -> list[Figure]:
    """mean_sessions … started_within_30d of a group's shown episode totals, in table order."""
    n = totals[E_EPISODES]
    return [
        cell.mean("mean_sessions", totals[E_SESSIONS], n, n),
        cell.mean("mean_days", totals[E_DAYS], n, n),
        cell.share("dropout", totals[E_DROPOUT], n),
        cell.share("started_within_30d", totals[E_WITHIN], totals[E_REFERRED]),
    ]


def _alliance_figures(cell: _CellMaker, totals: Sequence[int]) -> list[Figure]:
    """srs_mean and srs_below_36: the mean of the ratings is their (shown) sum over their (shown) number."""
    ratings = totals[E_SRS]
    return [cell.mean("srs_mean", totals[E_SRS_TOTAL], 10 * ratings, ratings),
            cell.share("srs_below_36", totals[E_SRS_BELOW], ratings)]


def _effect_size(n: int, sum_d: int, paired: int, sum_f: int, sum_f2: int) -> Decimal | None:
    """(sum_d / 10n) / sample SD of F (ddof = 1); None when the SD is undefined (fewer than 2) or 0.

    The SD from the exact sums (F in tenths, F² in hundredths): paired·ΣF²
    − (ΣF)² is paired times the sum of squared deviations, so the variance
    is one exact division before the square root.
    """
    if paired < 2:
        return None
    spread = paired * sum_f2 - sum_f * sum_f
    if spread == 0:
        return None
    with localcontext(CONTEXT):
        variance = Decimal(spread) / (100 * paired * (paired - 1))
        return (Decimal(sum_d) / (10 * n)) / variance.sqrt()


def _quotient4(numerator: int, divisor: int) -> Decimal:
    """numerator / divisor rounded half-up (away from zero) to four decimals, in exact integers.

    The same as dividing with Decimals and rounding with
    :func:`~fitapp.scoring.numbers.round_half_up`, without the Decimal
    division: a report makes tens of thousands of these. ``divisor`` > 0.
    """
    magnitude = (abs(numerator) * 20000 + divisor) // (2 * divisor)
    return Decimal(-magnitude if numerator < 0 else magnitude).scaleb(-4)
