"""Changes to cases: open, log a session, correct, soft-delete, close, reassign.

Each function does one request's work in one transaction: it writes the
change and its audit event (ids and action only, never clinical content) and
commits. Callers have loaded the episode through fitapp.cases.access and
validated the input with fitapp.cases.forms. Every change to sessions or
ratings also brings the episode's derived series summaries up to date in the
same transaction (:func:`_record_with_series`), so a report never sees a
change without its series.
"""
from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from fitapp.audit import record
from fitapp.cases.forms import CloseInput, MemberInput, OpenCaseInput, RatingCorrection, SessionInput
from fitapp.extensions import db
from fitapp.identity_numbers import looks_like_identity_number
from fitapp.models import (
    Attendance, Episode, Intervention, Participant, Person, Rating, RatingRevision, Session, SessionRevision,
    Staff, Unit, UnitMembership,
)
from fitapp.models._types import utcnow
from fitapp.models.cases import live_sessions
from fitapp.models.ratings import live_ratings
from fitapp.models.staff import membership_grants_access

# References are drawn from letters and digits that cannot be mistaken for each other (no 0/O, 1/I/L).
REF_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
REF_ATTEMPTS = 20
SAVE_ATTEMPTS = 3


class ExistingPersonNotFound(ValueError):
    """An "existing person reference" that matches no person of the district."""

    def __init__(self, row: int):
        super().__init__(f"no person with that reference in the district (member row {row})")
        self.row = row


def _record_with_series(episode_id: int, unit_id: int, action: str, object_type: str, object_id: int) -> None:
    """Recompute the episode's series summaries for the change being written, then audit it.

    Reports read ``series_summary``; keeping it in step here means a report never
    waits for a nightly job. The audit append comes last: it holds the chain's lock
    until the caller commits, so nothing slow comes after it.
    """
    from fitapp.reports.series_store import refresh_series

    refresh_series([episode_id], commit=False)
    record(action, object_type=object_type, object_id=object_id, unit_id=unit_id)


# ---------------------------------------------------------------- open a case


def active_interventions() -> list[Intervention]:
    return list(db.session.scalars(
        select(Intervention).where(Intervention.is_active).order_by(Intervention.name)))


def units_of(user: Staff, today: date) -> list[Unit]:
    ids = sorted(user.unit_ids_on(today))
    if not ids:
        return []
    return list(db.session.scalars(select(Unit).where(Unit.id.in_(ids)).order_by(Unit.name)))


@dataclass(frozen=True)
class OpenCaseWarning:
    """Something the therapist should see before a case is opened; it opens once they confirm.

    ``kind``: "open_case" (the person already has an open case in the district), "birth_year"
    or "gender" (typed beside an existing reference and different from the stored value, which
    is kept). ``typed``/``stored`` are the two values for the latter.
    """

    row: int
    ref: str
    kind: str
    typed: object = None
    stored: object = None


def open_case_warnings(data: OpenCaseInput) -> list[OpenCaseWarning]:
    """The warnings for opening ``data`` (no writes); existing references that match no person
    of the district raise :class:`ExistingPersonNotFound`, as :func:`open_episode` does."""
    unit = db.session.get(Unit, data.unit_id)
    warnings = []
    for row, member in enumerate(data.members, start=1):
        if not member.existing_ref:
            continue
        person = _person_in_district(member.existing_ref, unit.district_id)
        if person is None:
            raise ExistingPersonNotFound(row)
        if _has_open_case_in_district(person.id, unit.district_id):
            warnings.append(OpenCaseWarning(row, person.ref, "open_case"))
        if member.birth_year is not None and member.birth_year != person.birth_year:
            warnings.append(OpenCaseWarning(row, person.ref, "birth_year", member.birth_year, person.birth_year))
        if member.gender is not None and member.gender != person.gender:
            warnings.append(OpenCaseWarning(row, person.ref, "gender", member.gender, person.gender))
    return warnings


