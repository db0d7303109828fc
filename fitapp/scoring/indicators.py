"""Unit-report indicators and their breakdowns (metrics.md §5–§6).

The caller (reports/queries.py) selects the closed episodes of a period and
scope and hands over plain records; everything here is arithmetic.
"""
from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, localcontext
from functools import lru_cache
from operator import add
from typing import NamedTuple

from fitapp.scoring.norms import age_at
from fitapp.scoring.numbers import CONTEXT, FOUR_DECIMALS, hundredths, round_half_up, tenths
from fitapp.scoring.series import SeriesSummary

REREFERRAL_DAYS = 365
START_WITHIN_DAYS = 30
SRS_LOW = Decimal("36.0")
# metrics.md §6 srs_mean / srs_below_36: self-rated SRS/CSRS only; YCSRS is not scored (§1).
SCORED_ALLIANCE = ("SRS", "CSRS")
DROPOUT_REASON = "client_dropout"

# metrics.md §6, table order.
INDICATORS = (
    "episodes_closed",
    "index_persons",
    "coverage",
    "paired",
    "reliable_improvement",
    "recovered",
    "deteriorated",
    "mean_intake",
    "mean_change",
    "effect_size",
    "mean_sessions",
    "mean_days",
    "dropout",
    "started_within_30d",
    "not_rereferred_12m",
    "srs_mean",
    "srs_below_36",
)
PERSON_LEVEL = frozenset(INDICATORS[INDICATORS.index("index_persons"):INDICATORS.index("effect_size") + 1]) | {
    "not_rereferred_12m"
}
EPISODE_LEVEL = frozenset(INDICATORS) - PERSON_LEVEL

# effect_size is reported like a mean: no numerator, denominator = paired.
INDICATOR_KINDS = {
    "episodes_closed": "count",
    "index_persons": "count",
    "coverage": "share",
    "paired": "share",
    "reliable_improvement": "share",
    "recovered": "share",
    "deteriorated": "share",
    "mean_intake": "mean",
    "mean_change": "mean",
    "effect_size": "mean",
    "mean_sessions": "mean",
    "mean_days": "mean",
    "dropout": "share",
    "started_within_30d": "share",
    "not_rereferred_12m": "share",
    "srs_mean": "mean",
    "srs_below_36": "share",
}
KINDS = ("count", "share", "mean")

BREAKDOWNS = ("all", "gender", "age_band", "intervention")
# Episode-level indicators are broken down by intervention only (§6).
EPISODE_BREAKDOWNS = ("all", "intervention")
ALL_GROUP = "all"
GENDERS = ("female", "male", "other")
# Group order as listed in §6; interventions have no fixed list and sort by code.
GROUP_ORDER: dict[str, tuple[str, ...]] = {
    "all": (ALL_GROUP,),
    "gender": ("flicka", "pojke", "kvinna", "man", "annat", "uppgift_saknas"),
    "age_band": ("0-5", "6-12", "13-17", "18+", "okand"),
}


@dataclass(frozen=True)
class ClosedEpisode:
    """An episode whose end date falls in the period (metrics.md §5)."""

    episode_id: Hashable
    intervention: str
    referral_date: date | None
    start_date: date
    end_date: date
    end_reason: str
    n_sessions: int


@dataclass(frozen=True)
class IndexPerson:
    """An index person in a closed episode (metrics.md §5).

    The caller decides ``eligible_for_rereferral`` (see
    :func:`rereferral_eligible`) and ``rereferred_12m`` (see
    :func:`is_rereferred`), since both need other episodes of the district.
    """

    episode_id: Hashable
    person_id: Hashable
    birth_year: int | None
    gender: str | None
    episode_start: date
    intervention: str
    has_self_outcome_rating: bool
    index_series: SeriesSummary | None
    eligible_for_rereferral: bool
    rereferred_12m: bool


@dataclass(frozen=True)
class Cell:
    """One figure of a report (interchange.md, "Report file").

    count: ``numerator`` is the count, ``denominator`` None, ``value`` the
    count. share: numerator/denominator. mean: ``numerator`` None,
    ``denominator`` n. ``value`` is rounded half-up to 4 decimals and None
    for a share or mean with denominator 0. ``suppressed`` is set by
    :func:`fitapp.scoring.suppression.suppress` (metrics.md §7), which then
    blanks numerator, denominator and value.
    """

    breakdown: str
    group: str
    indicator: str
    kind: str
    numerator: Decimal | int | None
    denominator: int | None
    value: Decimal | None
    suppressed: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown cell kind {self.kind!r}")


