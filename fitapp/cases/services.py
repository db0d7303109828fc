"""Caseload and episode page: queries and view models (the views only render them)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from fitapp.audit import record
from fitapp.charts import OutcomeChart, outcome_chart
from fitapp.extensions import db
from fitapp.models import Episode, Intervention, Participant, Rating, Session, Staff
from fitapp.norms_service import active_norm_set
from fitapp.scoring import (
    ALL_INSTRUMENTS, RatingPoint, SeriesSummary, age_at, gender_group, is_alliance, is_outcome, summarise_series,
)
from fitapp.scoring.norms import NormSet

# ---------------------------------------------------------------- caseload


@dataclass(frozen=True)
class CaseloadRow:
    episode_id: int
    ref: str
    intervention: str
    start_date: date
    sessions: int
    last_session: date | None
    participants: int
    therapist: str


@dataclass(frozen=True)
class Caseload:
    """``scope`` is "own" (a therapist's episodes) or "unit" (a unit head's units)."""

    scope: str
    rows: list[CaseloadRow]


def caseload_for(user: Staff, today: date) -> Caseload:
    """Open episodes the user is responsible for: one query for the rows (plus the memberships)."""
    if user.role == "therapist":
        return Caseload("own", _open_episode_rows(Episode.therapist_id == user.id))
    if user.role == "unit_head":
        unit_ids = user.unit_ids_on(today)
        return Caseload("unit", _open_episode_rows(Episode.unit_id.in_(unit_ids)) if unit_ids else [])
    raise ValueError(f"role {user.role!r} has no caseload")


def _open_episode_rows(scope) -> list[CaseloadRow]:
    # Correlated subqueries: counted per listed episode only, in the same statement (no N+1).
    session_count = _per_episode(func.count(Session.id), Session.episode_id)
    last_session = _per_episode(func.max(Session.date), Session.episode_id)
    participant_count = _per_episode(func.count(Participant.id), Participant.episode_id)
    statement = (
        select(Episode.id, Episode.ref, Intervention.name, Episode.start_date,
               session_count, last_session, participant_count, Staff.username)
        .join(Intervention, Episode.intervention_id == Intervention.id)
        .join(Staff, Episode.therapist_id == Staff.id)
        .where(Episode.end_date.is_(None), scope)
        .order_by(Episode.start_date.desc(), Episode.ref)
    )
    return [CaseloadRow(*row) for row in db.session.execute(statement)]


def _per_episode(aggregate, episode_column):
    return select(aggregate).where(episode_column == Episode.id).correlate(Episode).scalar_subquery()


# ---------------------------------------------------------------- episode page


@dataclass(frozen=True)
class RatingRow:
    """One rating about a participant; ``rater_ref``/``rater_role`` are None for a self-rating."""

    session_no: int
    session_date: date
    instrument: str
    rater_ref: str | None
    rater_role: str | None
    items: tuple[Decimal, Decimal, Decimal, Decimal]
    total: Decimal

    @property
    def is_self_rating(self) -> bool:
        return self.rater_ref is None


@dataclass(frozen=True)
class OutcomeSeries:
    """An outcome series (metrics.md §3) about one participant by one rater, summarised and charted."""

    instrument: str
    rater_ref: str | None
    rater_role: str | None
    points: tuple[RatingPoint, ...]
    summary: SeriesSummary
    chart: OutcomeChart

    @property
    def is_self_rating(self) -> bool:
        return self.rater_ref is None


@dataclass(frozen=True)
class ParticipantView:
    participant_id: int
    person_ref: str
    role: str
    birth_year: int | None
    gender_group: str
    ratings: tuple[RatingRow, ...]
    outcome_series: tuple[OutcomeSeries, ...]


@dataclass(frozen=True)
class EpisodeView:
    episode_id: int
    ref: str
    intervention: str
    unit: str
    start_date: date
    end_date: date | None
    session_count: int
    norm_set: NormSet
    participants: tuple[ParticipantView, ...]

    @property
    def is_open(self) -> bool:
        return self.end_date is None


def episode_view(episode: Episode) -> EpisodeView:
    """Everything the episode page shows, in a fixed number of queries whatever the number of ratings."""
    participants = _participants(episode.id)
    ratings = _ratings(episode.id)
    norm_set = active_norm_set()
    by_id = {p.id: p for p in participants}
    ratings_about = defaultdict(list)
    for rating, session_no, session_date in ratings:
        ratings_about[rating.subject_id].append((rating, session_no, session_date))
    return EpisodeView(
        episode_id=episode.id,
        ref=episode.ref,
        intervention=episode.intervention.name,
        unit=episode.unit.name,
        start_date=episode.start_date,
        end_date=episode.end_date,
        session_count=len(episode.sessions),
        norm_set=norm_set,
        participants=tuple(
            _participant_view(p, episode.start_date, ratings_about[p.id], by_id, norm_set) for p in participants
        ),
    )


def record_episode_view(episode: Episode) -> None:
    """Audit a read of person-level data (ids only) and end the request's transaction."""
    record("view_episode", object_type="episode", object_id=episode.id, unit_id=episode.unit_id)
    db.session.commit()


