"""Retention (gallring) of person-level data, SoL (2025:400) 16 kap.

What is deleted, and when
-------------------------
A case (episode) is *due* when it is closed and more than N years have passed
since its last entry (N = the period in force, :func:`years_in_force`,
default 5). The period ends on the same date N years later; an entry made on
29 February ends its period on 28 February (lag (1930:173) om beräkning av
lagstadgad tid). The deletion must be done by the end of the calendar year
after the one in which the period ended: a due case past that day is
*overdue*, and the plan says so.

The *last entry* of a case is the latest of everything written into its file:
the episode's referral, start and end dates and when it was registered; each
session's date, when it was logged and when it was deleted (soft-deleted
sessions count: they are still in the file); each rating's registration and
deletion time; and each correction of a session or a rating. Timestamps count
by their calendar date on the organisation's clock (Europe/Stockholm). The
audit log is not part of the case file.

Open cases are never deleted. One whose last entry is older than the period
is counted as a warning (it should probably have been closed).

Persons exempt from retention (``Person.retention_exempt``: the research
exemption, or a region that keeps everything) -- the rule
--------------------------------------------------------------------------
*A rating belongs to its subject.* In a due case:

- with no exempt participant, everything goes: ratings (+ corrections),
  attendance, sessions (+ corrections), participants, series and episode
  summaries, the episode;
- with an exempt participant, the episode and its sessions stay (they are the
  exempt person's case too), and so does every rating *about* an exempt person
  (their own and others' ratings of them) with the participants who gave
  those ratings (a rating means nothing without its rater). Every other
  participant goes with their attendance, and every rating about a non-exempt
  person goes with its corrections and its series summaries; the episode's
  summaries are recomputed from what stays.

Afterwards a person goes when they are not exempt and have no participation
left, in any case. Persons kept as raters keep only their pseudonymous
reference, role, birth year and gender.

Audit, aggregates, repetition
-----------------------------
Every deleted episode gets an audit event ``retention_delete_episode`` (an
episode kept for an exempt person and thinned: ``retention_prune_episode``)
with its id and unit, and each run one ``retention_run`` event whose
``object_id`` is ``episodes/pruned/sessions/ratings/persons`` deleted. Never
clinical content. Each batch of episodes is deleted, with its audit events,
in one transaction. A second run finds nothing left to delete.

Report targets and the audit log are not touched (the database refuses to
change or delete an audit entry: migration 0008). Reports of periods whose
cases are deleted are computed from what is left, so they change after a
retention run: figures published earlier are not reproduced from the app.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import aliased

from fitapp.audit import record
from fitapp.extensions import db
from fitapp.organisation_time import on_organisation_clock
from fitapp.models import (
    Attendance, Episode, Participant, Person, Rating, RatingRevision, RetentionPolicy, Session, SessionRevision,
    Staff, Unit,
)

DEFAULT_YEARS = 5
MIN_YEARS = 1
# Anything longer is surely a typing error: the law asks for five years.
MAX_YEARS = 50
EPISODES_PER_BATCH = 500
CLI_ACTOR = "cli"
# Audit actions of a run: one per episode deleted whole or thinned (the log review lists them).
DELETE_EPISODE = "retention_delete_episode"
PRUNE_EPISODE = "retention_prune_episode"
EPISODE_ACTIONS = (DELETE_EPISODE, PRUNE_EPISODE)


class PolicyRefused(ValueError):
    """A retention period that cannot be set; the message says why (translated when shown)."""


# ---------------------------------------------------------------- the policy


@dataclass(frozen=True)
class PolicyChange:
    years: int
    changed_at: datetime
    changed_by: str | None


def years_in_force() -> int:
    """The retention period in years: the newest policy row, or the default without any."""
    years = db.session.scalar(
        select(RetentionPolicy.retention_years)
        .order_by(RetentionPolicy.changed_at.desc(), RetentionPolicy.id.desc()).limit(1)
    )
    return DEFAULT_YEARS if years is None else years


def policy_history() -> list[PolicyChange]:
    """Every change of the period, newest first."""
    rows = db.session.execute(
        select(RetentionPolicy.retention_years, RetentionPolicy.changed_at, Staff.username)
        .outerjoin(Staff, RetentionPolicy.changed_by_id == Staff.id)
        .order_by(RetentionPolicy.changed_at.desc(), RetentionPolicy.id.desc())
    )
    return [PolicyChange(years, changed_at, username) for years, changed_at, username in rows]


def check_years(years: int) -> None:
    """Raise :class:`PolicyRefused` unless ``years`` is a sensible retention period."""
    if years < MIN_YEARS:
        raise PolicyRefused(_l("The retention period must be at least %(min)s year.", min=MIN_YEARS))
    if years > MAX_YEARS:
        raise PolicyRefused(_l(
            "%(years)s years is not a sensible retention period (at most %(max)s); "
            "SoL 16 kap. asks for 5 years.", years=years, max=MAX_YEARS))


def change_policy(years: int, actor: Staff) -> bool:
    """Put a new period in force, audited, and commit; False when it is already in force."""
    check_years(years)
    if years == years_in_force():
        return False
    policy = RetentionPolicy(retention_years=years, changed_by_id=actor.id)
    db.session.add(policy)
    db.session.flush()
    record("retention_policy_change", object_type="retention_policy", object_id=policy.id,
           actor_id=actor.id, actor_name=actor.username)
    db.session.commit()
    return True


# ---------------------------------------------------------------- dates


def add_years(day: date, years: int) -> date:
    """The same date ``years`` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def period_end(last_entry: date, years: int) -> date:
    """The last day of the retention period: the case is due the day after."""
    return add_years(last_entry, years)


