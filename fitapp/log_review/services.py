"""Reading a month of the access log and recording its review: plain functions, SQL does the counting.

A month of one unit can hold thousands of events, so the log is never loaded
whole: the month's events (``audit_event.at`` and ``unit_id`` are indexed) are
joined to the case they concern, and both highlights are computed in the query,
where they are counted, filtered and paged:

- outside own caseload: the actor is not the therapist of the case (a unit
  head reading the unit's cases is highlighted too; the reviewer decides it
  was legitimate);
- not a member: the actor did not belong to the case's unit on the day of
  the event (a red flag).

An administrator reviews every unit but sees no case reference (separation of duties, issue 12
item 2): the rows keep who, when, what kind of access and the highlights, and leave out the
case's pseudonymous reference and the ids of cases, sessions and ratings; a unit's own unit head
sees them for the unit.

Months and days are the organisation's local ones (Europe/Stockholm), not UTC.
The audit log holds no clinical content; neither does anything read here.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import Integer, and_, case, cast, func, or_, select
from sqlalchemy.exc import IntegrityError

from fitapp import retention
from fitapp.audit import record
from fitapp.extensions import db
from fitapp.models import AuditEvent, Episode, Rating, Session, Staff, Unit, UnitMembership
from fitapp.models.log_review import LogReview
from fitapp.models.staff import membership_grants_access
# The city's clock: a month is reviewed as the units lived it.
from fitapp.organisation_time import ORGANISATION_TIME, on_organisation_clock

PAGE_SIZE = 200
MONTHS_IN_OVERVIEW = 12
# The scope key of the administrator's review of the whole organisation (LogReview.unit_id NULL).
ORGANISATION = "all"

# Audit actions that read or change person-level data: what a log review is about.
READ_ACTIONS = ("view_episode", "view_caseload", "view_follow_up", "export_report", "export_outcomes",
                "tablet_handover", "tablet_return", "tablet_return_failed")
CHANGE_ACTIONS = ("open_episode", "add_participant", "create_session", "correct_rating", "correct_session", "delete_rating",
                  "delete_session", "close_episode", "reassign_episode", "import_ratings")
# Deletion after the retention period (fitapp.retention): shown, never highlighted, since it is
# the administrator's duty and not a reading of anyone's caseload.
RETENTION_ACTIONS = retention.EPISODE_ACTIONS
LOGGED_ACTIONS = READ_ACTIONS + CHANGE_ACTIONS + RETENTION_ACTIONS
# Object types whose ids point into a case: left out of an administrator's log.
CASE_OBJECT_TYPES = frozenset({"episode", "session", "rating", "participant", "person"})
# Case events written without a unit id (the tablet's return): a unit finds them through the case.
_UNITLESS_CASE_ACTIONS = ("tablet_return", "tablet_return_failed")


# ---------------------------------------------------------------- months


def today_local() -> date:
    return datetime.now(ORGANISATION_TIME).date()


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def previous_month(today: date) -> date:
    """The month a review is normally about: the last one that has ended."""
    return add_months(today.replace(day=1), -1)


def has_ended(month: date, today: date) -> bool:
    return add_months(month, 1) <= today


def _utc_midnight(day: date) -> datetime:
    """The instant the organisation's ``day`` begins (23:00 or 22:00 UTC the day before)."""
    return datetime.combine(day, time(), ORGANISATION_TIME).astimezone(timezone.utc)


def _local_day(month: date):
    """SQL: the organisation's date of an event of ``month``, from the month's day boundaries.

    A CASE over at most 31 instants works the same on SQLite (no time zones) and
    PostgreSQL, and is right across the change to and from summer time.
    """
    days = [month + timedelta(days=n) for n in range((add_months(month, 1) - month).days)]
    return case(*[(AuditEvent.at < _utc_midnight(day + timedelta(days=1)), day) for day in days[:-1]],
                else_=days[-1])


# ---------------------------------------------------------------- who reviews what


@dataclass(frozen=True)
class LogScope:
    """One unit's log, or (``unit`` None) the whole organisation's, reviewed by an administrator."""

    unit: Unit | None

    @property
    def unit_id(self) -> int | None:
        return self.unit.id if self.unit is not None else None

    @property
    def key(self) -> str:
        return str(self.unit.id) if self.unit is not None else ORGANISATION


def scopes_for(user: Staff, today: date) -> list[LogScope]:
    """Unit heads: the units they belong to today; administrators: the organisation and every unit."""
    query = select(Unit).order_by(Unit.code)
    if user.role == "unit_head":
        query = query.where(Unit.id.in_(sorted(user.unit_ids_on(today))))
    elif user.role != "admin":
        return []
    units = [LogScope(unit) for unit in db.session.scalars(query)]
    return [LogScope(None), *units] if user.role == "admin" else units


def shows_case_references(user: Staff) -> bool:
    """Whether ``user``'s log review names cases: a unit's own unit head, never an administrator."""
    return user.role == "unit_head"


