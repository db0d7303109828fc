"""What the database already holds for the keys named in a ratings file, by natural key.

Loaded once before validation so that every check is a dictionary lookup:
the importer never asks the database row by row.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import aliased

from fitapp.extensions import db
from fitapp.models import (
    Attendance, District, Episode, Intervention, Participant, Person, Rating, Session, Staff, Unit, UnitMembership,
)

# Keeps IN lists well below SQLite's bound-parameter limit.
CHUNK = 500

EpisodeKey = tuple[str, str]  # (unit code, episode_ref)


@dataclass(frozen=True)
class StoredPerson:
    id: int
    birth_year: int | None
    gender: str | None


@dataclass(frozen=True)
class StoredEpisode:
    id: int
    therapist: str
    intervention: str
    referral_date: date | None
    start: date
    end: date | None
    end_reason: str | None


@dataclass
class Stored:
    district_ids: dict[str, int] = field(default_factory=dict)
    units: dict[str, tuple[int, str]] = field(default_factory=dict)  # code -> (id, district code)
    intervention_ids: dict[str, int] = field(default_factory=dict)
    staff_ids: dict[str, int] = field(default_factory=dict)
    # username -> (unit code, valid from, valid to or None) of each unit membership
    memberships: dict[str, list[tuple[str, date, date | None]]] = field(default_factory=dict)
    persons: dict[str, StoredPerson] = field(default_factory=dict)
    episodes: dict[EpisodeKey, StoredEpisode] = field(default_factory=dict)
    participants: dict[tuple[EpisodeKey, str], tuple[int, str]] = field(default_factory=dict)  # -> (id, role)
    sessions: dict[tuple[EpisodeKey, int], tuple[int, date]] = field(default_factory=dict)  # -> (id, date)
    # Sessions a user deleted (soft delete) in fitapp: a file may repeat what they held, never add to them.
    deleted_sessions: set[tuple[EpisodeKey, int]] = field(default_factory=set)
    attendance: set[tuple[EpisodeKey, int, str]] = field(default_factory=set)
    # (episode, session_no, subject ref, rater ref or None for self, instrument) -> item tenths
    ratings: dict[tuple, tuple[int, int, int, int]] = field(default_factory=dict)


def load_stored(*, usernames: set[str], person_refs: set[str], episode_keys: set[EpisodeKey]) -> Stored:
    stored = Stored()
    stored.district_ids = dict(db.session.execute(select(District.code, District.id)).all())
    stored.units = {code: (unit_id, district) for code, unit_id, district in db.session.execute(
        select(Unit.code, Unit.id, District.code).join(District, Unit.district_id == District.id))}
    stored.intervention_ids = dict(db.session.execute(select(Intervention.code, Intervention.id)).all())
    stored.staff_ids = dict(_in_chunks(select(Staff.username, Staff.id), Staff.username, usernames))
    memberships = (select(Staff.username, Unit.code, UnitMembership.valid_from, UnitMembership.valid_to)
                   .join(UnitMembership, UnitMembership.staff_id == Staff.id)
                   .join(Unit, UnitMembership.unit_id == Unit.id))
    for username, unit, valid_from, valid_to in _in_chunks(memberships, Staff.username, usernames):
        stored.memberships.setdefault(username, []).append((unit, valid_from, valid_to))
    stored.persons = {ref: StoredPerson(pid, year, gender) for ref, pid, year, gender in _in_chunks(
        select(Person.ref, Person.id, Person.birth_year, Person.gender), Person.ref, person_refs)}
    _load_episodes(stored, episode_keys)
    if stored.episodes:
        _load_episode_contents(stored)
    return stored


def _load_episodes(stored: Stored, episode_keys: set[EpisodeKey]) -> None:
    unit_ids = {stored.units[unit][0] for unit, _ in episode_keys if unit in stored.units}
    if not unit_ids:
        return
    query = (
        select(Unit.code, Episode.ref, Episode.id, Staff.username, Intervention.code, Episode.referral_date,
               Episode.start_date, Episode.end_date, Episode.end_reason)
        .select_from(Episode)
        .join(Unit, Episode.unit_id == Unit.id)
        .join(Staff, Episode.therapist_id == Staff.id)
        .join(Intervention, Episode.intervention_id == Intervention.id)
        .where(Episode.unit_id.in_(unit_ids))
    )
    refs = {ref for _, ref in episode_keys}
    for unit, ref, *values in _in_chunks(query, Episode.ref, refs):
        if (unit, ref) in episode_keys:
            stored.episodes[(unit, ref)] = StoredEpisode(*values)


def _load_episode_contents(stored: Stored) -> None:
    key_of = {episode.id: key for key, episode in stored.episodes.items()}
    ids = set(key_of)
    subject, rater = aliased(Participant), aliased(Participant)
    subject_person, rater_person = aliased(Person), aliased(Person)

    participants = select(Participant.episode_id, Person.ref, Participant.id, Participant.role).select_from(
        Participant).join(
        Person, Participant.person_id == Person.id)
    for episode_id, ref, pid, role in _in_chunks(participants, Participant.episode_id, ids):
        stored.participants[(key_of[episode_id], ref)] = (pid, role)

    sessions = select(Session.episode_id, Session.number, Session.id, Session.date, Session.deleted_at)
    for episode_id, number, sid, day, deleted_at in _in_chunks(sessions, Session.episode_id, ids):
        stored.sessions[(key_of[episode_id], number)] = (sid, day)
        if deleted_at is not None:
            stored.deleted_sessions.add((key_of[episode_id], number))

    attendance = (select(Session.episode_id, Session.number, Person.ref)
                  .select_from(Attendance)
                  .join(Session, Attendance.session_id == Session.id)
                  .join(Participant, Attendance.participant_id == Participant.id)
                  .join(Person, Participant.person_id == Person.id))
    for episode_id, number, ref in _in_chunks(attendance, Session.episode_id, ids):
        stored.attendance.add((key_of[episode_id], number, ref))

    ratings = (select(Session.episode_id, Session.number, subject_person.ref, rater_person.ref, Rating.instrument,
                      Rating.item1_x10, Rating.item2_x10, Rating.item3_x10, Rating.item4_x10)
               .select_from(Rating)
               .join(Session, Rating.session_id == Session.id)
               .join(subject, Rating.subject_id == subject.id)
               .join(subject_person, subject.person_id == subject_person.id)
               .join(rater, Rating.rater_id == rater.id)
               .join(rater_person, rater.person_id == rater_person.id))
    for episode_id, number, subject_ref, rater_ref, instrument, *items in _in_chunks(
            ratings, Session.episode_id, ids):
        key = (key_of[episode_id], number, subject_ref, None if rater_ref == subject_ref else rater_ref, instrument)
        stored.ratings[key] = tuple(items)


def _in_chunks(query, column, values: Iterable) -> Iterator[tuple]:
    values = sorted(values)
    for start in range(0, len(values), CHUNK):
        yield from db.session.execute(query.where(column.in_(values[start:start + CHUNK])))
