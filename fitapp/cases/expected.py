"""Expected change on the episode page (metrics.md §8): reference series and their line.

The reference for a series is the organisation's closed episodes' paired,
self-rated series of the same instrument whose intake lies in the same
5-point band (:func:`fitapp.scoring.alerts.intake_band`). They are found in
the derived ``series_summary`` table and their live totals loaded in one
query for all the bands a page needs, the most recent ``MAX_REFERENCE_SERIES``
series per band only, so the page stays fast however large the organisation
grows. Lines are kept for one request (one :class:`ExpectedLines`), never
across requests.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from itertools import groupby

from sqlalchemy import and_, case, func, literal_column, or_, select

from fitapp.extensions import db
from fitapp.models import Episode, Rating, Session
from fitapp.models.ratings import live_ratings
from fitapp.models.series import SeriesSummaryRecord
from fitapp.scoring.alerts import Trajectory, expected_trajectory, intake_band

MAX_REFERENCE_SERIES = 500


@dataclass(frozen=True)
class Expected:
    """An expected line and what it rests on, for the screen."""

    instrument: str
    band_low: Decimal
    band_high: Decimal
    trajectory: Trajectory

    @property
    def n_series(self) -> int:
        return self.trajectory.n_series


def band_bounds(intake: Decimal) -> tuple[Decimal, Decimal]:
    """Lowest and highest total of the intake band of ``intake`` ("20-24.9" -> 20, 24.9)."""
    low, high = intake_band(intake).split("-")
    return Decimal(low), Decimal(high)


class ExpectedLines:
    """Expected lines per (instrument, intake band) for one request.

    :meth:`load` finds the lines of every series of a page in one query;
    :meth:`for_series` looks up a line (and loads a band nobody asked for
    beforehand on its own).
    """

    def __init__(self) -> None:
        self._found: dict[tuple[str, Decimal], Expected | None] = {}

    def load(self, series: Iterable[tuple[str, Decimal]]) -> None:
        """Load the lines of (instrument, intake total) pairs not loaded yet, in one query."""
        keys = {(instrument, *band_bounds(intake)) for instrument, intake in series}
        keys = {key for key in keys if key[:2] not in self._found}
        if not keys:
            return
        totals = reference_totals_by_band(keys)
        for instrument, low, high in keys:
            trajectory = expected_trajectory(totals[(instrument, low)])
            self._found[(instrument, low)] = (
                None if trajectory is None else Expected(instrument, low, high, trajectory))

    def for_series(self, instrument: str, intake: Decimal) -> Expected | None:
        key = (instrument, band_bounds(intake)[0])
        if key not in self._found:
            self.load([(instrument, intake)])
        return self._found[key]


def reference_totals(instrument: str, band_low: Decimal, band_high: Decimal,
                     limit: int = MAX_REFERENCE_SERIES) -> list[list[Decimal]]:
    """Totals in session order of the most recent ``limit`` reference series of one band."""
    return reference_totals_by_band({(instrument, band_low, band_high)}, limit)[(instrument, band_low)]


def reference_totals_by_band(keys: set[tuple[str, Decimal, Decimal]], limit: int = MAX_REFERENCE_SERIES,
                             ) -> dict[tuple[str, Decimal], list[list[Decimal]]]:
    """Per (instrument, band low) the totals of its most recent ``limit`` reference series, in one query.

    ``keys`` are (instrument, lowest, highest intake total of the band). Each
    series' totals are in session order (date, then number).
    """
    keys = sorted(keys)
    found: dict[tuple[str, Decimal], list[list[Decimal]]] = {(i, low): [] for i, low, _ in keys}
    if not keys:
        return found
    summary = SeriesSummaryRecord
    in_band = [and_(summary.instrument == instrument,
                    summary.intake_x10.between(int(low * 10), int(high * 10)))
               for instrument, low, high in keys]
    # The key's position, inlined: a bound parameter in CASE has no type on PostgreSQL.
    band = case(*[(condition, literal_column(str(i))) for i, condition in enumerate(in_band)])
    ranked = (
        select(summary.episode_id, summary.subject_id, summary.rater_id, summary.instrument,
               band.label("band"),
               func.row_number().over(partition_by=band,
                                      order_by=(Episode.end_date.desc(), summary.id.desc())).label("recency"))
        .join(Episode, summary.episode_id == Episode.id)
        .where(Episode.end_date.is_not(None), summary.is_self.is_(True), summary.subject_id == summary.rater_id,
               summary.n >= 2, or_(*in_band))
        .subquery()
    )
    statement = (
        select(ranked.c.band, ranked.c.episode_id, ranked.c.subject_id, Rating.total_x10)
        .select_from(Rating)
        .join(Session, Rating.session_id == Session.id)
        .join(ranked, (Session.episode_id == ranked.c.episode_id) & (Rating.subject_id == ranked.c.subject_id)
              & (Rating.rater_id == ranked.c.rater_id) & (Rating.instrument == ranked.c.instrument))
        .where(ranked.c.recency <= limit, *live_ratings())
        .order_by(ranked.c.band, ranked.c.episode_id, ranked.c.subject_id, Session.date, Session.number,
                  Rating.id)
    )
    for (position, _, _), rows in groupby(db.session.execute(statement), key=lambda r: (r[0], r[1], r[2])):
        instrument, low, _ = keys[position]
        found[(instrument, low)].append([Decimal(r[3]).scaleb(-1) for r in rows])
    return found