def deadline(last_entry: date, years: int) -> date:
    """The day by which the deletion must be done: 31 December of the year after the period ended."""
    return date(period_end(last_entry, years).year + 1, 12, 31)


def is_due(last_entry: date, years: int, today: date) -> bool:
    return today > period_end(last_entry, years)


def is_overdue(last_entry: date, years: int, today: date) -> bool:
    return today > deadline(last_entry, years)


def _as_date(value: date | datetime | None) -> date | None:
    """A date as it is; a time as its calendar date on the organisation's clock."""
    if not isinstance(value, datetime):
        return value
    return on_organisation_clock(value).date()


def last_entries(episode_ids: Sequence[int]) -> dict[int, date]:
    """The date of the last entry of each episode (see the module docstring for what counts)."""
    latest: dict[int, date] = {}
    ids = list(episode_ids)
    queries = (
        select(Episode.id, Episode.referral_date, Episode.start_date, Episode.end_date, Episode.created_at)
        .where(Episode.id.in_(ids)),
        select(Session.episode_id, func.max(Session.date), func.max(Session.created_at),
               func.max(Session.deleted_at))
        .where(Session.episode_id.in_(ids)).group_by(Session.episode_id),
        select(Session.episode_id, func.max(SessionRevision.changed_at)).select_from(SessionRevision)
        .join(Session, SessionRevision.session_id == Session.id)
        .where(Session.episode_id.in_(ids)).group_by(Session.episode_id),
        select(Session.episode_id, func.max(Rating.created_at), func.max(Rating.deleted_at)).select_from(Rating)
        .join(Session, Rating.session_id == Session.id)
        .where(Session.episode_id.in_(ids)).group_by(Session.episode_id),
        select(Session.episode_id, func.max(RatingRevision.changed_at)).select_from(RatingRevision)
        .join(Rating, RatingRevision.rating_id == Rating.id).join(Session, Rating.session_id == Session.id)
        .where(Session.episode_id.in_(ids)).group_by(Session.episode_id),
    )
    for query in queries:
        for episode_id, *values in db.session.execute(query):
            days = [d for d in map(_as_date, values) if d is not None]
            if episode_id in latest:
                days.append(latest[episode_id])
            latest[episode_id] = max(days)
    return latest


# ---------------------------------------------------------------- what a batch deletes


def _doomed_ratings(episode_ids: Sequence[int], *columns) -> Select:
    """Ratings of the episodes whose subject is not exempt (``columns`` selected, their ids by default)."""
    return (
        select(*(columns or (Rating.id,))).select_from(Rating)
        .join(Session, Rating.session_id == Session.id)
        .join(Participant, Rating.subject_id == Participant.id)
        .join(Person, Participant.person_id == Person.id)
        .where(Session.episode_id.in_(episode_ids), Person.retention_exempt.is_(False))
    )


