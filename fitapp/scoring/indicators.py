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
    """An episode whose end date falls in the period (metrics.md §5).

    ``record_key`` is the episode's record key (metrics.md §7.2): the
    episode-level counts add it up into their cell keys.
    """

    episode_id: Hashable
    intervention: str
    referral_date: date | None
    start_date: date
    end_date: date
    end_reason: str
    n_sessions: int
    record_key: int = 0


@dataclass(frozen=True)
class IndexPerson:
    """An index person in a closed episode (metrics.md §5).

    The caller decides ``rereferred_12m`` (see :func:`is_rereferred`), since
    it needs other episodes of the district; whether the period is reported
    for `not_rereferred_12m` at all is the period's matter
    (:func:`rereferral_reported`). ``record_key`` is the participant's record
    key (metrics.md §7.2).
    """

    episode_id: Hashable
    person_id: Hashable
    birth_year: int | None
    gender: str | None
    episode_start: date
    intervention: str
    has_self_outcome_rating: bool
    index_series: SeriesSummary | None
    rereferred_12m: bool
    record_key: int = 0


@dataclass(frozen=True)
class Cell:
    """One figure of a report (interchange.md, "Report file").

    count: ``numerator`` is the count, ``denominator`` None, ``value`` the
    count. share: numerator/denominator. mean: ``numerator`` None,
    ``denominator`` n. ``value`` is rounded half-up to 4 decimals and None
    for a share or mean with denominator 0. A ``suppressed`` cell (a
    protected figure shown as "<5", metrics.md §7.4) has no numerator,
    denominator or value.
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
    :data:`SRS_LOW`; ``key_sum`` and ``below_key_sum`` are the sums of the
    record keys of those ratings (metrics.md §7.2). Tallies add up: an
    episode may come in several.
    """

    episode_id: Hashable
    intervention: str
    ratings: int
    total: Decimal
    below: int
    key_sum: int = 0
    below_key_sum: int = 0


def alliance_tallies(srs_totals: Iterable[tuple]) -> list[AllianceTally]:
    """One :class:`AllianceTally` per episode of (episode_id, intervention, total[, record key]) ratings
    (metrics.md §6)."""
    tallies: dict[tuple[Hashable, str], list] = {}
    for episode_id, intervention, total, *key in srs_totals:
        record_key = key[0] if key else 0
        tally = tallies.setdefault((episode_id, intervention), [0, Decimal(0), 0, 0, 0])
        below = total < SRS_LOW
        tally[0] += 1
        tally[1] += total
        tally[2] += below
        tally[3] += record_key
        tally[4] += record_key if below else 0
    return [AllianceTally(episode_id, intervention, *tally) for (episode_id, intervention), tally in tallies.items()]


def is_rereferred(end_date: date, other_episode_starts: Iterable[date]) -> bool:
    """True if another episode starts after ``end_date`` and ≤ 365 days after it (metrics.md §6)."""
    return any(starts_within_a_year(end_date, start) for start in other_episode_starts)


_REREFERRAL_WINDOW = timedelta(days=REREFERRAL_DAYS)


def starts_within_a_year(end_date: date, start: date | None) -> bool:
    """True if ``start`` is after ``end_date`` and ≤ 365 days after it; False for None (metrics.md §6)."""
    return start is not None and end_date < start <= end_date + _REREFERRAL_WINDOW


def rereferral_reported(period_end: date, as_of: date) -> bool:
    """True if `not_rereferred_12m` is reported for a period ending on ``period_end`` (metrics.md §6).

    Only a period that ended at least 365 days before ``as_of``: then every
    episode's window has run its course, and a later as-of date changes nothing.
    """
    return (as_of - period_end).days >= REREFERRAL_DAYS


def rereferral_reportable_from(period_end: date) -> date:
    """The first as-of date on which `not_rereferred_12m` is reported for the period (metrics.md §6)."""
    return period_end + _REREFERRAL_WINDOW


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


