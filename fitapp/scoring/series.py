"""Series summaries, outcome categories and the index series (metrics.md §3–§5)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from fitapp.scoring.instruments import (
    ALL_INSTRUMENTS,
    is_outcome,
    is_scored,
    parse_total,
)
from fitapp.scoring.norms import NormSet, age_at
from fitapp.scoring.numbers import ONE_DECIMAL

CATEGORIES = ("not_scored", "single_rating", "recovered", "improved", "deteriorated", "unchanged")
CATEGORY_LABELS_SV = {
    "not_scored": "ej poängsatt",
    "single_rating": "en mätning",
    "recovered": "återhämtad",
    "improved": "förbättrad",
    "deteriorated": "försämrad",
    "unchanged": "oförändrad",
}


@dataclass(frozen=True)
class RatingPoint:
    """One rating's total in a series (metrics.md §3)."""

    session_date: date
    session_no: int
    total: Decimal


@dataclass(frozen=True)
class SeriesSummary:
    """F, L, d, n and the category of one series (metrics.md §3–§4).

    ``change`` is None when n = 1. ``cutoff``, ``rc`` and ``intake_clinical``
    are None for alliance instruments, for YCORS and when the norm set has no
    row for the instrument and age. ``category`` is None for alliance
    instruments. ``parameter_set`` is the norm set key when a row was used.
    """

    instrument: str
    n: int
    intake_date: date
    intake_score: Decimal
    last_date: date
    last_score: Decimal
    change: Decimal | None
    cutoff: Decimal | None
    rc: Decimal | None
    intake_clinical: bool | None
    category: str | None
    parameter_set: str | None
    age_at_intake: int | None = None

    @property
    def paired(self) -> bool:
        """Scored outcome series (ORS, CORS) with n ≥ 2: counted in `paired` (metrics.md §6)."""
        return is_paired(self.instrument, self.n)


def is_paired(instrument: str, n: int) -> bool:
    """A scored outcome series (ORS, CORS) with n ≥ 2 is counted in `paired` (metrics.md §6)."""
    return is_outcome(instrument) and is_scored(instrument) and n >= 2


def categorise(
    instrument: str,
    n: int,
    intake: Decimal,
    last: Decimal,
    cutoff: Decimal | None,
    rc: Decimal | None,
) -> str:
    """Outcome category by the ordered table of metrics.md §4.

    Only outcome instruments are categorised; a scored one needs a cutoff
    and RC.
    """
    if not is_outcome(instrument):
        raise ValueError(f"only outcome instruments are categorised, not {instrument!r}")
    if n < 1:
        raise ValueError("a series has at least one rating")
    if not is_scored(instrument):
        return "not_scored"
    if n == 1:
        return "single_rating"
    if cutoff is None or rc is None:
        raise ValueError(f"{instrument} needs a cutoff and RC to be categorised")
    change = last - intake
    if change >= rc and intake < cutoff and last >= cutoff:
        return "recovered"
    if change >= rc:
        return "improved"
    if change <= -rc:
        return "deteriorated"
    return "unchanged"


def order_points(points: Iterable[RatingPoint]) -> list[RatingPoint]:
    """Points ordered by (session date, session number) (metrics.md §3).

    Two ratings at the same date and session number cannot belong to one
    series (one rater, one instrument), so that is refused rather than
    resolved by input order.
    """
    ordered = sorted(points, key=lambda p: (p.session_date, p.session_no))
    for before, after in zip(ordered, ordered[1:]):
        if (before.session_date, before.session_no) == (after.session_date, after.session_no):
            raise ValueError(f"two ratings in one series at {after.session_date} session {after.session_no}")
    return ordered


def summarise_series(
    instrument: str,
    points: Iterable[RatingPoint],
    birth_year: int | None,
    norm_set: NormSet,
) -> SeriesSummary:
    """Summary of one series (metrics.md §3) with its category (§4).

    Age at intake = year of the first rating's date − birth year (§2). A
    scored outcome instrument whose age has no row in ``norm_set`` cannot be
    categorised and is reported as ``not_scored`` without cutoff and RC.
    """
    if instrument not in ALL_INSTRUMENTS:
        raise ValueError(f"unknown instrument {instrument!r}")
    ordered = order_points(points)
    if not ordered:
        raise ValueError("a series has at least one rating")
    first, last = ordered[0], ordered[-1]
    intake, last_score = parse_total(first.total), parse_total(last.total)
    n = len(ordered)
    age = age_at(first.session_date, birth_year)
    change = (last_score - intake).quantize(ONE_DECIMAL) if n > 1 else None
    cutoff = rc = intake_clinical = parameter_set = None
    category: str | None = None
    if is_outcome(instrument):
        row = norm_set.lookup(instrument, age) if is_scored(instrument) else None
        if row is None:
            category = "not_scored"
        else:
            cutoff, rc, parameter_set = row.cutoff, row.rc, norm_set.key
            intake_clinical = intake < cutoff
            category = categorise(instrument, n, intake, last_score, cutoff, rc)
    return SeriesSummary(
        instrument=instrument,
        n=n,
        intake_date=first.session_date,
        intake_score=intake,
        last_date=last.session_date,
        last_score=last_score,
        change=change,
        cutoff=cutoff,
        rc=rc,
        intake_clinical=intake_clinical,
        category=category,
        parameter_set=parameter_set,
        age_at_intake=age,
    )


def select_index_series(candidates: Sequence[SeriesSummary]) -> SeriesSummary | None:
    """The index series among a person's self-rated series in one episode (metrics.md §5).

    Only outcome instruments count. Most ratings wins; on a tie the series
    whose first rating is later. §5 stops there; to stay deterministic we
    then prefer the later last rating, then ORS before CORS before YCORS
    (scored before unscored), then the earlier candidate.
    """
    outcome = [c for c in candidates if is_outcome(c.instrument)]
    if not outcome:
        return None
    return max(outcome, key=_index_preference)


def _index_preference(summary: SeriesSummary) -> tuple:
    # max() keeps the first of equal keys, which gives the "earlier candidate" rule.
    return (
        summary.n,
        summary.intake_date,
        summary.last_date,
        -ALL_INSTRUMENTS.index(summary.instrument),
    )