def find_scope(scopes: list[LogScope], key: str) -> LogScope | None:
    return next((scope for scope in scopes if scope.key == key), None)


# ---------------------------------------------------------------- the month's log


def _numeric_object_id(object_type: str):
    # Cast only ids of this type: PostgreSQL refuses to read a period label such as "2025-T1" as a number.
    return case((AuditEvent.object_type == object_type, cast(AuditEvent.object_id, Integer)))


def _event_unit_id():
    return func.coalesce(Episode.unit_id, AuditEvent.unit_id)


def _month_of(stmt, scope: LogScope, month: date):
    """``stmt`` over the logged events of ``scope`` in ``month``, each joined to the case it concerns."""
    stmt = (
        stmt.select_from(AuditEvent)
        .outerjoin(Rating, Rating.id == _numeric_object_id("rating"))
        .outerjoin(Session, Session.id == func.coalesce(_numeric_object_id("session"), Rating.session_id))
        .outerjoin(Episode, Episode.id == func.coalesce(_numeric_object_id("episode"), Session.episode_id))
        .where(AuditEvent.at >= _utc_midnight(month), AuditEvent.at < _utc_midnight(add_months(month, 1)),
               AuditEvent.action.in_(LOGGED_ACTIONS))
    )
    if scope.unit is not None:
        # Two conditions, not one: the first names only audit_event columns, so the database
        # picks the unit's events by its indexes before joining; the second keeps, of the
        # unit-less tablet events, those whose case is in the unit.
        stmt = stmt.where(
            or_(AuditEvent.unit_id == scope.unit.id,
                and_(AuditEvent.unit_id.is_(None), AuditEvent.action.in_(_UNITLESS_CASE_ACTIONS))),
            or_(AuditEvent.unit_id.is_not(None), Episode.unit_id == scope.unit.id),
        )
    return stmt


def _highlights(month: date):
    """SQL conditions (outside own caseload, not a member of the unit that day) of an event of ``month``."""
    judged = AuditEvent.action.not_in(RETENTION_ACTIONS)
    outside = and_(judged, Episode.id.is_not(None),
                   or_(AuditEvent.actor_id.is_(None), Episode.therapist_id != AuditEvent.actor_id))
    day = _local_day(month)
    member = select(UnitMembership.id).where(
        UnitMembership.staff_id == AuditEvent.actor_id,
        UnitMembership.unit_id == _event_unit_id(),
        membership_grants_access(UnitMembership, day),
    ).exists()
    not_member = and_(judged, AuditEvent.actor_id.is_not(None), _event_unit_id().is_not(None), ~member)
    return outside, not_member


@dataclass(frozen=True)
class LogCounts:
    events: int
    highlighted: int
    not_member: int


def log_counts(scope: LogScope, month: date) -> LogCounts:
    """How many accesses the month has, how many are highlighted, how many by non-members."""
    outside, not_member = _highlights(month)
    events, highlighted, strangers = db.session.execute(_month_of(select(
        func.count(),
        func.coalesce(func.sum(case((or_(outside, not_member), 1), else_=0)), 0),
        func.coalesce(func.sum(case((not_member, 1), else_=0)), 0),
    ), scope, month)).one()
    return LogCounts(events, highlighted, strangers)


@dataclass(frozen=True)
class LogRow:
    """One access: ids, references and names only, never clinical content."""

    at: datetime  # organisation's local time
    actor: str | None
    actor_role: str | None
    action: str
    object_type: str | None
    object_id: str | None
    case_ref: str | None
    unit_code: str | None
    remote_addr: str | None
    outside_caseload: bool
    not_member: bool

    @property
    def highlighted(self) -> bool:
        return self.outside_caseload or self.not_member


@dataclass(frozen=True)
class LogPage:
    rows: list[LogRow]
    number: int
    pages: int
    total: int

    @property
    def first_row(self) -> int:
        return (self.number - 1) * PAGE_SIZE + 1


def _without_case_references(row: LogRow) -> LogRow:
    case_object = row.object_type in CASE_OBJECT_TYPES
    return dataclasses.replace(row, case_ref=None, object_id=None if case_object else row.object_id)


