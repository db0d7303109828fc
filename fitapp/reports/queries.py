"""SQL aggregates that feed the unit-report indicators (metrics.md §5–§6).

The database selects the closed episodes of a period and scope, counts their
sessions, joins each index person to their stored index series and sums the
alliance ratings; Python only turns the rows into the plain records that
:func:`fitapp.scoring.indicators.compute_indicators` takes. No query here reads
every rating: series come from the derived ``series_summary`` table
(see :mod:`fitapp.reports.series_store`), alliance ratings arrive already
counted and summed per episode.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased

from fitapp.extensions import db
from fitapp.models import Episode, Intervention, Participant, Person, Rating, SeriesSummaryRecord, Session, Unit
from fitapp.models.cases import live_sessions
from fitapp.models.ratings import live_ratings
from fitapp.reports.series_store import summary_of
from fitapp.scoring.indicators import (
    REREFERRAL_DAYS,
    SRS_LOW,
    AllianceTally,
    ClosedEpisode,
    IndexPerson,
    is_rereferred,
    rereferral_eligible,
)
from fitapp.scoring.periods import Period

INDEX_ROLE = "index"
# metrics.md §6 srs_mean: self-rated SRS/CSRS only; YCSRS is not scored (§1).
SCORED_ALLIANCE = ("SRS", "CSRS")
# What summary_of() needs from a stored series row.
SERIES_COLUMNS = ("instrument", "n", "intake_date", "intake_x10", "last_date", "last_x10", "change_x10",
                  "cutoff_x100", "rc_x100", "intake_clinical", "category", "parameter_set")


@dataclass(frozen=True)
class ReportInputs:
    """Everything compute_indicators needs for a period, for several units at once.

    ``unit_of`` maps each closed episode to its unit so that one set of
    queries serves every unit block (:meth:`by_unit`) and the ALL block.
    """

    episodes: list[ClosedEpisode]
    persons: list[IndexPerson]
    alliance: list[AllianceTally]
    unit_of: dict[int, int]
    parameter_sets: frozenset[str]

    def by_unit(self) -> dict[int, ReportInputs]:
        """These inputs cut into one block per unit, in one pass over each list."""
        blocks: dict[int, ReportInputs] = {}
        for episode in self.episodes:
            unit_id = self.unit_of[episode.episode_id]
            if unit_id not in blocks:
                blocks[unit_id] = ReportInputs([], [], [], {}, self.parameter_sets)
            blocks[unit_id].episodes.append(episode)
            blocks[unit_id].unit_of[episode.episode_id] = unit_id
        for person in self.persons:
            blocks[self.unit_of[person.episode_id]].persons.append(person)
        for tally in self.alliance:
            blocks[self.unit_of[tally.episode_id]].alliance.append(tally)
        return blocks


def report_inputs(period: Period, unit_ids: Collection[int] | None, as_of: date) -> ReportInputs:
    """Closed episodes, index persons and alliance tallies of ``period`` in ``unit_ids`` (all when None).

    metrics.md §5: an episode belongs to the period in which it closed.
    """
    facts = closed_episodes(period, unit_ids)
    episodes = {fact.episode.episode_id: fact.episode for fact in facts}
    persons, parameter_sets = index_persons(period, unit_ids, as_of, episodes)
    return ReportInputs(
        episodes=list(episodes.values()),
        persons=persons,
        alliance=alliance_per_episode(period, unit_ids, episodes),
        unit_of={fact.episode.episode_id: fact.unit_id for fact in facts},
        parameter_sets=parameter_sets,
    )


def _closed_in(period: Period, unit_ids: Collection[int] | None) -> list:
    """WHERE terms on Episode: end date in the period (both ends included), unit in scope."""
    terms = [Episode.end_date >= period.start, Episode.end_date <= period.end]
    if unit_ids is not None:
        terms.append(Episode.unit_id.in_(sorted(unit_ids)))
    return terms


@dataclass(frozen=True)
class EpisodeFact:
    unit_id: int
    episode: ClosedEpisode


def closed_episodes(period: Period, unit_ids: Collection[int] | None) -> list[EpisodeFact]:
    """Closed episodes with their session count (metrics.md §5; §6 mean_sessions)."""
    # Counted per episode through the session index: a join and GROUP BY made
    # the planner read every session of the city for a few thousand episodes.
    # Soft-deleted sessions were never held, as far as reports are concerned.
    n_sessions = (
        select(func.count(Session.id))
        .where(Session.episode_id == Episode.id, live_sessions())
        .correlate(Episode)
        .scalar_subquery()
    )
    query = (
        select(Episode.id, Episode.unit_id, Intervention.code, Episode.referral_date, Episode.start_date,
               Episode.end_date, Episode.end_reason, n_sessions)
        .join(Intervention, Episode.intervention_id == Intervention.id)
        .where(*_closed_in(period, unit_ids))
        .order_by(Episode.id)
    )
    return [
        EpisodeFact(unit_id, ClosedEpisode(episode_id, code, referral, start, end, reason, n_sessions))
        for episode_id, unit_id, code, referral, start, end, reason, n_sessions in db.session.execute(query)
    ]


def index_persons(
    period: Period, unit_ids: Collection[int] | None, as_of: date, episodes: dict[int, ClosedEpisode]
) -> tuple[list[IndexPerson], frozenset[str]]:
    """Index persons of the closed episodes with their §5 index series (metrics.md §5–§6).

    Also returns the norm set keys the index series were computed with, so the
    caller can refuse figures that mix parameter sets.
    """
    series = aliased(SeriesSummaryRecord)
    own_unit = aliased(Unit)
    latest_eligible_end = as_of - timedelta(days=REREFERRAL_DAYS)
    # Columns rather than the entity: building ORM objects cost more than the query itself.
    query = (
        select(Participant.episode_id, Participant.person_id, Person.birth_year, Person.gender,
               case((Episode.end_date <= latest_eligible_end, next_episode_start(own_unit)), else_=None),
               *(getattr(series, name) for name in SERIES_COLUMNS))
        .join(Episode, Participant.episode_id == Episode.id)
        .join(own_unit, Episode.unit_id == own_unit.id)
        .join(Person, Participant.person_id == Person.id)
        .outerjoin(series, and_(series.episode_id == Participant.episode_id, series.subject_id == Participant.id,
                                series.is_index_series))
        .where(Participant.role == INDEX_ROLE, *_closed_in(period, unit_ids))
        .order_by(Participant.episode_id, Participant.person_id)
    )
    rows = db.session.execute(query).all()
    persons = []
    parameter_sets = set()
    for row in rows:
        episode_id, person_id, birth_year, gender, next_start = row[:5]
        episode = episodes[episode_id]
        summary = None if row.n is None else summary_of(row)
        if summary is not None and summary.parameter_set is not None:
            parameter_sets.add(summary.parameter_set)
        eligible = rereferral_eligible(episode.end_date, as_of)
        persons.append(IndexPerson(
            episode_id=episode_id,
            person_id=person_id,
            birth_year=birth_year,
            gender=gender,
            episode_start=episode.start_date,
            intervention=episode.intervention,
            # The index series is chosen among the person's self-rated outcome
            # series (§5), so it exists exactly when there is such a rating.
            has_self_outcome_rating=summary is not None,
            index_series=summary,
            eligible_for_rereferral=eligible,
            # The earliest later start decides: another one is within 365 days only if it is.
            rereferred_12m=eligible and next_start is not None and is_rereferred(episode.end_date, (next_start,)),
        ))
    return persons, frozenset(parameter_sets)


def next_episode_start(own_unit: type[Unit]):
    """Scalar subquery: the earliest start of another episode of the index person in the same district.

    Only episodes starting after this episode's end (metrics.md §6,
    not_rereferred_12m), in any role and any unit of the district, also units
    outside the report's scope. Correlated with the outer query's
    ``Participant``, ``Episode`` and ``own_unit`` (the episode's unit). A
    plain date comparison: date arithmetic differs between databases, so
    :func:`is_rereferred` makes the exact decision on this one date.
    """
    later, later_unit, other = aliased(Episode), aliased(Unit), aliased(Participant)
    return (
        select(func.min(later.start_date))
        .select_from(other)
        .join(later, other.episode_id == later.id)
        .join(later_unit, later.unit_id == later_unit.id)
        .where(other.person_id == Participant.person_id, other.episode_id != Participant.episode_id,
               later_unit.district_id == own_unit.district_id, later.start_date > Episode.end_date)
        .correlate(Participant, Episode, own_unit)
        .scalar_subquery()
    )


def alliance_per_episode(
    period: Period, unit_ids: Collection[int] | None, episodes: dict[int, ClosedEpisode]
) -> list[AllianceTally]:
    """The self-rated SRS/CSRS ratings of each closed episode, summed (§6 srs_mean, srs_below_36).

    The database counts and sums the ratings of each episode, and counts
    those below :data:`SRS_LOW` (totals are stored in tenths, so the
    comparison is exact); only one row per episode travels.
    """
    low_x10 = int(SRS_LOW.scaleb(1))
    query = (
        select(Session.episode_id, func.count(), func.sum(Rating.total_x10),
               func.sum(case((Rating.total_x10 < low_x10, 1), else_=0)))
        .select_from(Rating)
        .join(Session, Rating.session_id == Session.id)
        .join(Episode, Session.episode_id == Episode.id)
        .where(Rating.instrument.in_(SCORED_ALLIANCE), Rating.subject_id == Rating.rater_id, *live_ratings(),
               *_closed_in(period, unit_ids))
        .group_by(Session.episode_id)
        .order_by(Session.episode_id)
    )
    return [
        AllianceTally(episode_id, episodes[episode_id].intervention, ratings, Decimal(total_x10).scaleb(-1), below)
        for episode_id, ratings, total_x10, below in db.session.execute(query)
    ]
