"""Keeps the derived ``series_summary``, ``episode_summary`` and ``index_person_summary`` tables in step.

Reports read intake, last score, change and category of every series
(metrics.md §3–§5) from ``series_summary``, each episode's live sessions
and self-rated SRS/CSRS tallies (§6 mean_sessions, srs_mean, srs_below_36)
with the sums of the counted ratings' record keys (§7.2) from
``episode_summary``, and each index participant with birth year, gender,
record key and §5 index series from ``index_person_summary``, instead of
re-reading sessions, ratings and persons. Writers call
:func:`refresh_series` with the episodes whose participants, sessions or
ratings they changed, after their own commit, or inside their transaction
with ``commit=False`` (opening a case, a session save); a change of the
active norm set needs a full refresh (``flask --app fitapp refresh-series``).

Work is done in batches of episodes: each batch reads only its own ratings
(two small integers per rating: total and record key) and counts its live sessions in one grouped
query, recomputes its series with the pure scoring functions and its
alliance tallies in the same pass over the ratings, and replaces both kinds
of rows in one transaction. So memory stays bounded however large the city,
and a report never sees half a batch.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol
from decimal import Decimal
from itertools import groupby

from sqlalchemy import delete, func, insert, select

from fitapp.extensions import db
from fitapp.models import (
    EpisodeSummaryRecord, IndexPersonSummaryRecord, Participant, Person, Rating, SeriesSummaryRecord, Session,
)
from fitapp.models.cases import Episode, live_sessions
from fitapp.models.ratings import live_ratings
from fitapp.norms_service import active_norm_set
from fitapp.scoring.indicators import SCORED_ALLIANCE, SRS_LOW
from fitapp.scoring.norms import NormSet
from fitapp.scoring.numbers import hundredths, tenths
from fitapp.scoring.series import RatingPoint, SeriesSummary, select_index_series, summarise_series

EPISODES_PER_BATCH = 2000
# Every table this module keeps, all keyed by episode.
DERIVED_RECORDS = (SeriesSummaryRecord, EpisodeSummaryRecord, IndexPersonSummaryRecord)
INDEX_ROLE = "index"
# metrics.md §6 srs_below_36, in the tenths totals are kept in.
SRS_LOW_X10 = tenths(SRS_LOW)


@dataclass(frozen=True)
class SeriesKey:
    """What makes a series (metrics.md §3): episode × subject × rater × instrument."""

    episode_id: int
    subject_id: int
    rater_id: int
    instrument: str

    @property
    def is_scored_alliance(self) -> bool:
        """A self-rated SRS/CSRS series: the ratings metrics.md §6 srs_mean and srs_below_36 count."""
        return self.instrument in SCORED_ALLIANCE and self.subject_id == self.rater_id


class RatingRow(Protocol):
    """What the alliance tallies read of a rating row: its total in tenths and its record key."""

    total_x10: int
    record_key: int


@dataclass
class AllianceCounts:
    """An episode's live self-rated SRS/CSRS ratings: how many, their totals summed, how many below 36.0.

    With the sums of the record keys of the ratings each count counts (metrics.md §7.2).
    """

    ratings: int = 0
    total_x10: int = 0
    below: int = 0
    key_sum: int = 0
    below_key_sum: int = 0

    def add(self, ratings: Sequence[RatingRow]) -> None:
        for rating in ratings:
            self.ratings += 1
            self.total_x10 += rating.total_x10
            self.key_sum += rating.record_key
            if rating.total_x10 < SRS_LOW_X10:
                self.below += 1
                self.below_key_sum += rating.record_key


@dataclass(frozen=True)
class BatchSummary:
    """What one pass over a batch's ratings yields: every series (with its index flag), and alliance tallies."""

    series: dict[SeriesKey, tuple[SeriesSummary, bool]]
    alliance: dict[int, AllianceCounts]


@dataclass(frozen=True)
class RefreshResult:
    episodes: int
    series: int


def refresh_series(episode_ids: Iterable[int] | None = None, *, commit: bool = True) -> RefreshResult:
    """Recompute the series and episode rows of ``episode_ids`` (every episode when None) and commit.

    Rows of series whose ratings are gone (deleted or soft-deleted, or in a
    soft-deleted session) are removed; episodes without ratings end with no
    series rows. Every episode of ``episode_ids`` (they must exist) ends with
    exactly one ``episode_summary`` row, zeros for what it does not have.
    Call it after committing the sessions and ratings you changed: it commits
    once per batch, so it would also commit anything still pending in the
    session. With ``commit=False`` every batch stays in the caller's
    transaction (activating a norm set: the set and the rows computed with it
    become visible together, or not at all; saving a session or pruning a case:
    its sessions and ratings and their summaries likewise).
    """
    norm_set = active_norm_set()
    if episode_ids is None:
        _delete_orphans()
        ids = list(db.session.scalars(select(Episode.id).order_by(Episode.id)))
    else:
        ids = sorted(set(episode_ids))
    written = 0
    for batch in _batches(ids, EPISODES_PER_BATCH):
        written += _refresh_batch(batch, norm_set)
        if commit:
            db.session.commit()
    return RefreshResult(episodes=len(ids), series=written)