def _has_open_case_in_district(person_id: int, district_id: int) -> bool:
    return db.session.scalar(
        select(Participant.id).join(Episode, Participant.episode_id == Episode.id)
        .join(Unit, Episode.unit_id == Unit.id)
        .where(Participant.person_id == person_id, Episode.end_date.is_(None), Unit.district_id == district_id)
        .limit(1)) is not None


def open_episode(user: Staff, data: OpenCaseInput) -> Episode:
    """A new episode of the user's unit with its family members; audited "open_episode".

    Raises :class:`ExistingPersonNotFound` (nothing written) when an existing
    person reference is not a person of the unit's district. A returning person keeps their
    stored birth year and gender (:func:`open_case_warnings` tells the therapist when the typed
    ones differ).
    """
    unit = db.session.get(Unit, data.unit_id)
    persons = []
    for row, member in enumerate(data.members, start=1):
        if member.existing_ref:
            person = _person_in_district(member.existing_ref, unit.district_id)
            if person is None:
                raise ExistingPersonNotFound(row)
        else:
            person = Person(ref=_new_ref("P-", 7, lambda ref: _exists(Person, Person.ref == ref)),
                            birth_year=member.birth_year, gender=member.gender)
        persons.append((person, member.role))
    episode = Episode(
        unit_id=unit.id,
        ref=_new_ref(f"{data.start_date.year}-", 5,
                     lambda ref: _exists(Episode, Episode.ref == ref, Episode.unit_id == unit.id)),
        therapist_id=user.id,
        intervention_id=data.intervention_id,
        referral_date=data.referral_date,
        start_date=data.start_date,
    )
    for person, role in persons:
        episode.participants.append(Participant(person=person, role=role))
    db.session.add(episode)
    db.session.flush()
    # The reports' derived rows from the start: a case closed without any session still counts its index persons.
    _record_with_series(episode.id, unit.id, "open_episode", "episode", episode.id)
    db.session.commit()
    return episode


class AlreadyInCase(ValueError):
    """The person given by reference already takes part in this case."""


def add_member_warnings(episode: Episode, member: MemberInput, row: int) -> list[OpenCaseWarning]:
    """The warnings for adding ``member`` to ``episode`` (no writes), as for opening a case; raises
    :class:`ExistingPersonNotFound` or :class:`AlreadyInCase` for a reference that cannot be added."""
    if member.existing_ref:
        person = _person_in_district(member.existing_ref, episode.unit.district_id)
        if person is None:
            raise ExistingPersonNotFound(row)
        if any(p.person_id == person.id for p in episode.participants):
            raise AlreadyInCase(person.ref)
    data = OpenCaseInput(episode.unit_id, episode.intervention_id, None, episode.start_date, (member,))
    return [dataclasses.replace(w, row=row) for w in open_case_warnings(data)
            if not (w.kind == "open_case" and _open_case_is(episode, w.ref))]


def _open_case_is(episode: Episode, ref: str) -> bool:
    return episode.is_open and any(p.person.ref == ref for p in episode.participants)


def add_member(episode: Episode, member: MemberInput) -> Participant:
    """A new family member of an open episode: a returning person by reference (their stored birth
    year and gender kept) or a new person; audited "add_participant"."""
    if member.existing_ref:
        person = _person_in_district(member.existing_ref, episode.unit.district_id)
        if person is None:
            raise ExistingPersonNotFound(len(episode.participants) + 1)
    else:
        person = Person(ref=_new_ref("P-", 7, lambda ref: _exists(Person, Person.ref == ref)),
                        birth_year=member.birth_year, gender=member.gender)
    participant = Participant(person=person, role=member.role)
    episode.participants.append(participant)
    db.session.flush()
    _record_with_series(episode.id, episode.unit_id, "add_participant", "participant", participant.id)
    db.session.commit()
    return participant