def _kept_raters(episode_ids: Sequence[int]) -> Select:
    """Participants who rated an exempt person in the episodes."""
    subject = aliased(Participant)
    return (
        select(Rating.rater_id)
        .join(subject, Rating.subject_id == subject.id)
        .join(Person, subject.person_id == Person.id)
        .where(subject.episode_id.in_(episode_ids), Person.retention_exempt.is_(True))
    )


def _non_exempt_participants(episode_ids: Sequence[int], *columns) -> Select:
    return (
        select(*(columns or (Participant.id,))).select_from(Participant)
        .join(Person, Participant.person_id == Person.id)
        .where(Participant.episode_id.in_(episode_ids), Person.retention_exempt.is_(False))
    )


def _doomed_participants(episode_ids: Sequence[int], *columns) -> Select:
    """Participants of the episodes who are not exempt and rated no exempt person."""
    return _non_exempt_participants(episode_ids, *columns).where(Participant.id.not_in(_kept_raters(episode_ids)))


def _whole_episodes(episode_ids: Sequence[int]) -> set[int]:
    """Those of the episodes without an exempt participant: they go entirely."""
    with_exempt = set(db.session.scalars(
        select(Participant.episode_id).join(Person, Participant.person_id == Person.id)
        .where(Participant.episode_id.in_(episode_ids), Person.retention_exempt.is_(True))
    ))
    return set(episode_ids) - with_exempt


# ---------------------------------------------------------------- the plan