# Facts and totals. A person's facts and a group's person totals (the facts summed column by
# column) share one layout, PERSON_*; an episode's facts and a group's episode totals likewise,
# EPISODE_*. Integers only: the totals of the units add up to those of ALL exactly, and every
# mean is one exact division. Each count has a key column beside it, the sum of the record keys
# of the records it counts (metrics.md §7.2): the cell key of the count is that sum mod 10^9.

# Person counts: index persons, covered (a self-rated outcome rating), paired, reliably improved,
# clinical at intake, recovered, deteriorated, not re-referred within 12 months.
P_PERSONS, P_COVERED, P_PAIRED, P_IMPROVED, P_CLINICAL, P_RECOVERED, P_DETERIORATED, P_KEPT = range(8)
PERSON_COUNTS = 8
# Sums over the paired persons: F in tenths, F² in hundredths, d in tenths.
P_SUM_F, P_SUM_F2, P_SUM_D = 8, 9, 10
# The key of count c is at PERSON_KEYS + c.
PERSON_KEYS = 11
PERSON_WIDTH = PERSON_KEYS + PERSON_COUNTS

# Episode counts: closed episodes, dropouts, with a referral date, started within 30 days,
# self-rated SRS/CSRS ratings, of them below 36.0.
E_EPISODES, E_DROPOUT, E_REFERRED, E_WITHIN, E_SRS, E_SRS_BELOW = range(6)
EPISODE_COUNTS = 6
# Sums: sessions and days over the episodes, SRS/CSRS totals in tenths over the ratings.
E_SESSIONS, E_DAYS, E_SRS_TOTAL = 6, 7, 8
# The key of count c is at EPISODE_KEYS + c.
EPISODE_KEYS = 9
EPISODE_WIDTH = EPISODE_KEYS + EPISODE_COUNTS

PersonFact = tuple[int, ...]
EpisodeFact = tuple[int, ...]


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
                                      *srs.get(e.episode_id, _NO_ALLIANCE), e.record_key))
        for e in episodes
    ]
    person_entries = [(*person_groups(p.gender, p.birth_year, p.episode_start), p.intervention, _person_fact(p))
                      for p in persons]
    return episode_entries, person_entries


_NO_ALLIANCE = (0, 0, 0, 0, 0)


def _srs_by_episode(alliance: Iterable[AllianceTally]) -> dict[Hashable, tuple[int, int, int, int, int]]:
    """(ratings, sum of totals in tenths, totals below 36.0, key sum, key sum of those below) per episode."""
    sums: dict[Hashable, tuple[int, int, int, int, int]] = {}
    for episode_id, _, ratings, total, below, key_sum, below_key_sum in alliance:
        before = sums.get(episode_id, _NO_ALLIANCE)
        sums[episode_id] = (before[0] + ratings, before[1] + (tenths(total) or 0), before[2] + below,
                            before[3] + key_sum, before[4] + below_key_sum)
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
    rereferred: bool, key: int,
) -> PersonFact:
    """What the person-level figures count of one index person (metrics.md §6), decided once.

    ``covered``: the person has a self-rated outcome rating. ``series``: the
    paired index series as (F in tenths, d in tenths, RC in hundredths,
    clinical at intake, category), or None when the index series is missing
    or not paired. ``rereferred``: see :func:`is_rereferred`. ``key``: the
    participant's record key (metrics.md §7.2).
    """
    kept = not rereferred
    if series is None:
        return (1, covered, 0, 0, 0, 0, 0, kept, 0, 0, 0,
                key, key if covered else 0, 0, 0, 0, 0, 0, key if kept else 0)
    intake_x10, change_x10, rc_x100, intake_clinical, category = series
    change = change_x10 or 0
    clinical = bool(intake_clinical)
    # d ≥ RC and d ≤ −RC compared in hundredths: d is in tenths.
    improved = rc_x100 is not None and change * 10 >= rc_x100
    deteriorated = rc_x100 is not None and change * 10 <= -rc_x100
    recovered = clinical and category == "recovered"
    return (1, covered, 1, improved, clinical, recovered, deteriorated, kept,
            intake_x10, intake_x10 * intake_x10, change,
            key, key if covered else 0, key, key if improved else 0, key if clinical else 0,
            key if recovered else 0, key if deteriorated else 0, key if kept else 0)


