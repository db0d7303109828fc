"""Caseload and episode page: queries and view models (the views only render them).

Soft-deleted sessions and ratings are left out of every query here: counts,
series, charts and alerts see only live rows.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import groupby

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased, joinedload

from fitapp.audit import record
from fitapp.cases.access import episode_scope
from fitapp.cases.expected import Expected, ExpectedLines
from fitapp.charts import OutcomeChart, alliance_chart, outcome_chart, with_expected
from fitapp.extensions import db
from fitapp.models import (
    Attendance, AuditEvent, Episode, Intervention, Participant, Person, Rating, RatingRevision, Session, Staff,
)
from fitapp.models.cases import live_sessions
from fitapp.models.ratings import live_ratings
from fitapp.norms_service import active_norm_set
from fitapp.organisation_time import day_begins
from fitapp.scoring import (
    ALL_INSTRUMENTS, RatingPoint, SeriesSummary, age_at, episode_alerts, gender_group, intake_band, is_alliance,
    is_outcome, is_scored, select_index_series, summarise_series,
)
from fitapp.scoring.norms import NormSet

# The audit action of a case shown on the caseload (record_caseload_view).
CASELOAD_VIEW = "view_caseload"

# Closed cases are listed newest first, this many to a page.
CLOSED_PAGE_SIZE = 25

# metrics.md §8 alert kinds, most urgent first; the caseload is sorted by the most urgent alert.
ALERT_URGENCY = {"deterioration": 0, "alliance_low": 1, "alliance_drop": 1, "no_progress": 2, "below_expected": 3}
NO_ALERT = len(ALERT_URGENCY)


# ---------------------------------------------------------------- alerts (metrics.md §8)


@dataclass(frozen=True)
class CaseAlert:
    """One §8 alert about one person's series, for the screen: the person is named by reference,
    role and birth year ("P-K3M9 (barn, född 2012)"), as the family is known in the room."""

    kind: str
    person_ref: str
    instrument: str
    rater_ref: str | None = None
    person_role: str | None = None
    birth_year: int | None = None

    @property
    def urgency(self) -> int:
        return ALERT_URGENCY[self.kind]


@dataclass(frozen=True)
class _SeriesRows:
    subject_id: int
    rater_id: int
    instrument: str
    subject_ref: str
    birth_year: int | None
    points: tuple[RatingPoint, ...]
    subject_role: str | None = None


def open_case_alerts(series: list[_SeriesRows], refs: dict[int, str], norm_set: NormSet,
                     expected_lines: ExpectedLines) -> tuple[CaseAlert, ...]:
    """The §8 alerts of an open case, as the caseload and the case page both show them: every
    series' alerts, "below expected" included (self-rated outcome series against their reference).

    ``expected_lines`` may be shared by several cases; the lines these series need are loaded
    in one query if they are not loaded yet.
    """
    load_expected_lines(expected_lines, series)
    return _alerts(series, refs, norm_set, expected_lines)


def load_expected_lines(expected_lines: ExpectedLines, series: Iterable[_SeriesRows]) -> None:
    """Load, in one query, the expected lines of the series that are compared with one (§8)."""
    expected_lines.load((s.instrument, _intake(s.points)) for s in series
                        if _compared_with_expected(s.instrument, s.rater_id == s.subject_id, s.points))


def _alerts(series: Iterable[_SeriesRows], refs: dict[int, str], norm_set: NormSet,
            expected_lines: ExpectedLines) -> tuple[CaseAlert, ...]:
    found = []
    for s in series:
        summary = summarise_series(s.instrument, s.points, s.birth_year, norm_set)
        is_self = s.rater_id == s.subject_id
        rater_ref = None if is_self else refs.get(s.rater_id)
        trajectories = None
        expected = _expected_for(expected_lines, s.instrument, is_self, s.points)
        if expected is not None:
            trajectories = {(s.instrument, intake_band(summary.intake_score)): expected.trajectory}
        for alert in episode_alerts([(summary, s.points)], trajectories):
            found.append(CaseAlert(alert.kind, s.subject_ref, s.instrument, rater_ref, s.subject_role, s.birth_year))
    return tuple(sorted(found, key=lambda a: (a.urgency, a.person_ref, a.instrument)))


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
    end_date: date | None = None
    unit_id: int | None = None
    alerts: tuple[CaseAlert, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.end_date is None

    @property
    def urgency(self) -> int:
        return min((a.urgency for a in self.alerts), default=NO_ALERT)


@dataclass(frozen=True)
class CaseloadFilter:
    """What the caseload's search form asks for; the defaults show every case in scope.

    ``search`` matches a case or person reference anywhere in it, whatever its case; ``alert``
    is "" (all), "any" (cases with an alert) or an alert kind; ``therapist_id`` narrows a unit
    head's list to one therapist's cases; ``closed_page`` pages the closed cases.
    """

    search: str = ""
    alert: str = ""
    therapist_id: int | None = None
    closed_page: int = 1

    @property
    def is_narrowed(self) -> bool:
        return bool(self.search or self.alert or self.therapist_id)

    def keeps(self, row: CaseloadRow) -> bool:
        if self.alert == "any":
            return bool(row.alerts)
        return not self.alert or any(a.kind == self.alert for a in row.alerts)


@dataclass(frozen=True)
class Caseload:
    """``scope`` is "own" (a therapist's episodes), "team" (theirs and their team's) or "unit" (a unit head's units).

    ``rows`` are the open episodes the filter keeps, most urgent first; ``closed`` one page of
    the closed ones, latest first, ``closed_total`` how many there are in all. ``therapists``
    are (id, user name) of the therapists holding cases in scope, for a unit head's filter.
    """

    scope: str
    rows: list[CaseloadRow]
    closed: list[CaseloadRow] = ()
    closed_total: int = 0
    closed_page: int = 1
    therapists: tuple[tuple[int, str], ...] = ()
    filter: CaseloadFilter = CaseloadFilter()

    @property
    def closed_pages(self) -> int:
        return _page_count(self.closed_total)


def caseload_for(user: Staff, today: date, wanted: CaseloadFilter = CaseloadFilter()) -> Caseload:
    """Open and closed episodes the user is responsible for, with their alerts.

    A fixed number of queries whatever the number of cases: the open rows, the live ratings of
    the open ones for the alerts (with the expected lines they need), one page of closed rows,
    and for a unit head the therapists of the filter; nothing per row.
    """
    scope = episode_scope(user, today)
    if scope is None:
        raise ValueError(f"role {user.role!r} has no caseload")
    kind = "own" if user.role == "therapist" else "unit"
    if kind == "unit" and not user.unit_ids_on(today):
        return Caseload("unit", [], [], filter=wanted)
    narrowed = and_(scope, *_filter_terms(wanted, may_pick_therapist=kind == "unit"))
    open_rows = _episode_rows(and_(narrowed, Episode.end_date.is_(None)))
    closed, closed_total, page = ([], 0, 1) if wanted.alert else _closed_page(narrowed, wanted.closed_page)
    if kind == "own" and any(r.therapist != user.username for r in [*open_rows, *closed]):
        kind = "team"  # the unit shows therapists their team's cases too (fitapp.cases.access)
    alerts = _open_episode_alerts(narrowed) if open_rows else {}
    open_rows = [row for row in (_with_alerts(r, alerts.get(r.episode_id, ())) for r in open_rows)
                 if wanted.keeps(row)]
    open_rows.sort(key=_urgency_order)
    therapists = _therapists_in(scope) if kind == "unit" else ()
    return Caseload(kind, open_rows, closed, closed_total, page, therapists, wanted)


def _filter_terms(wanted: CaseloadFilter, may_pick_therapist: bool) -> list:
    terms = []
    if wanted.search:
        needle = wanted.search.lower()
        person_match = (select(Participant.episode_id).join(Person, Participant.person_id == Person.id)
                        .where(func.lower(Person.ref).contains(needle, autoescape=True)))
        terms.append(or_(func.lower(Episode.ref).contains(needle, autoescape=True), Episode.id.in_(person_match)))
    if wanted.therapist_id and may_pick_therapist:
        terms.append(Episode.therapist_id == wanted.therapist_id)
    return terms


def _closed_page(condition, page: int) -> tuple[list[CaseloadRow], int, int]:
    """One page of closed episodes, latest first, and how many there are; a page past the
    last shows the last."""
    closed = and_(condition, Episode.end_date.is_not(None))
    total = db.session.scalar(select(func.count(Episode.id)).where(closed))
    page = min(max(page, 1), _page_count(total))
    rows = _episode_rows(closed, order=(Episode.end_date.desc(), Episode.ref.desc()),
                         limit=CLOSED_PAGE_SIZE, offset=(page - 1) * CLOSED_PAGE_SIZE) if total else []
    return rows, total, page


def _page_count(total: int) -> int:
    return max(1, -(-total // CLOSED_PAGE_SIZE))


def _therapists_in(scope) -> tuple[tuple[int, str], ...]:
    statement = (select(Staff.id, Staff.username).join(Episode, Episode.therapist_id == Staff.id)
                 .where(scope).distinct().order_by(Staff.username))
    return tuple((staff_id, name) for staff_id, name in db.session.execute(statement))


def _expected_for(expected_lines: ExpectedLines | None, instrument: str, is_self: bool,
                  points: tuple[RatingPoint, ...]) -> Expected | None:
    if expected_lines is None or not _compared_with_expected(instrument, is_self, points):
        return None
    return expected_lines.for_series(instrument, _intake(points))


def _compared_with_expected(instrument: str, is_self: bool, points) -> bool:
    # Only a self-rated scored outcome series is compared with the (self-rated) reference series.
    return is_self and bool(points) and is_outcome(instrument) and is_scored(instrument)


def _intake(points) -> Decimal:
    return min(points, key=lambda p: (p.session_date, p.session_no)).total


def _with_alerts(row: CaseloadRow, alerts: tuple[CaseAlert, ...]) -> CaseloadRow:
    return CaseloadRow(**{**row.__dict__, "alerts": alerts})


def _urgency_order(row: CaseloadRow) -> tuple:
    # Most urgent alert first; then the case that has waited longest since its last session
    # (no session at all counts as longest), then the newest case.
    return (row.urgency, row.last_session is not None, row.last_session or date.min,
            -row.start_date.toordinal(), row.ref)


def _episode_rows(condition, order=(Episode.start_date.desc(), Episode.ref), limit: int | None = None,
                  offset: int = 0) -> list[CaseloadRow]:
    # Correlated subqueries: counted per listed episode only, in the same statement (no N+1).
    session_count = _per_episode(func.count(Session.id), Session.episode_id, live_sessions())
    last_session = _per_episode(func.max(Session.date), Session.episode_id, live_sessions())
    participant_count = _per_episode(func.count(Participant.id), Participant.episode_id)
    statement = (
        select(Episode.id, Episode.ref, Intervention.name, Episode.start_date,
               session_count, last_session, participant_count, Staff.username, Episode.end_date, Episode.unit_id)
        .join(Intervention, Episode.intervention_id == Intervention.id)
        .join(Staff, Episode.therapist_id == Staff.id)
        .where(condition)
        .order_by(*order).limit(limit).offset(offset)
    )
    return [CaseloadRow(*row) for row in db.session.execute(statement)]


def _per_episode(aggregate, episode_column, *conditions):
    return (select(aggregate).where(episode_column == Episode.id, *conditions)
            .correlate(Episode).scalar_subquery())


def _open_episode_alerts(condition) -> dict[int, tuple[CaseAlert, ...]]:
    """§8 alerts of every open episode ``condition`` selects, from one query over their live
    ratings and one for the expected lines they need (open_case_alerts, as on the case page)."""
    rater, rater_person = aliased(Participant), aliased(Person)
    statement = (
        select(Session.episode_id, Rating.subject_id, Rating.rater_id, Rating.instrument,
               Person.ref, Person.birth_year, Session.date, Session.number, Rating.total_x10, rater_person.ref,
               Participant.role)
        .select_from(Rating)
        .join(Session, Rating.session_id == Session.id)
        .join(Episode, Session.episode_id == Episode.id)
        .join(Participant, Rating.subject_id == Participant.id)
        .join(Person, Participant.person_id == Person.id)
        .join(rater, Rating.rater_id == rater.id)
        .join(rater_person, rater.person_id == rater_person.id)
        .where(Episode.end_date.is_(None), condition, *live_ratings())
        .order_by(Session.episode_id, Rating.subject_id, Rating.rater_id, Rating.instrument,
                  Session.date, Session.number)
    )
    by_episode = {episode_id: list(rows)
                  for episode_id, rows in groupby(db.session.execute(statement), key=lambda r: r[0])}
    series = {episode_id: _group_series(rows) for episode_id, rows in by_episode.items()}
    expected_lines = ExpectedLines()
    load_expected_lines(expected_lines, (s for group in series.values() for s in group))  # every case at once
    norm_set = active_norm_set()
    return {episode_id: open_case_alerts(series[episode_id], {r[2]: r[9] for r in rows}, norm_set, expected_lines)
            for episode_id, rows in by_episode.items()}


def _group_series(rows) -> list[_SeriesRows]:
    series = []
    for (subject_id, rater_id, instrument), group in groupby(rows, key=lambda r: (r[1], r[2], r[3])):
        group = list(group)
        points = tuple(RatingPoint(r[6], r[7], Decimal(r[8]).scaleb(-1)) for r in group)
        series.append(_SeriesRows(subject_id, rater_id, instrument, group[0][4], group[0][5], points, group[0][10]))
    return series


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
    rating_id: int = 0
    corrections: int = 0

    @property
    def is_self_rating(self) -> bool:
        return self.rater_ref is None


@dataclass(frozen=True)
class OutcomeSeries:
    """A series (metrics.md §3) about one participant by one rater, summarised and charted.

    Used for outcome and alliance series alike; ``summary.category`` is None for alliance.
    """

    instrument: str
    rater_ref: str | None
    rater_role: str | None
    points: tuple[RatingPoint, ...]
    summary: SeriesSummary
    chart: OutcomeChart
    # metrics.md §8: the expected line and the data it came from, when there is one.
    expected: Expected | None = None

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
    alliance_series: tuple[OutcomeSeries, ...] = ()


@dataclass(frozen=True)
class SessionRow:
    session_id: int
    number: int
    date: date
    present: tuple[str, ...]
    corrections: int


@dataclass(frozen=True)
class PersonOutcome:
    """A participant's own outcome result for the closing summary (metrics.md §4, §5)."""

    person_ref: str
    role: str
    summary: SeriesSummary | None

    @property
    def category(self) -> str | None:
        return self.summary.category if self.summary else None

    @property
    def paired(self) -> bool:
        return self.summary is not None and self.summary.paired


@dataclass(frozen=True)
class ClosingSummary:
    """Per person the self-rated outcome series (the §5 choice when there are several) and counts.

    ``improved`` counts recovered and improved (d ≥ RC) among the ``paired``
    persons: "2 av 3 förbättrade".
    """

    persons: tuple[PersonOutcome, ...]

    @property
    def paired(self) -> int:
        return sum(p.paired for p in self.persons)

    def count(self, *categories: str) -> int:
        return sum(p.paired and p.category in categories for p in self.persons)

    @property
    def improved(self) -> int:
        return self.count("recovered", "improved")

    @property
    def recovered(self) -> int:
        return self.count("recovered")

    @property
    def deteriorated(self) -> int:
        return self.count("deteriorated")

    @property
    def unchanged(self) -> int:
        return self.count("unchanged")


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
    therapist: str = ""
    referral_date: date | None = None
    end_reason: str | None = None
    child_no_rating_reason: str | None = None
    sessions: tuple[SessionRow, ...] = ()
    alerts: tuple[CaseAlert, ...] = ()
    closing: ClosingSummary | None = None

    @property
    def is_open(self) -> bool:
        return self.end_date is None


def episode_view(episode: Episode) -> EpisodeView:
    """Everything the episode page shows, in a fixed number of queries whatever the number of ratings."""
    participants = _participants(episode.id)
    ratings = _ratings(episode.id)
    sessions = _sessions(episode.id, {p.id: p.person.ref for p in participants})
    norm_set = active_norm_set()
    by_id = {p.id: p for p in participants}
    ratings_about = defaultdict(list)
    for row in ratings:
        ratings_about[row[0].subject_id].append(row)
    # Expected lines (metrics.md §8) are for the therapist of an open episode; one lookup per
    # instrument and intake band, shared by the charts and the alerts of this request.
    expected_lines = None
    alerts = ()
    if episode.is_open:
        expected_lines = ExpectedLines()
        alerts = open_case_alerts(_series_of(participants, ratings), {p.id: p.person.ref for p in participants},
                                  norm_set, expected_lines)
    views = tuple(
        _participant_view(p, episode.start_date, ratings_about[p.id], by_id, norm_set, expected_lines)
        for p in participants
    )
    return EpisodeView(
        episode_id=episode.id,
        ref=episode.ref,
        intervention=episode.intervention.name,
        unit=episode.unit.name,
        start_date=episode.start_date,
        end_date=episode.end_date,
        session_count=len(sessions),
        norm_set=norm_set,
        participants=views,
        therapist=episode.therapist.username,
        referral_date=episode.referral_date,
        end_reason=episode.end_reason,
        child_no_rating_reason=episode.child_no_rating_reason,
        sessions=sessions,
        alerts=alerts,
        closing=closing_summary(views),
    )


def closing_summary(participants: Iterable[ParticipantView]) -> ClosingSummary:
    """Each participant's own outcome series; with several, the one §5 picks for an index person."""
    persons = []
    for p in participants:
        own = [s.summary for s in p.outcome_series if s.is_self_rating]
        persons.append(PersonOutcome(p.person_ref, p.role, select_index_series(own)))
    return ClosingSummary(tuple(persons))


def record_caseload_view(user: Staff, caseload: Caseload, today: date) -> None:
    """Audit which cases the caseload showed: one ``view_caseload`` event per case (ids only), the
    first time each user is shown it on each of the organisation's days.

    The caseload is the therapist's home page, shown again after most steps: an event per case
    per showing would write tens of rows per click (hundreds for a unit head) and bury the reads
    a reviewer looks for, while the log review judges accesses by the day. Once per user, case and
    day keeps who had which case's references in front of them, and on which days, searchable by
    case and unit; opening a case is still audited every time (``view_episode``). The shown ids
    cannot go into one event: ``object_id`` holds one id.
    """
    rows = [*caseload.rows, *caseload.closed]
    if not rows:
        return
    already = set(db.session.scalars(
        select(AuditEvent.object_id).where(
            AuditEvent.actor_id == user.id, AuditEvent.action == CASELOAD_VIEW,
            AuditEvent.at >= day_begins(today), AuditEvent.at < day_begins(today + timedelta(days=1)))))
    new = [row for row in rows if str(row.episode_id) not in already]
    for row in new:
        record(CASELOAD_VIEW, object_type="episode", object_id=row.episode_id, unit_id=row.unit_id,
               actor_id=user.id, actor_name=user.username)
    if new:
        db.session.commit()


def record_episode_view(episode: Episode) -> None:
    """Audit a read of person-level data (ids only) and end the request's transaction."""
    record("view_episode", object_type="episode", object_id=episode.id, unit_id=episode.unit_id)
    db.session.commit()


def participants_of(episode_id: int) -> list[Participant]:
    return _participants(episode_id)


def _participants(episode_id: int) -> list[Participant]:
    statement = (
        select(Participant).where(Participant.episode_id == episode_id)
        .options(joinedload(Participant.person)).order_by(Participant.id)
    )
    return list(db.session.scalars(statement))


def _ratings(episode_id: int) -> list[tuple[Rating, int, date, int]]:
    corrections = (select(func.count(RatingRevision.id)).where(RatingRevision.rating_id == Rating.id)
                   .correlate(Rating).scalar_subquery())
    statement = (
        select(Rating, Session.number, Session.date, corrections).join(Session, Rating.session_id == Session.id)
        .where(Session.episode_id == episode_id, *live_ratings())
        .order_by(Session.date, Session.number, Rating.id)
    )
    return [tuple(row) for row in db.session.execute(statement)]


def _sessions(episode_id: int, refs: dict[int, str]) -> tuple[SessionRow, ...]:
    from fitapp.models import SessionRevision

    corrections = (select(func.count(SessionRevision.id)).where(SessionRevision.session_id == Session.id)
                   .correlate(Session).scalar_subquery())
    rows = db.session.execute(
        select(Session.id, Session.number, Session.date, corrections)
        .where(Session.episode_id == episode_id, live_sessions()).order_by(Session.date, Session.number)
    ).all()
    present = defaultdict(list)
    if rows:
        attendance = db.session.execute(
            select(Attendance.session_id, Attendance.participant_id).join(Session)
            .where(Session.episode_id == episode_id, live_sessions()).order_by(Attendance.participant_id)
        )
        for session_id, participant_id in attendance:
            present[session_id].append(refs.get(participant_id, "?"))
    return tuple(SessionRow(sid, no, day, tuple(present[sid]), n) for sid, no, day, n in rows)


def _series_of(participants: list[Participant], ratings) -> list[_SeriesRows]:
    by_id = {p.id: p for p in participants}
    grouped = defaultdict(list)
    for rating, session_no, session_date, _ in ratings:
        grouped[(rating.subject_id, rating.rater_id, rating.instrument)].append(
            RatingPoint(session_date, session_no, rating.total))
    return [
        _SeriesRows(subject, rater, instrument, by_id[subject].person.ref, by_id[subject].person.birth_year,
                    tuple(points), by_id[subject].role)
        for (subject, rater, instrument), points in grouped.items()
    ]


def _participant_view(participant: Participant, episode_start: date, ratings: list, by_id: dict,
                      norm_set: NormSet, expected_lines: ExpectedLines | None = None) -> ParticipantView:
    person = participant.person
    rows = sorted((_rating_row(r, no, day, n, by_id) for r, no, day, n in ratings), key=_rating_order)
    return ParticipantView(
        participant_id=participant.id,
        person_ref=person.ref,
        role=participant.role,
        birth_year=person.birth_year,
        gender_group=gender_group(person.gender, age_at(episode_start, person.birth_year)),
        ratings=tuple(rows),
        outcome_series=tuple(_series_list(rows, person.birth_year, norm_set, is_outcome, expected_lines)),
        alliance_series=tuple(_series_list(rows, person.birth_year, norm_set, is_alliance)),
    )


def _rating_row(rating: Rating, session_no: int, session_date: date, corrections: int, by_id: dict) -> RatingRow:
    rater = None if rating.is_self_rating else by_id[rating.rater_id]
    return RatingRow(
        session_no=session_no,
        session_date=session_date,
        instrument=rating.instrument,
        rater_ref=rater.person.ref if rater else None,
        rater_role=rater.role if rater else None,
        items=rating.items,
        total=rating.total,
        rating_id=rating.id,
        corrections=corrections,
    )


def _rating_order(row: RatingRow) -> tuple:
    # Session order (metrics.md §3); in a session outcome scales come first (they are filled
    # in before the talk, alliance scales after it), then self-ratings before others'.
    return (row.session_date, row.session_no, is_alliance(row.instrument), not row.is_self_rating,
            ALL_INSTRUMENTS.index(row.instrument), row.rater_ref or "")


def _series_list(rows: list[RatingRow], birth_year: int | None, norm_set: NormSet, kind,
                 expected_lines: ExpectedLines | None = None) -> list[OutcomeSeries]:
    """One series per (instrument, rater) among ``kind`` ratings (metrics.md §3); self-rated first."""
    grouped: dict[tuple, list[RatingRow]] = defaultdict(list)
    for row in rows:
        if kind(row.instrument):
            grouped[(row.instrument, row.rater_ref, row.rater_role)].append(row)
    ordered_keys = sorted(grouped, key=lambda k: (k[1] is not None, ALL_INSTRUMENTS.index(k[0]), k[1] or ""))
    return [_series(instrument, ref, role, grouped[(instrument, ref, role)], birth_year, norm_set, expected_lines)
            for instrument, ref, role in ordered_keys]


def _series(instrument: str, rater_ref: str | None, rater_role: str | None, rows: list[RatingRow],
            birth_year: int | None, norm_set: NormSet, expected_lines: ExpectedLines | None = None) -> OutcomeSeries:
    points = tuple(RatingPoint(r.session_date, r.session_no, r.total) for r in rows)
    summary = summarise_series(instrument, points, birth_year, norm_set)
    triples = [(p.session_date, p.session_no, p.total) for p in points]
    if is_alliance(instrument):
        chart = alliance_chart(triples)
    else:
        chart = outcome_chart(triples, summary.cutoff, rc=summary.rc)
    expected = _expected_for(expected_lines, instrument, rater_ref is None, points)
    if expected is not None:
        chart = with_expected(chart, [(p.mean, p.lower_quartile) for p in expected.trajectory.points])
    return OutcomeSeries(instrument, rater_ref, rater_role, points, summary, chart, expected)