def log_page(scope: LogScope, month: date, counts: LogCounts, number: int, only_highlighted: bool,
             *, case_references: bool) -> LogPage | None:
    """Page ``number`` of the month's accesses in time order; None for a page past the last.

    ``case_references`` False (an administrator's review): no case reference, no id of a case object."""
    total = counts.highlighted if only_highlighted else counts.events
    pages = max(1, -(-total // PAGE_SIZE))
    if number > pages:
        return None
    outside, not_member = _highlights(month)
    stmt = _month_of(select(
        AuditEvent.at, AuditEvent.actor_name, Staff.role, AuditEvent.action, AuditEvent.object_type,
        AuditEvent.object_id, Episode.ref, Unit.code, AuditEvent.remote_addr,
        outside.label("outside"), not_member.label("not_member"),
    ), scope, month)
    stmt = (stmt.outerjoin(Staff, Staff.id == AuditEvent.actor_id)
            .outerjoin(Unit, Unit.id == _event_unit_id()))
    if only_highlighted:
        stmt = stmt.where(or_(outside, not_member))
    stmt = stmt.order_by(AuditEvent.at, AuditEvent.id).offset((number - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    rows = [LogRow(on_organisation_clock(at), actor, role, action, object_type, object_id, ref, code, addr,
                   bool(outside_), bool(not_member_))
            for at, actor, role, action, object_type, object_id, ref, code, addr, outside_, not_member_
            in db.session.execute(stmt)]
    if not case_references:
        rows = [_without_case_references(row) for row in rows]
    return LogPage(rows, number, pages, total)


def record_log_view(scope: LogScope, month: date) -> None:
    """Audit that the log of ``scope`` for ``month`` was read, and end the request's transaction."""
    record("view_access_log", object_type="log_month", object_id=month_label(month), unit_id=scope.unit_id)
    db.session.commit()


def month_label(month: date) -> str:
    return f"{month:%Y-%m}"


# ---------------------------------------------------------------- reviews


@dataclass(frozen=True)
class ReviewStatus:
    """A month of one scope: who reviewed it and when, with the counts they saw (all None: not reviewed)."""

    month: date
    reviewer: str | None = None
    reviewed_at: datetime | None = None
    events: int | None = None
    highlighted: int | None = None

    @property
    def is_reviewed(self) -> bool:
        return self.reviewer is not None


class MonthNotEnded(Exception):
    """A month is reviewed once it is over: until then its log still grows."""


class AlreadyReviewed(Exception):
    def __init__(self, status: ReviewStatus):
        super().__init__(f"{month_label(status.month)} already reviewed by {status.reviewer}")
        self.status = status


def _reviews(unit_ids: list[int | None], first: date, last: date) -> list[tuple[LogReview, str]]:
    units = [unit_id for unit_id in unit_ids if unit_id is not None]
    whose = [LogReview.unit_id.in_(units)] if units else []
    if None in unit_ids:
        whose.append(LogReview.unit_id.is_(None))
    return list(db.session.execute(
        select(LogReview, Staff.username).join(Staff, Staff.id == LogReview.reviewed_by_id)
        .where(LogReview.month >= first, LogReview.month <= last, or_(*whose))
    ))


def _status(review: LogReview, reviewer: str) -> ReviewStatus:
    return ReviewStatus(review.month, reviewer, on_organisation_clock(review.reviewed_at), review.events_count,
                        review.flagged_count)


def review_status(scope: LogScope, month: date) -> ReviewStatus:
    found = _reviews([scope.unit_id], month, month)
    return _status(*found[0]) if found else ReviewStatus(month)


def review_history(scopes: list[LogScope], today: date) -> dict[str, list[ReviewStatus]]:
    """Scope key -> the last MONTHS_IN_OVERVIEW ended months, newest first, reviewed or not (one query)."""
    months = [add_months(previous_month(today), -n) for n in range(MONTHS_IN_OVERVIEW)]
    if not scopes:
        return {}
    done = {(review.unit_id, review.month): _status(review, reviewer)
            for review, reviewer in _reviews([s.unit_id for s in scopes], months[-1], months[0])}
    return {scope.key: [done.get((scope.unit_id, month), ReviewStatus(month)) for month in months]
            for scope in scopes}


def record_review(reviewer: Staff, scope: LogScope, month: date, today: date) -> ReviewStatus:
    """Store that ``reviewer`` reviewed ``scope``'s log of ``month``, with the counts of the log; audited.

    Raises MonthNotEnded for the current (or a future) month and AlreadyReviewed
    when somebody has already reviewed it: a review is never replaced.
    """
    if not has_ended(month, today):
        raise MonthNotEnded(month_label(month))
    # The audit event first: on PostgreSQL it takes the audit chain's lock until commit, so two
    # reviewers of the same month are serialised, also for the organisation's review (unit_id
    # NULL, which the unique constraint does not cover).
    record("record_log_review", object_type="log_month", object_id=month_label(month), unit_id=scope.unit_id)
    status = review_status(scope, month)
    if status.is_reviewed:
        db.session.rollback()
        raise AlreadyReviewed(status)
    counts = log_counts(scope, month)
    db.session.add(LogReview(unit_id=scope.unit_id, month=month, reviewed_by_id=reviewer.id,
                             events_count=counts.events, flagged_count=counts.highlighted))
    try:
        db.session.commit()
    except IntegrityError:  # a unit's review stored by someone else in the meantime
        db.session.rollback()
        raise AlreadyReviewed(review_status(scope, month)) from None
    return review_status(scope, month)