def _person_fact(person: IndexPerson) -> PersonFact:
    series = person.index_series
    paired = None
    if series is not None and series.paired:
        paired = (tenths(series.intake_score), tenths(series.change), hundredths(series.rc),
                  series.intake_clinical, series.category)
    return person_fact(bool(person.has_self_outcome_rating), paired,  # type: ignore[arg-type]
                       bool(person.rereferred_12m), person.record_key)


def episode_fact(
    referral_date: date | None, start_date: date, end_date: date, end_reason: str, n_sessions: int,
    srs_ratings: int, srs_total_x10: int, srs_below: int, srs_key_sum: int, srs_below_key_sum: int, key: int,
) -> EpisodeFact:
    """What the episode-level figures count of one closed episode (metrics.md §6), decided once.

    ``srs_*``: the episode's self-rated SRS/CSRS ratings (how many, their
    totals summed in tenths, how many below 36.0, and the sums of their record
    keys); ``key``: the episode's record key (metrics.md §7.2).
    """
    referred = referral_date is not None
    within = referred and (start_date - referral_date).days <= START_WITHIN_DAYS  # type: ignore[operator]
    dropout = end_reason == DROPOUT_REASON
    return (
        1, dropout, referred, within, srs_ratings, srs_below,
        n_sessions, (end_date - start_date).days, srs_total_x10,
        key, key if dropout else 0, key if referred else 0, key if within else 0, srs_key_sum, srs_below_key_sum,
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
    person_totals[ALL_GROUP] = {ALL_GROUP: added(person_totals["gender"].values(), PERSON_WIDTH)}
    episode_totals[ALL_GROUP] = {ALL_GROUP: added(episode_totals["intervention"].values(), EPISODE_WIDTH)}
    return BlockTotals(person_totals, episode_totals)


def _summed(groups: dict[str, list]) -> dict[str, list[int]]:
    """Each group's facts summed column by column (every group has at least one record)."""
    return {group: [sum(column) for column in zip(*facts)] for group, facts in groups.items()}


def added(totals: Iterable[Sequence[int]], width: int) -> list[int]:
    """Totals added up column by column; zeros when there are none."""
    result = [0] * width
    for one in totals:
        result = list(map(add, result, one))
    return result


def merged_totals(blocks: Iterable[BlockTotals]) -> BlockTotals:
    """The totals of the union of disjoint blocks (ALL from its units): every column adds up.

    Works on any layout whose columns add up: the protected totals of
    :mod:`fitapp.scoring.protection` are merged the same way (metrics.md §7.5).
    """
    merged: BlockTotals | None = None
    for block in blocks:
        if merged is None:
            merged = BlockTotals({b: {g: list(t) for g, t in groups.items()} for b, groups in block.persons.items()},
                                 {b: {g: list(t) for g, t in groups.items()} for b, groups in block.episodes.items()})
            continue
        _add_into(merged.persons, block.persons)
        _add_into(merged.episodes, block.episodes)
    return merged if merged is not None else block_totals((), ())


def _add_into(target: dict[str, dict[str, list[int]]], source: dict[str, dict[str, list[int]]]) -> None:
    for breakdown, groups in source.items():
        into = target.setdefault(breakdown, {})
        for group, totals in groups.items():
            before = into.get(group)
            into[group] = list(totals) if before is None else list(map(add, before, totals))


_MISSING = object()


def check_consistent(
    episodes: Sequence[ClosedEpisode],
    persons: Sequence[IndexPerson],
    alliance: Sequence[AllianceTally],
) -> None:
    """Refuse mismatched records: they would silently give figures that do not add up."""
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
