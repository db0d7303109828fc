"""Unit-report indicators and their breakdowns (metrics.md §5–§6).

The caller (reports/queries.py) selects the closed episodes of a period and
scope and hands over plain records; everything here is arithmetic.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, localcontext
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


def person_group(breakdown: str, person: IndexPerson) -> str:
    """The group of ``person`` in ``breakdown`` (metrics.md §6, age at episode start)."""
    age = age_at(person.episode_start, person.birth_year)
    if breakdown == "all":
        return ALL_GROUP
    if breakdown == "gender":
        return gender_group(person.gender, age)
    if breakdown == "age_band":
        return age_band(age)
    if breakdown == "intervention":
        return person.intervention
    raise ValueError(f"unknown breakdown {breakdown!r}")


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
    _check_consistent(episodes, persons, srs_totals)
    cells: list[Cell] = []
    for breakdown in BREAKDOWNS:
        person_groups = _group(persons, lambda p: person_group(breakdown, p))
        episode_groups: dict[str, list] = {}
        srs_groups: dict[str, list] = {}
        if breakdown in EPISODE_BREAKDOWNS:
            episode_groups = _group(episodes, lambda e: _episode_group(breakdown, e.intervention))
            srs_groups = _group(srs_totals, lambda s: _episode_group(breakdown, s[1]))
        if breakdown == ALL_GROUP:
            # The all row is reported even for an empty period.
            person_groups.setdefault(ALL_GROUP, [])
            episode_groups.setdefault(ALL_GROUP, [])
        for group in sorted(set(person_groups) | set(episode_groups), key=lambda g: group_sort_key(breakdown, g)):
            figures: dict[str, _Figure] = {}
            if group in episode_groups:
                srs = [total for _, _, total in srs_groups.get(group, [])]
                figures.update(_episode_figures(episode_groups[group], srs))
            if group in person_groups:
                figures.update(_person_figures(person_groups[group]))
            cells.extend(
                Cell(breakdown, group, indicator, *figures[indicator])
                for indicator in INDICATORS
                if indicator in figures
            )
    return cells


def _episode_group(breakdown: str, intervention: str) -> str:
    return ALL_GROUP if breakdown == ALL_GROUP else intervention


def _person_figures(persons: Sequence[IndexPerson]) -> dict[str, _Figure]:
    series = [p.index_series for p in persons if p.index_series is not None and p.index_series.paired]
    paired = len(series)
    clinical = [s for s in series if s.intake_clinical]
    eligible = [p for p in persons if p.eligible_for_rereferral]
    intakes = [s.intake_score for s in series]
    changes = [s.change for s in series]
    return {
        "index_persons": _count(len(persons)),
        "coverage": _share(sum(p.has_self_outcome_rating for p in persons), len(persons)),
        "paired": _share(paired, len(persons)),
        "reliable_improvement": _share(sum(_improved(s) for s in series), paired),
        "recovered": _share(sum(s.category == "recovered" for s in clinical), len(clinical)),
        "deteriorated": _share(sum(_deteriorated(s) for s in series), paired),
        "mean_intake": _mean(intakes),
        "mean_change": _mean(changes),
        "effect_size": _mean_figure(_effect_size(changes, intakes), paired),
        "not_rereferred_12m": _share(sum(not p.rereferred_12m for p in eligible), len(eligible)),
    }


def _episode_figures(episodes: Sequence[ClosedEpisode], srs: Sequence[Decimal]) -> dict[str, _Figure]:
    referred = [e for e in episodes if e.referral_date is not None]
    return {
        "episodes_closed": _count(len(episodes)),
        "mean_sessions": _mean([Decimal(e.n_sessions) for e in episodes]),
        "mean_days": _mean([Decimal((e.end_date - e.start_date).days) for e in episodes]),
        "dropout": _share(sum(e.end_reason == DROPOUT_REASON for e in episodes), len(episodes)),
        "started_within_30d": _share(
            sum((e.start_date - e.referral_date).days <= START_WITHIN_DAYS for e in referred), len(referred)
        ),
        "srs_mean": _mean(list(srs)),
        "srs_below_36": _share(sum(total < SRS_LOW for total in srs), len(srs)),
    }


def _improved(series: SeriesSummary) -> bool:
    return series.rc is not None and series.change >= series.rc


def _deteriorated(series: SeriesSummary) -> bool:
    return series.rc is not None and series.change <= -series.rc


def _effect_size(changes: Sequence[Decimal], intakes: Sequence[Decimal]) -> Decimal | None:
    """mean d / sample SD of F (ddof = 1); None when undefined (fewer than 2 or SD 0)."""
    if len(intakes) < 2:
        return None
    with localcontext(CONTEXT):
        mean_f = mean(intakes)
        variance = sum(((f - mean_f) ** 2 for f in intakes), Decimal(0)) / (len(intakes) - 1)
        if variance == 0:
            return None
        return mean(changes) / variance.sqrt()


class _Figure(NamedTuple):
    """A cell's figures before it is placed in a breakdown and group."""

    kind: str
    numerator: int | None
    denominator: int | None
    value: Decimal | None


def _count(n: int) -> _Figure:
    return _Figure("count", n, None, Decimal(n))


def _share(numerator: int, denominator: int) -> _Figure:
    value = _round4(CONTEXT.divide(Decimal(numerator), denominator)) if denominator else None
    return _Figure("share", int(numerator), denominator, value)


def _mean(values: Sequence[Decimal]) -> _Figure:
    if not values:
        return _mean_figure(None, 0)
    return _mean_figure(mean(values), len(values))


def _mean_figure(value: Decimal | None, n: int) -> _Figure:
    return _Figure("mean", None, n, None if value is None else _round4(value))


def _round4(value: Decimal) -> Decimal:
    return round_half_up(value, FOUR_DECIMALS)


def _group(records: Iterable, key: Callable) -> dict[str, list]:
    groups: dict[str, list] = {}
    for record in records:
        groups.setdefault(key(record), []).append(record)
    return groups


def _check_consistent(
    episodes: Sequence[ClosedEpisode],
    persons: Sequence[IndexPerson],
    srs_totals: Sequence[tuple[Hashable, str, Decimal]],
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
        if interventions.get(person.episode_id, object()) != person.intervention:
            raise ValueError(f"index person {person.person_id!r} is not in a closed episode with that intervention")
    for episode_id, intervention, _ in srs_totals:
        if interventions.get(episode_id, object()) != intervention:
            raise ValueError(f"SRS rating of episode {episode_id!r} is not in a closed episode with that intervention")