class AllianceTally(NamedTuple):
    """The self-rated SRS/CSRS ratings of one closed episode, summed (metrics.md §6 srs_mean, srs_below_36).

    ``total`` is the sum of their totals, ``below`` how many totals are below
    :data:`SRS_LOW`. Tallies add up: an episode may come in several.
    """

    episode_id: Hashable
    intervention: str
    ratings: int
    total: Decimal
    below: int


def alliance_tallies(srs_totals: Iterable[tuple[Hashable, str, Decimal]]) -> list[AllianceTally]:
    """One :class:`AllianceTally` per episode of (episode_id, intervention, total) ratings (metrics.md §6)."""
    tallies: dict[tuple[Hashable, str], list] = {}
    for episode_id, intervention, total in srs_totals:
        tally = tallies.setdefault((episode_id, intervention), [0, Decimal(0), 0])
        tally[0] += 1
        tally[1] += total
        tally[2] += total < SRS_LOW
    return [AllianceTally(episode_id, intervention, n, total, below)
            for (episode_id, intervention), (n, total, below) in tallies.items()]


def is_rereferred(end_date: date, other_episode_starts: Iterable[date]) -> bool:
    """True if another episode starts after ``end_date`` and ≤ 365 days after it (metrics.md §6)."""
    return any(starts_within_a_year(end_date, start) for start in other_episode_starts)


_REREFERRAL_WINDOW = timedelta(days=REREFERRAL_DAYS)


def starts_within_a_year(end_date: date, start: date | None) -> bool:
    """True if ``start`` is after ``end_date`` and ≤ 365 days after it; False for None (metrics.md §6)."""
    return start is not None and end_date < start <= end_date + _REREFERRAL_WINDOW


def rereferral_eligible(end_date: date, as_of: date) -> bool:
    """True if the episode ended ≥ 365 days before ``as_of`` (metrics.md §6, not_rereferred_12m)."""
    return (as_of - end_date).days >= REREFERRAL_DAYS


def gender_group(gender: str | None, age: int | None) -> str:
    """Gender group with age at episode start (metrics.md §6, breakdown `gender`).

    Under 18 or unknown age: flicka/pojke; 18 and over: kvinna/man.
    """
    if gender is None:
        return "uppgift_saknas"
    if gender not in GENDERS:
        raise ValueError(f"unknown gender {gender!r}")
    if gender == "other":
        return "annat"
    adult = age is not None and age >= 18
    if gender == "female":
        return "kvinna" if adult else "flicka"
    return "man" if adult else "pojke"


def age_band(age: int | None) -> str:
    """Age band at episode start: 0-5, 6-12, 13-17, 18+, okand (metrics.md §6)."""
    if age is None:
        return "okand"
    if age < 0:
        raise ValueError(f"age at episode start cannot be negative ({age}): check the birth year")
    if age <= 5:
        return "0-5"
    if age <= 12:
        return "6-12"
    if age <= 17:
        return "13-17"
    return "18+"


def group_sort_key(breakdown: str, group: str) -> tuple[int, str]:
    """Sort key giving §6's group order; interventions (and unknown groups) by code."""
    order = GROUP_ORDER.get(breakdown, ())
    return (order.index(group), "") if group in order else (len(order), group)


def compute_indicators(
    episodes: Sequence[ClosedEpisode],
    persons: Sequence[IndexPerson],
    srs_totals: Sequence[tuple[Hashable, str, Decimal]],
) -> list[Cell]:
    """All §6 indicators for one period and scope (metrics.md §6).

    ``srs_totals`` holds (episode_id, intervention, total) for every
    self-rated SRS/CSRS rating in the closed episodes. Returns the `all`
    breakdown for every indicator, person-level indicators by gender,
    age_band and intervention, episode-level ones by intervention. Cells are
    ordered by breakdown, then group (§6 order), then indicator (§6 order).
    """
    return [Cell(*figure) for figure in indicator_figures(episodes, persons, alliance_tallies(srs_totals))]


