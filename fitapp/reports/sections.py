"""SQL for the report pages' sections that are not cells of the report file.

Parents' own outcome series (metrics.md §5: reported as their own group,
never pooled with the index series) and the unit head's follow-up list of
closed cases without a pair of ratings. Like :mod:`fitapp.reports.queries`
they read the derived ``series_summary`` table, never every rating.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased

from fitapp.extensions import db
from fitapp.models import Episode, Intervention, Participant, Person, SeriesSummaryRecord, Unit
from fitapp.reports.queries import closed_in
from fitapp.reports.series_store import SERIES_FIELDS, summary_of
from fitapp.scoring.indicators import ClosedEpisode, IndexPerson
from fitapp.scoring.instruments import OUTCOME_INSTRUMENTS
from fitapp.scoring.periods import Period
from fitapp.scoring.series import select_index_series

PARENT_ROLE = "parent"
INDEX_ROLE = "index"


def parent_persons(period: Period, unit_ids: Collection[int], episodes: dict[int, ClosedEpisode]) -> list[IndexPerson]:
    """Parents in the closed episodes, each with their own outcome series chosen by the §5 rule.

    Returned as :class:`IndexPerson` records so the same pure indicator
    functions serve them; re-referral does not apply to parents.
    """
    series = aliased(SeriesSummaryRecord)
    query = (
        select(Participant.episode_id, Participant.person_id, Person.birth_year, Person.gender,
               Participant.record_key, *(getattr(series, name) for name in SERIES_FIELDS))
        .join(Episode, Participant.episode_id == Episode.id)
        .join(Person, Participant.person_id == Person.id)
        .outerjoin(series, and_(series.episode_id == Participant.episode_id, series.subject_id == Participant.id,
                                series.is_self, series.instrument.in_(OUTCOME_INSTRUMENTS)))
        .where(Participant.role == PARENT_ROLE, *closed_in(period, unit_ids))
        .order_by(Participant.episode_id, Participant.person_id)
    )
    grouped: dict[tuple[int, int], tuple[int | None, str | None, int, list]] = {}
    for row in db.session.execute(query):
        episode_id, person_id, birth_year, gender, record_key = row[:5]
        entry = grouped.setdefault((episode_id, person_id), (birth_year, gender, record_key, []))
        if row.n is not None:
            entry[3].append(summary_of(row))
    persons = []
    for (episode_id, person_id), (birth_year, gender, record_key, summaries) in grouped.items():
        episode = episodes[episode_id]
        own = select_index_series(summaries)
        persons.append(IndexPerson(
            episode_id=episode_id, person_id=person_id, birth_year=birth_year, gender=gender,
            episode_start=episode.start_date, intervention=episode.intervention,
            has_self_outcome_rating=own is not None, index_series=own,
            rereferred_12m=False, record_key=record_key,
        ))
    return persons


@dataclass(frozen=True)
class FollowUpCase:
    """A closed case with an index person whose index series is missing or has one rating."""

    episode_id: int
    episode_ref: str
    unit_code: str
    intervention: str
    end_date: date
    person_ref: str
    ratings: int
    instrument: str | None
    no_rating_reason: str | None


def follow_up_cases(period: Period, unit_ids: Collection[int]) -> list[FollowUpCase]:
    """Index persons without a pair of self-rated outcome ratings in cases closed in the period (§5–§6)."""
    series = aliased(SeriesSummaryRecord)
    query = (
        select(Episode.id, Episode.ref, Unit.code, Intervention.code, Episode.end_date, Person.ref,
               series.n, series.instrument, Episode.child_no_rating_reason)
        .select_from(Participant)
        .join(Episode, Participant.episode_id == Episode.id)
        .join(Unit, Episode.unit_id == Unit.id)
        .join(Intervention, Episode.intervention_id == Intervention.id)
        .join(Person, Participant.person_id == Person.id)
        .outerjoin(series, and_(series.episode_id == Participant.episode_id, series.subject_id == Participant.id,
                                series.is_index_series))
        .where(Participant.role == INDEX_ROLE, *closed_in(period, unit_ids),
               or_(series.n.is_(None), series.n < 2))
        .order_by(Episode.end_date, Unit.code, Episode.ref, Person.ref)
    )
    return [
        FollowUpCase(episode_id, ref, unit, intervention, end, person, n or 0, instrument, reason)
        for episode_id, ref, unit, intervention, end, person, n, instrument, reason in db.session.execute(query)
    ]
