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
from typing import NamedTuple

from fitapp.scoring.norms import age_at
from fitapp.scoring.numbers import CONTEXT, FOUR_DECIMALS, mean, round_half_up
from fitapp.scoring.series import SeriesSummary

REREFERRAL_DAYS = 365
START_WITHIN_DAYS = 30
SRS_LOW = Decimal("36.0")
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
    latest = end_date + timedelta(days=REREFERRAL_DAYS)
    return any(end_date < start <= latest for start in other_episode_starts)


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


def indicator_figures(
    episodes: Sequence[ClosedEpisode],
    persons: Sequence[IndexPerson],
    alliance: Sequence[AllianceTally],
) -> list[Figure]:
    """:func:`compute_indicators` as plain tuples, in the same order (metrics.md §6).

    Each tuple holds a :class:`Cell`'s fields in order, unsuppressed. Reports
    make tens of thousands of them, so they are tuples, not cells. One pass
    puts every record in its group of every breakdown; each group's figures
    are then summed from facts decided once per record. The alliance ratings
    come already summed per episode (see :func:`alliance_tallies`).
    """
    _check_consistent(episodes, persons, alliance)
    person_groups = _person_groups(persons)
    episode_groups = _episode_groups(episodes)
    srs_groups = _srs_groups(alliance)
    figures: list[Figure] = []
    for breakdown in BREAKDOWNS:
        by_person = person_groups[breakdown]
        by_episode = episode_groups.get(breakdown, {})
        srs = srs_groups.get(breakdown, {})
        for group in sorted(by_person.keys() | by_episode.keys(), key=lambda g: group_sort_key(breakdown, g)):
            found: dict[str, _Figure] = {}
            if group in by_episode:
                found.update(_episode_figures(by_episode[group], srs.get(group, _NO_ALLIANCE)))
            if group in by_person:
                found.update(_person_figures(by_person[group]))
            for indicator in INDICATORS:
                if indicator in found:
                    kind, numerator, denominator, value = found[indicator]
                    figures.append((breakdown, group, indicator, kind, numerator, denominator, value))
    return figures


def _person_groups(persons: Iterable[IndexPerson]) -> dict[str, dict[str, list[tuple]]]:
    """Facts of each person under its group in every breakdown (§6, age at episode start)."""
    groups: dict[str, dict[str, list[tuple]]] = {breakdown: {} for breakdown in BREAKDOWNS}
    # The all row is reported even for an empty period.
    everyone = groups[ALL_GROUP].setdefault(ALL_GROUP, [])
    by_gender, by_age, by_intervention = groups["gender"], groups["age_band"], groups["intervention"]
    for person in persons:
        fact = _person_fact(person)
        age = age_at(person.episode_start, person.birth_year)
        everyone.append(fact)
        by_gender.setdefault(gender_group(person.gender, age), []).append(fact)
        by_age.setdefault(age_band(age), []).append(fact)
        by_intervention.setdefault(person.intervention, []).append(fact)
    return groups


def _person_fact(person: IndexPerson) -> tuple:
    """What the person-level figures count of one person (§6), decided once.

    (covered, paired, improved, clinical, recovered, deteriorated, eligible,
    not re-referred, intake F, change d); flags are booleans that groups
    sum, F and d are None unless the index series is paired.
    """
    eligible = person.eligible_for_rereferral
    kept = bool(eligible) and not person.rereferred_12m
    series = person.index_series
    if series is None or not series.paired:
        return (bool(person.has_self_outcome_rating), False, False, False, False, False, bool(eligible), kept,
                None, None)
    clinical = bool(series.intake_clinical)
    return (bool(person.has_self_outcome_rating), True, _improved(series), clinical,
            clinical and series.category == "recovered", _deteriorated(series), bool(eligible), kept,
            series.intake_score, series.change)


def _episode_groups(episodes: Iterable[ClosedEpisode]) -> dict[str, dict[str, list[tuple]]]:
    """Facts of each episode under its group in the EPISODE_BREAKDOWNS (`all` always present)."""
    everyone: list[tuple] = []
    by_intervention: dict[str, list[tuple]] = {}
    for episode in episodes:
        fact = _episode_fact(episode)
        everyone.append(fact)
        by_intervention.setdefault(episode.intervention, []).append(fact)
    return {ALL_GROUP: {ALL_GROUP: everyone}, "intervention": by_intervention}


def _episode_fact(episode: ClosedEpisode) -> tuple[int, int, bool, bool, bool]:
    """(sessions, days, dropout, has a referral date, started within 30 days) of one episode (§6)."""
    referred = episode.referral_date is not None
    return (
        episode.n_sessions,
        (episode.end_date - episode.start_date).days,
        episode.end_reason == DROPOUT_REASON,
        referred,
        referred and (episode.start_date - episode.referral_date).days <= START_WITHIN_DAYS,
    )


_NO_ALLIANCE = (0, Decimal(0), 0)