# What indicator_figures() returns: the fields of a Cell, in order, before suppression.
Figure = tuple[str, str, str, str, int | None, int | None, Decimal | None]

# A person's facts and a group's person totals (the facts summed column by column) share one
# layout: (persons, covered, paired, improved, clinical at intake, recovered, deteriorated,
# eligible for re-referral, not re-referred, F in tenths, F² in hundredths, d in tenths), F and d
# of paired persons only. An episode's facts and a group's episode totals likewise: (episodes,
# sessions, days, dropouts, with a referral date, started within 30 days, self-rated SRS/CSRS
# ratings, the sum of their totals in tenths, how many are below 36.0). Integers only: the
# totals of the units add up to those of ALL exactly, and every mean is one exact division.
PersonFact = tuple[int, ...]
EpisodeFact = tuple[int, ...]
PERSON_WIDTH = 12
EPISODE_WIDTH = 9
# The indicators of each level in table order: the order of the figures below.
EPISODE_INDICATORS = tuple(indicator for indicator in INDICATORS if indicator in EPISODE_LEVEL)
PERSON_INDICATORS = tuple(indicator for indicator in INDICATORS if indicator in PERSON_LEVEL)


def indicator_figures(
    episodes: Sequence[ClosedEpisode],
    persons: Sequence[IndexPerson],
    alliance: Sequence[AllianceTally],
) -> list[Figure]:
    """:func:`compute_indicators` as plain tuples, in the same order (metrics.md §6).

    Each tuple holds a :class:`Cell`'s fields in order, unsuppressed. Reports
    make tens of thousands of them, so they are tuples, not cells. Each record
    is turned into its facts once (:func:`person_fact`, :func:`episode_fact`),
    the facts are summed per group (:func:`block_totals`), and the figures
    come from the sums (:func:`block_figures`). The alliance ratings come
    already summed per episode (see :func:`alliance_tallies`).
    """
    _check_consistent(episodes, persons, alliance)
    return block_figures(block_totals(*block_entries(episodes, persons, alliance)))


def block_entries(
    episodes: Iterable[ClosedEpisode],
    persons: Iterable[IndexPerson],
    alliance: Iterable[AllianceTally],
) -> tuple[list[tuple[str, EpisodeFact]], list[tuple[str, str, str, PersonFact]]]:
    """The records as :func:`block_totals` takes them: (intervention, facts) per episode and
    (gender group, age band, intervention, facts) per index person."""
    srs = _srs_by_episode(alliance)
    episode_entries = [
        (e.intervention, episode_fact(e.referral_date, e.start_date, e.end_date, e.end_reason, e.n_sessions,
                                      *srs.get(e.episode_id, _NO_ALLIANCE)))
        for e in episodes
    ]
    person_entries = [(*person_groups(p.gender, p.birth_year, p.episode_start), p.intervention, _person_fact(p))
                      for p in persons]
    return episode_entries, person_entries


_NO_ALLIANCE = (0, 0, 0)


def _srs_by_episode(alliance: Iterable[AllianceTally]) -> dict[Hashable, tuple[int, int, int]]:
    """(ratings, sum of totals in tenths, totals below 36.0) of each episode's tallies."""
    sums: dict[Hashable, tuple[int, int, int]] = {}
    for episode_id, _, ratings, total, below in alliance:
        before = sums.get(episode_id, _NO_ALLIANCE)
        sums[episode_id] = (before[0] + ratings, before[1] + tenths(total), before[2] + below)
    return sums


def person_groups(gender: str | None, birth_year: int | None, episode_start: date) -> tuple[str, str]:
    """The person's gender group and age band, by age at episode start (metrics.md §6 breakdowns).

    A birth year after the start year (a child not yet born when the
    intervention started, or a typing error) gives no age at episode start:
    the person counts as of unknown age (`okand`; flicka/pojke), as §6 does
    for a missing birth year, rather than stopping every report it is in.
    """
    age = age_at(episode_start, birth_year)
    return _groups_at_age(gender, None if age is not None and age < 0 else age)


@lru_cache(maxsize=1024)
def _groups_at_age(gender: str | None, age: int | None) -> tuple[str, str]:
    # Cached: there are only a few hundred (gender, age) pairs, and a city report asks thousands of times.
    return gender_group(gender, age), age_band(age)