@dataclass
class Counts:
    """What retention deletes (or would delete) in one unit; ``pruned`` episodes stay, thinned."""

    episodes: int = 0
    pruned: int = 0
    sessions: int = 0
    ratings: int = 0
    persons: int = 0
    overdue: int = 0

    def add(self, other: Counts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def is_empty(self) -> bool:
        return self.episodes == 0 and self.pruned == 0


@dataclass
class UnitCounts:
    code: str
    name: str
    counts: Counts = field(default_factory=Counts)
    open_and_old: int = 0


@dataclass
class Plan:
    """Counts per unit (no identities) of what a run deletes on ``today``, or deleted (``applied``)."""

    today: date
    years: int
    units: list[UnitCounts]
    applied: bool = False

    @property
    def total(self) -> Counts:
        total = Counts()
        for unit in self.units:
            total.add(unit.counts)
        return total

    @property
    def open_and_old(self) -> int:
        return sum(u.open_and_old for u in self.units)

    def summary_lines(self) -> list[str]:
        """The plan as plain lines (the CLI's output), in English like the other commands."""
        total = self.total
        verb = "deleted" if self.applied else "to delete"
        lines = [f"Retention period {self.years} years, today {self.today.isoformat()}."]
        if total.overdue:
            lines.append(f"OVERDUE: {total.overdue} case(s) {'were' if self.applied else 'are'} past the "
                         "deadline for deletion (31 December of the year after their period ended).")
        for unit in self.units:
            c = unit.counts
            if not c.is_empty:
                lines.append(f"  {unit.code}: episodes {c.episodes}, kept for exempt persons {c.pruned}, "
                             f"sessions {c.sessions}, ratings {c.ratings}, persons {c.persons}, "
                             f"overdue {c.overdue}")
        lines.append(f"Total {verb}: episodes {total.episodes}, kept for exempt persons {total.pruned}, "
                     f"sessions {total.sessions}, ratings {total.ratings}, persons {total.persons}.")
        for unit in self.units:
            if unit.open_and_old:
                lines.append(f"WARNING: {unit.code}: {unit.open_and_old} open case(s) with no entry for more "
                             f"than {self.years} years; open cases are never deleted: close them or add an entry.")
        return lines


@dataclass(frozen=True)
class _EpisodeWork:
    episode_id: int
    unit_id: int
    whole: bool
    overdue: bool
    sessions: int
    ratings: int
    participant_ids: frozenset[int]
    person_ids: frozenset[int]

    @property
    def has_work(self) -> bool:
        return self.whole or self.ratings > 0 or bool(self.participant_ids)


def _batches(rows: Sequence, size: int | None = None) -> Iterator[Sequence]:
    size = size or EPISODES_PER_BATCH
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def _older_than_period(where, today: date, years: int) -> Iterator[list[tuple[int, int, date]]]:
    """Batches of (episode id, unit id, last entry) of the episodes matching ``where`` with the period run out.

    ``where`` gets the earliest date a candidate may have: a case whose every date is
    later cannot be due, since its last entry is never earlier than its start or end
    date and add_years never goes back.
    """
    earliest = add_years(today, -years)
    rows = db.session.execute(select(Episode.id, Episode.unit_id).where(where(earliest)).order_by(Episode.id)).all()
    for batch in _batches(rows):
        last = last_entries([episode_id for episode_id, _unit in batch])
        yield [(episode_id, unit_id, last[episode_id]) for episode_id, unit_id in batch
               if is_due(last[episode_id], years, today)]


def _due(today: date, years: int) -> Iterator[list[tuple[int, int, bool]]]:
    """Batches of (episode id, unit id, overdue) of the closed episodes due on ``today``."""
    for batch in _older_than_period(lambda earliest: Episode.end_date <= earliest, today, years):
        yield [(episode_id, unit_id, is_overdue(last, years, today)) for episode_id, unit_id, last in batch]


def _open_and_old(today: date, years: int) -> dict[int, int]:
    """Unit id -> number of open episodes whose last entry is older than the period."""
    counts: dict[int, int] = defaultdict(int)
    open_since = lambda earliest: Episode.end_date.is_(None) & (Episode.start_date <= earliest)  # noqa: E731
    for batch in _older_than_period(open_since, today, years):
        for _episode_id, unit_id, _last in batch:
            counts[unit_id] += 1
    return counts


def _work(due: list[tuple[int, int, bool]]) -> list[_EpisodeWork]:
    """What deleting this batch of due episodes removes, episode by episode (counts and ids)."""
    ids = [episode_id for episode_id, _unit, _overdue in due]
    whole = _whole_episodes(ids)
    sessions = dict(db.session.execute(
        select(Session.episode_id, func.count()).where(Session.episode_id.in_(whole)).group_by(Session.episode_id)
    ).all())
    ratings = dict(db.session.execute(
        _doomed_ratings(ids, Session.episode_id, func.count()).group_by(Session.episode_id)).all())
    participants: dict[int, set[int]] = defaultdict(set)
    people: dict[int, set[int]] = defaultdict(set)
    for episode_id, participant_id, person_id in db.session.execute(
        _doomed_participants(ids, Participant.episode_id, Participant.id, Participant.person_id)
    ):
        participants[episode_id].add(participant_id)
        people[episode_id].add(person_id)
    works = [
        _EpisodeWork(episode_id, unit_id, episode_id in whole, overdue, sessions.get(episode_id, 0),
                     ratings.get(episode_id, 0), frozenset(participants[episode_id]),
                     frozenset(people[episode_id]))
        for episode_id, unit_id, overdue in due
    ]
    return [w for w in works if w.has_work]


def _persons_left_without_participation(person_ids: Iterable[int], leaving: set[int]) -> set[int]:
    """Those of the persons all of whose participations (if any) are among the ``leaving`` ones."""
    candidates = sorted(set(person_ids))
    staying = set()
    for batch in _batches(candidates):
        rows = db.session.execute(
            select(Participant.person_id, Participant.id).where(Participant.person_id.in_(batch)))
        staying.update(person_id for person_id, participant_id in rows if participant_id not in leaving)
    return set(candidates) - staying


def _plan(today: date, years: int, works: list[_EpisodeWork], persons: set[int], applied: bool) -> Plan:
    """Counts per unit; a person is counted in the unit of one of their cases."""
    old = _open_and_old(today, years)
    rows = db.session.execute(select(Unit.id, Unit.code, Unit.name)
                              .where(Unit.id.in_({w.unit_id for w in works} | set(old))))
    units = {unit_id: UnitCounts(code, name, open_and_old=old.get(unit_id, 0)) for unit_id, code, name in rows}
    unit_of_person = {p: w.unit_id for w in works for p in w.person_ids}
    for person_id in persons:
        units[unit_of_person[person_id]].counts.persons += 1
    for work in works:
        counts = units[work.unit_id].counts
        counts.episodes += work.whole
        counts.pruned += not work.whole
        counts.sessions += work.sessions
        counts.ratings += work.ratings
        counts.overdue += work.overdue
    return Plan(today, years, sorted(units.values(), key=lambda u: u.code), applied)


def plan(today: date) -> Plan:
    """What a run on ``today`` would delete, per unit; writes nothing (the dry run)."""
    years = years_in_force()
    works = [w for batch in _due(today, years) for w in _work(batch)]
    leaving = {p for w in works for p in w.participant_ids}
    persons = _persons_left_without_participation((p for w in works for p in w.person_ids), leaving)
    return _plan(today, years, works, persons, applied=False)


# ---------------------------------------------------------------- deleting


def apply(today: date, actor: Staff | None = None) -> Plan:
    """Delete what is due on ``today``, one transaction per batch, audited; returns what was deleted.

    ``actor`` is the administrator who started it from the admin page; None for the command line.
    """
    actor_fields = ({"actor_id": actor.id, "actor_name": actor.username} if actor is not None
                    else {"actor_name": CLI_ACTOR})
    years = years_in_force()
    done: list[_EpisodeWork] = []
    persons: set[int] = set()
    for due in _due(today, years):
        works = _work(due)
        if works:
            persons |= _delete_batch(works, actor_fields)
            db.session.commit()
            done.extend(works)
    result = _plan(today, years, done, persons, applied=True)
    total = result.total
    record("retention_run", object_type="retention_run",
           object_id=f"{total.episodes}/{total.pruned}/{total.sessions}/{total.ratings}/{total.persons}",
           **actor_fields)
    db.session.commit()
    return result


def _delete_batch(works: list[_EpisodeWork], actor_fields: dict) -> set[int]:
    """Delete one batch with its audit events (not committed); returns the ids of the persons deleted."""
    # Imported here, like fitapp.cases.changes does: the reports package imports its whole blueprint.
    from fitapp.reports.series_store import DERIVED_RECORDS, refresh_series

    ids = [w.episode_id for w in works]
    whole = [w.episode_id for w in works if w.whole]
    participants = [p for w in works for p in w.participant_ids]
    doomed_ratings = list(db.session.scalars(_doomed_ratings(ids)))
    sessions = select(Session.id).where(Session.episode_id.in_(whole))
    for chunk in _batches(doomed_ratings, 5000):
        db.session.execute(delete(RatingRevision).where(RatingRevision.rating_id.in_(chunk)))
        db.session.execute(delete(Rating).where(Rating.id.in_(chunk)))
    for chunk in _batches(participants, 5000):
        db.session.execute(delete(Attendance).where(Attendance.participant_id.in_(chunk)))
    db.session.execute(delete(Attendance).where(Attendance.session_id.in_(sessions)))
    db.session.execute(delete(SessionRevision).where(SessionRevision.session_id.in_(sessions)))
    db.session.execute(delete(Session).where(Session.episode_id.in_(whole)))
    # Derived rows go with their episode: ON DELETE CASCADE does it only where foreign keys are enforced.
    for derived in DERIVED_RECORDS:
        db.session.execute(delete(derived).where(derived.episode_id.in_(whole)))
    for chunk in _batches(participants, 5000):
        db.session.execute(delete(Participant).where(Participant.id.in_(chunk)))
    db.session.execute(delete(Episode).where(Episode.id.in_(whole)))
    # A thinned episode's summaries are recomputed from what is left: the series of non-exempt
    # subjects go (also those rated by raters kept for an exempt person), the SRS tallies shrink.
    pruned = [w.episode_id for w in works if not w.whole]
    if pruned:
        refresh_series(pruned, commit=False)
    gone = _persons_left_without_participation((p for w in works for p in w.person_ids), set())
    for chunk in _batches(sorted(gone), 5000):
        db.session.execute(delete(Person).where(Person.id.in_(chunk)))
    for work in works:
        action = DELETE_EPISODE if work.whole else PRUNE_EPISODE
        record(action, object_type="episode", object_id=work.episode_id, unit_id=work.unit_id, **actor_fields)
    return gone