def _batches(ids: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start:start + size])


def _delete_orphans() -> None:
    # Without foreign-key enforcement (SQLite) a deleted episode's rows would linger.
    for record in DERIVED_RECORDS:
        db.session.execute(delete(record).where(record.episode_id.not_in(select(Episode.id))))


def _refresh_batch(episode_ids: list[int], norm_set: NormSet) -> int:
    """Replace the series and episode rows of one batch of episodes; returns the number of series written."""
    batch = summarise_batch(episode_ids, norm_set)
    sessions = _live_session_counts(episode_ids)
    written = _replace_series_rows(episode_ids, batch.series)
    _replace_episode_rows(episode_ids, sessions, batch.alliance)
    _replace_index_person_rows(episode_ids, batch.series)
    return written


def _replace_series_rows(episode_ids: list[int], series: dict[SeriesKey, tuple[SeriesSummary, bool]]) -> int:
    db.session.execute(delete(SeriesSummaryRecord).where(SeriesSummaryRecord.episode_id.in_(episode_ids)))
    rows = [_row(key, summary, is_index) for key, (summary, is_index) in series.items()]
    if rows:
        # Core insert on the table: one executemany, not one ORM statement per row.
        db.session.execute(insert(SeriesSummaryRecord.__table__), rows)
    return len(rows)


def _replace_episode_rows(episode_ids: list[int], sessions: dict[int, int],
                          alliance: dict[int, AllianceCounts]) -> None:
    """One ``episode_summary`` row per episode of the batch, zeros for what it does not have."""
    db.session.execute(delete(EpisodeSummaryRecord).where(EpisodeSummaryRecord.episode_id.in_(episode_ids)))
    rows = [_episode_row(episode_id, sessions.get(episode_id, 0), alliance.get(episode_id, AllianceCounts()))
            for episode_id in episode_ids]
    db.session.execute(insert(EpisodeSummaryRecord.__table__), rows)


def _replace_index_person_rows(episode_ids: list[int], series: dict[SeriesKey, tuple[SeriesSummary, bool]]) -> None:
    """One ``index_person_summary`` row per index participant of the batch, with their §5 index series if any."""
    index_series = {key.subject_id: summary for key, (summary, is_index) in series.items() if is_index}
    db.session.execute(
        delete(IndexPersonSummaryRecord).where(IndexPersonSummaryRecord.episode_id.in_(episode_ids)))
    rows = [{"participant_id": participant_id, "episode_id": episode_id, "person_id": person_id,
             "birth_year": birth_year, "gender": gender, "record_key": record_key,
             **_series_fields(index_series.get(participant_id))}
            for participant_id, episode_id, person_id, birth_year, gender, record_key
            in _index_participants(episode_ids)]
    if rows:
        db.session.execute(insert(IndexPersonSummaryRecord.__table__), rows)


def _index_participants(episode_ids: list[int]) -> list[tuple]:
    """(participant, episode, person id, birth year, gender, record key) of the episodes' index participants."""
    query = (
        select(Participant.id, Participant.episode_id, Participant.person_id, Person.birth_year, Person.gender,
               Participant.record_key)
        .join(Person, Participant.person_id == Person.id)
        .where(Participant.episode_id.in_(episode_ids), Participant.role == INDEX_ROLE)
    )
    return db.session.execute(query).all()


def _live_session_counts(episode_ids: list[int]) -> dict[int, int]:
    """Episode id -> number of live sessions (metrics.md §6 mean_sessions); episodes without any are absent."""
    query = (
        select(Session.episode_id, func.count())
        .where(Session.episode_id.in_(episode_ids), live_sessions())
        .group_by(Session.episode_id)
    )
    return {episode_id: sessions for episode_id, sessions in db.session.execute(query)}


def summarise_batch(episode_ids: list[int], norm_set: NormSet) -> BatchSummary:
    """Every series of the episodes with its index flag (metrics.md §3–§5) and their alliance tallies (§6)."""
    summaries: dict[SeriesKey, SeriesSummary] = {}
    alliance: dict[int, AllianceCounts] = {}
    index_subjects: set[int] = set()
    for key, birth_year, role, points, ratings in _series_points(episode_ids):
        summaries[key] = summarise_series(key.instrument, points, birth_year, norm_set)
        if role == INDEX_ROLE:
            index_subjects.add(key.subject_id)
        if key.is_scored_alliance:
            alliance.setdefault(key.episode_id, AllianceCounts()).add(ratings)
    index_keys = _index_series_keys(summaries, index_subjects)
    series = {key: (summary, key in index_keys) for key, summary in summaries.items()}
    return BatchSummary(series, alliance)