def person_fact(
    covered: bool, series: tuple[int, int | None, int | None, bool | None, str | None] | None,
    eligible: bool, rereferred: bool,
) -> PersonFact:
    """What the person-level figures count of one index person (metrics.md §6), decided once.

    ``covered``: the person has a self-rated outcome rating. ``series``: the
    paired index series as (F in tenths, d in tenths, RC in hundredths,
    clinical at intake, category), or None when the index series is missing
    or not paired. ``eligible``/``rereferred``: see :func:`rereferral_eligible`
    and :func:`is_rereferred`.
    """
    kept = eligible and not rereferred
    if series is None:
        return (1, covered, 0, 0, 0, 0, 0, eligible, kept, 0, 0, 0)
    intake_x10, change_x10, rc_x100, intake_clinical, category = series
    clinical = bool(intake_clinical)
    # d ≥ RC and d ≤ −RC compared in hundredths: d is in tenths.
    improved = rc_x100 is not None and change_x10 * 10 >= rc_x100
    deteriorated = rc_x100 is not None and change_x10 * 10 <= -rc_x100
    return (1, covered, 1, improved, clinical, clinical and category == "recovered", deteriorated, eligible, kept,
            intake_x10, intake_x10 * intake_x10, change_x10)


def _person_fact(person: IndexPerson) -> PersonFact:
    series = person.index_series
    paired = None
    if series is not None and series.paired:
        paired = (tenths(series.intake_score), tenths(series.change), hundredths(series.rc),
                  series.intake_clinical, series.category)
    return person_fact(bool(person.has_self_outcome_rating), paired, bool(person.eligible_for_rereferral),
                       bool(person.rereferred_12m))


def episode_fact(
    referral_date: date | None, start_date: date, end_date: date, end_reason: str, n_sessions: int,
    srs_ratings: int, srs_total_x10: int, srs_below: int,
) -> EpisodeFact:
    """What the episode-level figures count of one closed episode (metrics.md §6), decided once."""
    referred = referral_date is not None
    return (
        1,
        n_sessions,
        (end_date - start_date).days,
        end_reason == DROPOUT_REASON,
        referred,
        referred and (start_date - referral_date).days <= START_WITHIN_DAYS,
        srs_ratings,
        srs_total_x10,
        srs_below,
    )


@dataclass
class BlockTotals:
    """The summed facts of every group of one block, a unit or ALL (metrics.md §6 breakdowns).

    ``persons[breakdown][group]`` and ``episodes[breakdown][group]`` are
    totals in the layouts above; `all` is always there, also when empty.
    Episode totals exist for the EPISODE_BREAKDOWNS only.
    """

    persons: dict[str, dict[str, list[int]]]
    episodes: dict[str, dict[str, list[int]]]


def block_totals(
    episodes: Iterable[tuple[str, EpisodeFact]],
    persons: Iterable[tuple[str, str, str, PersonFact]],
) -> BlockTotals:
    """Totals of each group from (intervention, facts) per episode and
    (gender group, age band, intervention, facts) per index person."""
    by_gender: dict[str, list] = {}
    by_age: dict[str, list] = {}
    by_intervention: dict[str, list] = {}
    for gender, band, intervention, fact in persons:
        by_gender.setdefault(gender, []).append(fact)
        by_age.setdefault(band, []).append(fact)
        by_intervention.setdefault(intervention, []).append(fact)
    episodes_by_intervention: dict[str, list] = {}
    for intervention, fact in episodes:
        episodes_by_intervention.setdefault(intervention, []).append(fact)
    person_totals = {"gender": _summed(by_gender), "age_band": _summed(by_age),
                     "intervention": _summed(by_intervention)}
    episode_totals = {"intervention": _summed(episodes_by_intervention)}
    # Every person is in exactly one gender group and every episode in one intervention group,
    # so `all` adds those up rather than summing every record again.
    person_totals[ALL_GROUP] = {ALL_GROUP: _added(person_totals["gender"].values(), PERSON_WIDTH)}
    episode_totals[ALL_GROUP] = {ALL_GROUP: _added(episode_totals["intervention"].values(), EPISODE_WIDTH)}
    return BlockTotals(person_totals, episode_totals)