def _srs_groups(alliance: Iterable[AllianceTally]) -> dict[str, dict[str, tuple[int, Decimal, int]]]:
    """(ratings, sum of totals, totals below 36.0) of each group, `all` and by intervention."""
    everyone = [0, Decimal(0), 0]
    by_intervention: dict[str, list] = {}
    for _, intervention, ratings, total, below in alliance:
        for tally in (everyone, by_intervention.setdefault(intervention, [0, Decimal(0), 0])):
            tally[0] += ratings
            tally[1] += total
            tally[2] += below
    groups = {intervention: tuple(tally) for intervention, tally in by_intervention.items()}
    return {ALL_GROUP: {ALL_GROUP: tuple(everyone)}, "intervention": groups}


def _person_figures(facts: Sequence[tuple]) -> dict[str, _Figure]:
    n = len(facts)
    if facts:
        covered, paired, improved, clinical, recovered, deteriorated, eligible, kept = (
            sum(column) for column in list(zip(*facts))[:8]
        )
    else:
        covered = paired = improved = clinical = recovered = deteriorated = eligible = kept = 0
    # F and d in the persons' order, as the effect size's sums are taken in it.
    intakes = [fact[8] for fact in facts if fact[1]]
    changes = [fact[9] for fact in facts if fact[1]]
    # Each mean once: the effect size divides the same mean d by the SD around the same mean F.
    mean_f = mean(intakes) if intakes else None
    mean_d = mean(changes) if changes else None
    return {
        "index_persons": _count(n),
        "coverage": _share(covered, n),
        "paired": _share(paired, n),
        "reliable_improvement": _share(improved, paired),
        "recovered": _share(recovered, clinical),
        "deteriorated": _share(deteriorated, paired),
        "mean_intake": _mean_figure(mean_f, paired),
        "mean_change": _mean_figure(mean_d, paired),
        "effect_size": _mean_figure(_effect_size(mean_d, intakes, mean_f), paired),
        "not_rereferred_12m": _share(kept, eligible),
    }


def _episode_figures(facts: Sequence[tuple], srs: tuple[int, Decimal, int]) -> dict[str, _Figure]:
    n = len(facts)
    sessions, days, dropout, referred, within = (sum(column) for column in zip(*facts)) if facts else (0,) * 5
    ratings, srs_sum, srs_below = srs
    return {
        "episodes_closed": _count(n),
        "mean_sessions": _mean_of_whole(sessions, n),
        "mean_days": _mean_of_whole(days, n),
        "dropout": _share(dropout, n),
        "started_within_30d": _share(within, referred),
        # The mean of the ratings: their exact sum over their number, as _mean() takes it.
        "srs_mean": _mean_figure(CONTEXT.divide(srs_sum, ratings) if ratings else None, ratings),
        "srs_below_36": _share(srs_below, ratings),
    }


def _improved(series: SeriesSummary) -> bool:
    return series.rc is not None and series.change >= series.rc


def _deteriorated(series: SeriesSummary) -> bool:
    return series.rc is not None and series.change <= -series.rc


def _effect_size(
    mean_change: Decimal | None, intakes: Sequence[Decimal], mean_intake: Decimal | None
) -> Decimal | None:
    """mean d / sample SD of F (ddof = 1); None when undefined (fewer than 2 or SD 0).

    ``mean_change`` and ``mean_intake`` are :func:`mean` of the same paired series' d and F.
    """
    if len(intakes) < 2:
        return None
    with localcontext(CONTEXT):
        variance = sum(((f - mean_intake) ** 2 for f in intakes), Decimal(0)) / (len(intakes) - 1)
        if variance == 0:
            return None
        return mean_change / variance.sqrt()


class _Figure(NamedTuple):
    """A cell's figures before it is placed in a breakdown and group."""

    kind: str
    numerator: int | None
    denominator: int | None
    value: Decimal | None


def _count(n: int) -> _Figure:
    return _Figure("count", n, None, Decimal(n))


@lru_cache(maxsize=4096)
def _share(numerator: int, denominator: int) -> _Figure:
    # Cached: a city report asks for the same few thousand small fractions over and over.
    value = _round4(CONTEXT.divide(Decimal(numerator), denominator)) if denominator else None
    return _Figure("share", int(numerator), denominator, value)


def _mean(values: Sequence[Decimal]) -> _Figure:
    if not values:
        return _mean_figure(None, 0)
    return _mean_figure(mean(values), len(values))


def _mean_of_whole(total: int, n: int) -> _Figure:
    """:func:`_mean` of ``n`` whole numbers summing to ``total``: the same Decimal, without the list."""
    return _mean_figure(CONTEXT.divide(Decimal(total), n) if n else None, n)


def _mean_figure(value: Decimal | None, n: int) -> _Figure:
    return _Figure("mean", None, n, None if value is None else _round4(value))


def _round4(value: Decimal) -> Decimal:
    return round_half_up(value, FOUR_DECIMALS)


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