def _series_points(
        episode_ids: list[int]) -> Iterator[tuple[SeriesKey, int | None, str, list[RatingPoint], list[RatingRow]]]:
    """The ratings of the episodes grouped into series, with the subject's birth year and role.

    With each series its rows as read (named fields, ``total_x10`` and ``record_key`` among them).
    """
    query = (
        select(Session.episode_id, Rating.subject_id, Rating.rater_id, Rating.instrument,
               Person.birth_year, Participant.role, Session.date, Session.number, Rating.total_x10,
               Rating.record_key)
        .select_from(Rating)
        .join(Session, Rating.session_id == Session.id)
        .join(Participant, Rating.subject_id == Participant.id)
        .join(Person, Participant.person_id == Person.id)
        .where(Session.episode_id.in_(episode_ids), *live_ratings())
        .order_by(Session.episode_id, Rating.subject_id, Rating.rater_id, Rating.instrument)
    )
    rows = db.session.execute(query)
    for head, group in groupby(rows, key=lambda r: r[:6]):
        episode_id, subject_id, rater_id, instrument, birth_year, role = head
        ratings = list(group)
        points = [RatingPoint(r.date, r.number, Decimal(r.total_x10).scaleb(-1)) for r in ratings]
        yield SeriesKey(episode_id, subject_id, rater_id, instrument), birth_year, role, points, ratings


def _index_series_keys(summaries: dict[SeriesKey, SeriesSummary], index_subjects: set[int]) -> set[SeriesKey]:
    """The §5 index series of each index participant: among their self-rated outcome series."""
    candidates: dict[int, list[SeriesKey]] = {}
    for key in summaries:
        if key.subject_id in index_subjects and key.subject_id == key.rater_id:
            candidates.setdefault(key.subject_id, []).append(key)
    chosen = set()
    for keys in candidates.values():
        best = select_index_series([summaries[k] for k in keys])
        if best is not None:
            chosen.add(next(k for k in keys if summaries[k] is best))
    return chosen


def _row(key: SeriesKey, summary: SeriesSummary, is_index: bool) -> dict:
    return {
        "episode_id": key.episode_id,
        "subject_id": key.subject_id,
        "rater_id": key.rater_id,
        **_series_fields(summary),
        "is_self": key.subject_id == key.rater_id,
        "is_index_series": is_index,
    }


def _series_fields(summary: SeriesSummary | None) -> dict:
    """A summary's stored columns (all None without one), as series_summary and index_person_summary keep them."""
    if summary is None:
        return dict.fromkeys(SERIES_FIELDS)
    return {
        "instrument": summary.instrument,
        "n": summary.n,
        "intake_date": summary.intake_date,
        "intake_x10": tenths(summary.intake_score),
        "last_date": summary.last_date,
        "last_x10": tenths(summary.last_score),
        "change_x10": tenths(summary.change),
        "cutoff_x100": hundredths(summary.cutoff),
        "rc_x100": hundredths(summary.rc),
        "intake_clinical": summary.intake_clinical,
        "category": summary.category,
        "parameter_set": summary.parameter_set,
    }


SERIES_FIELDS = ("instrument", "n", "intake_date", "intake_x10", "last_date", "last_x10", "change_x10",
                 "cutoff_x100", "rc_x100", "intake_clinical", "category", "parameter_set")


def _episode_row(episode_id: int, sessions: int, alliance: AllianceCounts) -> dict:
    return {
        "episode_id": episode_id,
        "sessions": sessions,
        "srs_ratings": alliance.ratings,
        "srs_total_x10": alliance.total_x10,
        "srs_below": alliance.below,
        "srs_key_sum": alliance.key_sum,
        "srs_below_key_sum": alliance.below_key_sum,
    }


def summary_of(record: SeriesSummaryRecord | tuple) -> SeriesSummary:
    """A stored row back as the pure :class:`SeriesSummary` the indicators take.

    Accepts the ORM object or any row with the same attribute names.
    """
    return SeriesSummary(
        instrument=record.instrument,
        n=record.n,
        intake_date=record.intake_date,
        intake_score=Decimal(record.intake_x10).scaleb(-1),
        last_date=record.last_date,
        last_score=Decimal(record.last_x10).scaleb(-1),
        change=None if record.change_x10 is None else Decimal(record.change_x10).scaleb(-1),
        cutoff=None if record.cutoff_x100 is None else Decimal(record.cutoff_x100).scaleb(-2),
        rc=None if record.rc_x100 is None else Decimal(record.rc_x100).scaleb(-2),
        intake_clinical=record.intake_clinical,
        category=record.category,
        parameter_set=record.parameter_set,
    )