def _summed(groups: dict[str, list]) -> dict[str, list[int]]:
    """Each group's facts summed column by column (every group has at least one record)."""
    return {group: [sum(column) for column in zip(*facts)] for group, facts in groups.items()}


def _added(totals: Iterable[list[int]], width: int) -> list[int]:
    """Totals added up column by column; zeros when there are none."""
    result = [0] * width
    for one in totals:
        result = list(map(add, result, one))
    return result


def merged_totals(blocks: Iterable[BlockTotals]) -> BlockTotals:
    """The totals of the union of disjoint blocks (ALL from its units): every column adds up."""
    merged = BlockTotals({breakdown: {} for breakdown in BREAKDOWNS},
                         {breakdown: {} for breakdown in EPISODE_BREAKDOWNS})
    merged.persons[ALL_GROUP][ALL_GROUP] = [0] * PERSON_WIDTH
    merged.episodes[ALL_GROUP][ALL_GROUP] = [0] * EPISODE_WIDTH
    for block in blocks:
        _add_into(merged.persons, block.persons)
        _add_into(merged.episodes, block.episodes)
    return merged


def _add_into(target: dict[str, dict[str, list[int]]], source: dict[str, dict[str, list[int]]]) -> None:
    for breakdown, groups in source.items():
        into = target[breakdown]
        for group, totals in groups.items():
            before = into.get(group)
            into[group] = list(totals) if before is None else list(map(add, before, totals))


def block_figures(totals: BlockTotals, threshold: int | None = None) -> list[Figure]:
    """The figures of every group of a block, ordered by breakdown, group (§6 order), indicator (§6 order).

    With ``threshold``, a cell that primary suppression hides whatever else
    happens (a count, numerator or denominator of 1..threshold−1, metrics.md
    §7) gets no value: it is never shown, and working out the values of the
    many small groups of a city report was most of its time. Everything else
    about the cell is the same.
    """
    threshold = threshold or 0
    figures: list[Figure] = []
    for breakdown in BREAKDOWNS:
        by_person = totals.persons.get(breakdown, {})
        by_episode = totals.episodes.get(breakdown, {})
        for group in sorted(by_person.keys() | by_episode.keys(), key=lambda g: group_sort_key(breakdown, g)):
            cell = _CellMaker(breakdown, group, threshold)
            episode, person = by_episode.get(group), by_person.get(group)
            # §6 table order: the levels interleave.
            if episode is not None:
                figures.append(cell.count("episodes_closed", episode[0]))
            if person is not None:
                figures.extend(_person_figures(cell, person))
            if episode is not None:
                figures.extend(_episode_figures(cell, episode))
            if person is not None:
                figures.append(cell.share("not_rereferred_12m", person[8], person[7]))
            if episode is not None:
                figures.extend(_alliance_figures(cell, episode))
    return figures


class _CellMaker:
    """Builds the figures of one group: (breakdown, group, indicator, kind, numerator, denominator, value).

    ``threshold`` 0 means no cell is left without its value.
    """

    __slots__ = ("breakdown", "group", "threshold")

    def __init__(self, breakdown: str, group: str, threshold: int) -> None:
        self.breakdown, self.group, self.threshold = breakdown, group, threshold

    def count(self, indicator: str, n: int) -> Figure:
        shown = not 0 < n < self.threshold
        return (self.breakdown, self.group, indicator, "count", n, None, Decimal(n) if shown else None)

    def share(self, indicator: str, numerator: int, denominator: int) -> Figure:
        numerator = int(numerator)
        shown = denominator and not (0 < numerator < self.threshold or 0 < denominator < self.threshold)
        return (self.breakdown, self.group, indicator, "share", numerator, denominator,
                _quotient4(numerator, denominator) if shown else None)

    def mean(self, indicator: str, total: int, divisor: int, n: int) -> Figure:
        """A mean of ``n`` values whose sum is ``total / divisor`` (divisor = n, or 10·n for tenths)."""
        shown = n >= self.threshold and n > 0
        return (self.breakdown, self.group, indicator, "mean", None, n, _quotient4(total, divisor) if shown else None)

    def effect_size(self, paired: int, sum_f: int, sum_f2: int, sum_d: int) -> Figure:
        value = _effect_size(paired, sum_f, sum_f2, sum_d) if paired >= self.threshold else None
        return (self.breakdown, self.group, "effect_size", "mean", None, paired,
                None if value is None else round_half_up(value, FOUR_DECIMALS))