def _participants(episode_id: int) -> list[Participant]:
    statement = (
        select(Participant).where(Participant.episode_id == episode_id)
        .options(joinedload(Participant.person)).order_by(Participant.id)
    )
    return list(db.session.scalars(statement))


def _ratings(episode_id: int) -> list[tuple[Rating, int, date]]:
    statement = (
        select(Rating, Session.number, Session.date).join(Session, Rating.session_id == Session.id)
        .where(Session.episode_id == episode_id)
        .order_by(Session.date, Session.number, Rating.id)
    )
    return [tuple(row) for row in db.session.execute(statement)]


def _participant_view(participant: Participant, episode_start: date, ratings: list, by_id: dict,
                      norm_set: NormSet) -> ParticipantView:
    person = participant.person
    rows = sorted((_rating_row(r, no, day, by_id) for r, no, day in ratings), key=_rating_order)
    return ParticipantView(
        participant_id=participant.id,
        person_ref=person.ref,
        role=participant.role,
        birth_year=person.birth_year,
        gender_group=gender_group(person.gender, age_at(episode_start, person.birth_year)),
        ratings=tuple(rows),
        outcome_series=tuple(_outcome_series(rows, person.birth_year, norm_set)),
    )


def _rating_row(rating: Rating, session_no: int, session_date: date, by_id: dict) -> RatingRow:
    rater = None if rating.is_self_rating else by_id[rating.rater_id]
    return RatingRow(
        session_no=session_no,
        session_date=session_date,
        instrument=rating.instrument,
        rater_ref=rater.person.ref if rater else None,
        rater_role=rater.role if rater else None,
        items=rating.items,
        total=rating.total,
    )


def _rating_order(row: RatingRow) -> tuple:
    # Session order (metrics.md §3); in a session outcome scales come first (they are filled
    # in before the talk, alliance scales after it), then self-ratings before others'.
    return (row.session_date, row.session_no, is_alliance(row.instrument), not row.is_self_rating,
            ALL_INSTRUMENTS.index(row.instrument), row.rater_ref or "")


def _outcome_series(rows: list[RatingRow], birth_year: int | None, norm_set: NormSet) -> list[OutcomeSeries]:
    """One series per (instrument, rater) among outcome ratings (metrics.md §3); self-rated first."""
    grouped: dict[tuple, list[RatingRow]] = defaultdict(list)
    for row in rows:
        if is_outcome(row.instrument):
            grouped[(row.instrument, row.rater_ref, row.rater_role)].append(row)
    ordered_keys = sorted(grouped, key=lambda k: (k[1] is not None, ALL_INSTRUMENTS.index(k[0]), k[1] or ""))
    return [_series(instrument, ref, role, grouped[(instrument, ref, role)], birth_year, norm_set)
            for instrument, ref, role in ordered_keys]


def _series(instrument: str, rater_ref: str | None, rater_role: str | None, rows: list[RatingRow],
            birth_year: int | None, norm_set: NormSet) -> OutcomeSeries:
    points = tuple(RatingPoint(r.session_date, r.session_no, r.total) for r in rows)
    summary = summarise_series(instrument, points, birth_year, norm_set)
    chart = outcome_chart([(p.session_no, p.total) for p in points], summary.cutoff)
    return OutcomeSeries(instrument, rater_ref, rater_role, points, summary, chart)