def _person_in_district(ref: str, district_id: int) -> Person | None:
    """The person with this reference, in any mix of upper and lower case, if they took part in a
    case of the district.

    A person known only in another district is "not found": references must not
    reveal that someone is known elsewhere.
    """
    return db.session.scalar(
        select(Person).join(Participant, Participant.person_id == Person.id)
        .join(Episode, Participant.episode_id == Episode.id).join(Unit, Episode.unit_id == Unit.id)
        .where(func.lower(Person.ref) == ref.lower(), Unit.district_id == district_id)
        .order_by(Person.id).limit(1)
    )


def _exists(model, *conditions) -> bool:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions)) > 0


def _new_ref(prefix: str, length: int, taken) -> str:
    """A random pseudonymous reference that is free and cannot be read as an identity number."""
    for _ in range(REF_ATTEMPTS):
        ref = prefix + "".join(secrets.choice(REF_ALPHABET) for _ in range(length))
        if not looks_like_identity_number(ref) and not taken(ref):
            return ref
    raise RuntimeError("could not find a free reference")  # 31^5 codes: practically unreachable


# ---------------------------------------------------------------- log a session


def log_session(episode: Episode, data: SessionInput) -> int | None:
    """Session, attendance and ratings in one transaction; audited "create_session".

    Returns the new session's number, or None when a session with the form's
    submission key is already stored (the same form sent twice, perhaps at the
    same moment): nothing is written then. The number is the next after every
    session of the episode, deleted ones included, so a number is never
    reused. Two saves at the same moment collide on a unique constraint: the
    later one finds the first's submission key (a duplicate), or else retries
    with the next number.

    The episode's series summaries are refreshed in the same transaction.
    """
    episode_id, unit_id = episode.id, episode.unit_id
    for attempt in range(SAVE_ATTEMPTS):
        try:
            number = _write_session(episode_id, unit_id, data)
            db.session.commit()
            return number
        except IntegrityError:
            db.session.rollback()
            if data.submission_key is not None and _exists(Session, Session.submission_key == data.submission_key):
                return None
            if attempt == SAVE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _write_session(episode_id: int, unit_id: int, data: SessionInput) -> int:
    number = db.session.scalar(select(func.coalesce(func.max(Session.number), 0))
                               .where(Session.episode_id == episode_id)) + 1
    actor = _actor_id()
    # Core INSERTs throughout (nothing here is read back as an object): the session with its new id,
    # then attendance and ratings as two multi-row INSERTs (executemany), so a family's save stays
    # at the same handful of statements whatever its size.
    session_id = db.session.execute(
        Session.__table__.insert().returning(Session.__table__.c.id),
        {"episode_id": episode_id, "number": number, "date": data.date, "created_by_id": actor,
         "submission_key": data.submission_key},
    ).scalar_one()
    attendance = [{"session_id": session_id, "participant_id": a.participant_id,
                   "no_rating_reason": a.no_rating_reason} for a in data.attendees]
    ratings = [_rating(session_id, a.participant_id, a.participant_id, scale, actor)
               for a in data.attendees for scale in (a.outcome, a.alliance) if scale is not None]
    ratings += [_rating(session_id, c.subject_id, c.rater_id, c.scale, actor) for c in data.collateral]
    db.session.execute(Attendance.__table__.insert(), attendance)
    if ratings:
        db.session.execute(Rating.__table__.insert(), ratings)
    _record_with_series(episode_id, unit_id, "create_session", "session", session_id)
    return number


def _rating(session_id: int, subject_id: int, rater_id: int, scale, actor: int | None) -> dict:
    tenths = [int(item.scaleb(1)) for item in scale.items]
    return {
        "session_id": session_id, "subject_id": subject_id, "rater_id": rater_id, "instrument": scale.instrument,
        "item1_x10": tenths[0], "item2_x10": tenths[1], "item3_x10": tenths[2], "item4_x10": tenths[3],
        "total_x10": sum(tenths), "created_by_id": actor, "created_at": utcnow(),
    }


def _actor_id() -> int | None:
    from flask_login import current_user

    return current_user.id if getattr(current_user, "is_authenticated", False) else None