def _person_figures(cell: _CellMaker, totals: Sequence[int]) -> list[Figure]:
    """index_persons … effect_size of a group's person totals, in table order."""
    n, covered, paired, improved, clinical, recovered, deteriorated, _, _, sum_f, sum_f2, sum_d = totals
    return [
        cell.count("index_persons", n),
        cell.share("coverage", covered, n),
        cell.share("paired", paired, n),
        cell.share("reliable_improvement", improved, paired),
        cell.share("recovered", recovered, clinical),
        cell.share("deteriorated", deteriorated, paired),
        cell.mean("mean_intake", sum_f, 10 * paired, paired),
        cell.mean("mean_change", sum_d, 10 * paired, paired),
        cell.effect_size(paired, sum_f, sum_f2, sum_d),
    ]


def _episode_figures(cell: _CellMaker, totals: Sequence[int]) -> list[Figure]:
    """mean_sessions … started_within_30d of a group's episode totals, in table order."""
    n, sessions, days, dropout, referred, within = totals[:6]
    return [
        cell.mean("mean_sessions", sessions, n, n),
        cell.mean("mean_days", days, n, n),
        cell.share("dropout", dropout, n),
        cell.share("started_within_30d", within, referred),
    ]


def _alliance_figures(cell: _CellMaker, totals: Sequence[int]) -> list[Figure]:
    """srs_mean and srs_below_36 of a group's episode totals: the mean of the ratings is their exact sum over
    their number."""
    ratings, srs_sum_x10, srs_below = totals[6:]
    return [cell.mean("srs_mean", srs_sum_x10, 10 * ratings, ratings), cell.share("srs_below_36", srs_below, ratings)]


def _effect_size(paired: int, sum_f: int, sum_f2: int, sum_d: int) -> Decimal | None:
    """mean d / sample SD of F (ddof = 1); None when undefined (fewer than 2 or SD 0).

    From the exact sums (F and d in tenths, F² in hundredths): n·ΣF² − (ΣF)²
    is n times the sum of squared deviations, so the variance is one exact
    division before the square root.
    """
    if paired < 2:
        return None
    spread = paired * sum_f2 - sum_f * sum_f
    if spread == 0:
        return None
    with localcontext(CONTEXT):
        variance = Decimal(spread) / (100 * paired * (paired - 1))
        return (Decimal(sum_d) / (10 * paired)) / variance.sqrt()


def _quotient4(numerator: int, divisor: int) -> Decimal:
    """numerator / divisor rounded half-up (away from zero) to four decimals, in exact integers.

    The same as dividing with Decimals and rounding with
    :func:`~fitapp.scoring.numbers.round_half_up`, without the Decimal
    division: a report makes tens of thousands of these. ``divisor`` > 0.
    """
    magnitude = (abs(numerator) * 20000 + divisor) // (2 * divisor)
    return Decimal(-magnitude if numerator < 0 else magnitude).scaleb(-4)


_MISSING = object()


def _check_consistent(
    episodes: Sequence[ClosedEpisode],
    persons: Sequence[IndexPerson],
    alliance: Sequence[AllianceTally],
) -> None:
    # Mismatched inputs would silently give figures that do not add up.
    interventions = {}
    for episode in episodes:
        if episode.episode_id in interventions:
            raise ValueError(f"episode {episode.episode_id!r} given twice")
        interventions[episode.episode_id] = episode.intervention
    seen = set()
    for person in persons:
        key = (person.episode_id, person.person_id)
        if key in seen:
            raise ValueError(f"index person {person.person_id!r} given twice in episode {person.episode_id!r}")
        seen.add(key)
        if interventions.get(person.episode_id, _MISSING) != person.intervention:
            raise ValueError(f"index person {person.person_id!r} is not in a closed episode with that intervention")
    for episode_id, intervention, *_ in alliance:
        if interventions.get(episode_id, _MISSING) != intervention:
            raise ValueError(f"SRS rating of episode {episode_id!r} is not in a closed episode with that intervention")
