"""The query behind the unit reports (metrics.md §5–§6), and what it feeds.

The database selects the closed episodes of a period and scope with their
stored per-episode tallies (sessions, alliance ratings) and the index persons
with their stored §5 index series; no query here reads a rating: both come
from derived tables kept by :mod:`fitapp.reports.series_store`. The rows stay
as they came (:class:`ReportFacts`): the report's cells take integer facts
from them (:func:`fitapp.scoring.indicators.person_fact`,
:func:`~fitapp.scoring.indicators.episode_fact`), and only the report pages
build the pure records (:class:`ReportInputs`).
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property, lru_cache

from sqlalchemy import Date, bindparam, func, null, select
from sqlalchemy.orm import aliased

from fitapp.extensions import db
from fitapp.models import EpisodeSummaryRecord, Episode, IndexPersonSummaryRecord, Intervention, Participant, Unit
from fitapp.reports.series_store import SERIES_FIELDS, summary_of
from fitapp.scoring.indicators import (
    AllianceTally,
    BlockTotals,
    ClosedEpisode,
    IndexPerson,
    block_totals,
    episode_fact,
    person_fact,
    person_groups,
    rereferral_reported,
    starts_within_a_year,
)
from fitapp.scoring.periods import Period
from fitapp.scoring.series import is_paired

INDEX_ROLE = "index"


@dataclass(frozen=True)
class ReportInputs:
    """Closed episodes, index persons and alliance tallies as the pure indicators take them.

    The report pages need these records again for the sections that are
    not cells of the report file (intake groups, parents' own ratings).
    ``unit_of`` maps each closed episode to its unit.
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


@dataclass(frozen=True)
class ReportFacts:
    """The rows of a report's query (:func:`report_rows`), as the database sent them.

    The report's cells need only integers from them (:meth:`unit_totals`);
    the pages' records (:meth:`inputs`) are built only when a page asks.
    ``with_rereferral``: the period is reported for `not_rereferred_12m`
    (metrics.md §6); only then do the rows carry each person's next start.
    """

    rows: list
    with_rereferral: bool

    @cached_property
    def parameter_sets(self) -> frozenset[str]:
        """The norm sets the index series were computed with (the caller refuses a mix, metrics.md §2)."""
        # The last column is the series' parameter_set (SERIES_FIELDS); by position, as that is cheapest.
        return frozenset({row[-1] for row in self.rows} - {None})

    def unit_totals(self) -> dict[int, BlockTotals]:
        """Each unit's group totals with their key sums (metrics.md §6, §7.2), in one pass over the rows."""
        episodes: dict[int, list] = {}
        persons: dict[int, list] = {}
        last_episode = None
        for (episode_id, unit_id, intervention, referral, start, end, reason, sessions, srs_ratings, srs_total_x10,
             srs_below, episode_key, srs_key_sum, srs_below_key_sum, person_id, birth_year, gender, person_key,
             next_start, *series) in self.rows:
            if episode_id != last_episode:  # rows come by episode, one per index person (or one without)
                last_episode = episode_id
                episodes.setdefault(unit_id, []).append((intervention, episode_fact(
                    referral, start, end, reason, sessions, srs_ratings, srs_total_x10, srs_below,
                    srs_key_sum, srs_below_key_sum, episode_key)))
            if person_id is not None:
                fact = person_fact(series[1] is not None, _paired_series(*series),
                                   starts_within_a_year(end, next_start), person_key)
                persons.setdefault(unit_id, []).append(
                    (*person_groups(gender, birth_year, start), intervention, fact))
        return {unit_id: block_totals(unit_episodes, persons.get(unit_id, ()))
                for unit_id, unit_episodes in episodes.items()}

    def inputs(self) -> ReportInputs:
        """The rows as the pure records of :mod:`fitapp.scoring.indicators`."""
        episodes: dict[int, ClosedEpisode] = {}
        unit_of: dict[int, int] = {}
        alliance = []
        persons = []
        for row in self.rows:
            (episode_id, unit_id, code, referral, start, end, reason, sessions, ratings, total_x10, below,
             episode_key, srs_key_sum, srs_below_key_sum) = row[:EPISODE_FIELDS]
            if episode_id not in episodes:
                episodes[episode_id] = ClosedEpisode(episode_id, code, referral, start, end, reason, sessions,
                                                     episode_key)
                unit_of[episode_id] = unit_id
                if ratings:
                    alliance.append(AllianceTally(episode_id, code, ratings, Decimal(total_x10).scaleb(-1), below,
                                                  srs_key_sum, srs_below_key_sum))
            if row.person_id is not None:
                persons.append(self._index_person(row, episodes[episode_id]))
        return ReportInputs(list(episodes.values()), persons, alliance, unit_of, self.parameter_sets)

    def _index_person(self, row, episode: ClosedEpisode) -> IndexPerson:
        summary = None if row.n is None else summary_of(row)
        return IndexPerson(
            episode_id=episode.episode_id,
            person_id=row.person_id,
            birth_year=row.birth_year,
            gender=row.gender,
            episode_start=episode.start_date,
            intervention=episode.intervention,
            # The index series is chosen among the person's self-rated outcome
            # series (§5), so it exists exactly when there is such a rating.
            has_self_outcome_rating=summary is not None,
            index_series=summary,
            rereferred_12m=starts_within_a_year(episode.end_date, row.next_start),
            record_key=row.person_key,
        )


def _paired_series(instrument, n, _intake_date, intake_x10, _last_date, _last_x10, change_x10, _cutoff_x100,
                   rc_x100, intake_clinical, category, _parameter_set) -> tuple | None:
    """What :func:`person_fact` needs of a stored index series (SERIES_FIELDS), or None when it is
    missing or not paired."""
    if n is None or not is_paired(instrument, n):
        return None
    return intake_x10, change_x10, rc_x100, intake_clinical, category


def report_facts(period: Period, unit_ids: Collection[int] | None, as_of: date) -> ReportFacts:
    """Closed episodes of ``period`` in ``unit_ids`` (all when None) with their index persons.

    metrics.md §5: an episode belongs to the period in which it closed.
    ``as_of`` decides only whether the period is reported for
    `not_rereferred_12m` (§6): no figure of the period depends on it otherwise.
    """
    with_rereferral = rereferral_reported(period.end, as_of)
    return ReportFacts(report_rows(period, unit_ids, with_rereferral), with_rereferral)


def closed_in(period: Period, unit_ids: Collection[int] | None) -> list:
    """WHERE terms on Episode: end date in the period (both ends included), unit in scope."""
    terms = [Episode.end_date >= period.start, Episode.end_date <= period.end]
    if unit_ids is not None:
        terms.append(Episode.unit_id.in_(sorted(unit_ids)))
    return terms


# The first columns of a report row: the episode's (see report_rows).
EPISODE_FIELDS = 14


def report_rows(period: Period, unit_ids: Collection[int] | None, with_rereferral: bool) -> list:
    """One row per index person of each closed episode, or one without a person (metrics.md §5–§6).

    The first EPISODE_FIELDS columns are the episode's: id, unit id,
    intervention code, referral, start and end dates, end reason, and its
    stored tallies (live sessions; self-rated SRS/CSRS ratings, their sum in
    tenths, how many below 36.0) from the derived ``episode_summary`` table
    (no row there: no sessions yet), the episode's record key and the sums of
    the record keys of those ratings and of those below 36.0 (metrics.md
    §7.2). Then, from the derived ``index_person_summary`` table, by name:
    person_id, birth_year, gender, person_key (the participant's record key);
    next_start, the earliest start of a later episode of the person in the
    district when ``with_rereferral`` (else None); and the stored §5 index series
    (SERIES_FIELDS, all None when the person has no self-rated outcome
    rating). Ordered by episode.

    One query rather than one for episodes and one for persons: the
    episodes of the period are found once, and a city report is dominated
    by this query.
    """
    values: dict = {"start": period.start, "end": period.end}
    if unit_ids is not None:
        values["unit_ids"] = sorted(unit_ids)
    statement = _report_rows_statement(unit_ids is not None, with_rereferral)
    # On the session's connection: a Core execution, without the ORM's per-row bookkeeping.
    return db.session.connection().execute(statement, values).all()


@lru_cache(maxsize=4)
def _report_rows_statement(in_units: bool, with_rereferral: bool):
    """The statement of :func:`report_rows`, built once with bound parameters (start, end, and
    unit_ids when ``in_units``): building it took longer than a one-unit report's query."""
    summary, person = EpisodeSummaryRecord, IndexPersonSummaryRecord
    own_unit = aliased(Unit)
    closed = [Episode.end_date >= bindparam("start", type_=Date), Episode.end_date <= bindparam("end", type_=Date)]
    if in_units:
        closed.append(Episode.unit_id.in_(bindparam("unit_ids", expanding=True)))
    next_start = (next_episode_start(person.person_id, person.episode_id, own_unit) if with_rereferral
                  else null().cast(Date))
    return (
        select(Episode.id, Episode.unit_id, Intervention.code, Episode.referral_date, Episode.start_date,
               Episode.end_date, Episode.end_reason,
               *(func.coalesce(column, 0) for column in (summary.sessions, summary.srs_ratings,
                                                          summary.srs_total_x10, summary.srs_below)),
               Episode.record_key,
               *(func.coalesce(column, 0) for column in (summary.srs_key_sum, summary.srs_below_key_sum)),
               person.person_id, person.birth_year, person.gender, person.record_key.label("person_key"),
               next_start.label("next_start"),
               # Columns rather than entities: building ORM objects cost more than the query itself.
               *(getattr(person, name) for name in SERIES_FIELDS))
        .join(Intervention, Episode.intervention_id == Intervention.id)
        .join(own_unit, Episode.unit_id == own_unit.id)
        .outerjoin(summary, summary.episode_id == Episode.id)
        # The derived index_person_summary rather than participant, person and series_summary: one
        # lookup per episode instead of three per person (the city report's query 38 -> 30 ms at 1M).
        .outerjoin(person, person.episode_id == Episode.id)
        .where(*closed)
        # By episode only: the rows of an episode must come together, and the episodes come in id order
        # from the join already; ordering the persons too cost a sort.
        .order_by(Episode.id)
    )


def next_episode_start(person_id, episode_id, own_unit: type[Unit]):
    """Scalar subquery: the earliest start of another episode of the index person in the same district.

    Only episodes starting after this episode's end (metrics.md §6,
    not_rereferred_12m), in any role and any unit of the district, also units
    outside the report's scope. Correlated with the outer query's
    ``person_id`` and ``episode_id`` columns, ``Episode`` and ``own_unit``
    (the episode's unit). A plain date comparison: date arithmetic differs
    between databases, so
    :func:`~fitapp.scoring.indicators.starts_within_a_year` makes the exact decision on this one date.
    """
    later, later_unit, other = aliased(Episode), aliased(Unit), aliased(Participant)
    return (
        select(func.min(later.start_date))
        .select_from(other)
        .join(later, other.episode_id == later.id)
        .join(later_unit, later.unit_id == later_unit.id)
        .where(other.person_id == person_id, other.episode_id != episode_id,
               later_unit.district_id == own_unit.district_id, later.start_date > Episode.end_date)
        .correlate_except(other, later, later_unit)
        .scalar_subquery()
    )