def last_session_date(episode_id: int) -> date | None:
    return db.session.scalar(select(func.max(Session.date))
                             .where(Session.episode_id == episode_id, live_sessions()))


# ---------------------------------------------------------------- corrections and soft delete


def live_rating_of(episode: Episode, rating_id: int) -> Rating | None:
    """A live rating of this episode (None for another episode's, or a deleted one)."""
    return db.session.scalar(
        select(Rating).join(Session, Rating.session_id == Session.id)
        .where(Rating.id == rating_id, Session.episode_id == episode.id, *live_ratings())
    )


def live_session_of(episode: Episode, session_id: int) -> Session | None:
    return db.session.scalar(
        select(Session).where(Session.id == session_id, Session.episode_id == episode.id, live_sessions())
    )


def correct_rating(episode: Episode, rating: Rating, change: RatingCorrection) -> None:
    """New items on the live row, the old ones kept in rating_revision; audited "correct_rating"."""
    db.session.add(RatingRevision(
        rating_id=rating.id, old_item1_x10=rating.item1_x10, old_item2_x10=rating.item2_x10,
        old_item3_x10=rating.item3_x10, old_item4_x10=rating.item4_x10, old_total_x10=rating.total_x10,
        reason=change.reason, changed_by_id=_actor_id(),
    ))
    rating.set_items(change.items)
    _record_with_series(episode.id, episode.unit_id, "correct_rating", "rating", rating.id)
    db.session.commit()


def correct_session(episode: Episode, session: Session, new_date: date, reason: str) -> None:
    """New date, the old one kept in session_revision; audited "correct_session"."""
    db.session.add(SessionRevision(session_id=session.id, old_date=session.date, reason=reason,
                                   changed_by_id=_actor_id()))
    session.date = new_date
    _record_with_series(episode.id, episode.unit_id, "correct_session", "session", session.id)
    db.session.commit()


def delete_rating(episode: Episode, rating: Rating, reason: str) -> None:
    """Soft delete: the row stays with who, when and why; audited "delete_rating"."""
    rating.deleted_at, rating.deleted_by_id, rating.delete_reason = utcnow(), _actor_id(), reason
    _record_with_series(episode.id, episode.unit_id, "delete_rating", "rating", rating.id)
    db.session.commit()


def delete_session(episode: Episode, session: Session, reason: str) -> None:
    """Soft delete of a session: its ratings and attendance disappear with it from every view."""
    session.deleted_at, session.deleted_by_id, session.delete_reason = utcnow(), _actor_id(), reason
    _record_with_series(episode.id, episode.unit_id, "delete_session", "session", session.id)
    db.session.commit()


# ---------------------------------------------------------------- close and reassign


def close_episode(episode: Episode, data: CloseInput) -> None:
    episode.end_date = data.end_date
    episode.end_reason = data.end_reason
    episode.child_no_rating_reason = data.child_no_rating_reason
    record("close_episode", object_type="episode", object_id=episode.id, unit_id=episode.unit_id)
    db.session.commit()


def unit_therapists(unit_id: int, today: date) -> list[Staff]:
    """Enabled therapists who belong to the unit today: those a case can be given to."""
    memberships = (select(UnitMembership.staff_id)
                   .where(UnitMembership.unit_id == unit_id, membership_grants_access(UnitMembership, today)))
    return list(db.session.scalars(
        select(Staff).where(Staff.id.in_(memberships), Staff.role == "therapist", Staff.is_enabled)
        .order_by(Staff.username)))


def reassign_episode(episode: Episode, therapist_id: int) -> None:
    assign_therapist(episode, therapist_id)
    db.session.commit()


def assign_therapist(episode: Episode, therapist_id: int) -> None:
    """Give ``episode`` to another therapist of its unit, audited as "reassign_episode"; the caller commits."""
    episode.therapist_id = therapist_id
    record("reassign_episode", object_type="episode", object_id=episode.id, unit_id=episode.unit_id)
