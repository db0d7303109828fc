"""Bulk insert of an ImportPlan with SQLAlchemy Core, in dependency order.

Tables whose ids later rows need are inserted with ``RETURNING id`` plus the
natural key columns, and the ids are matched by natural key: SQLAlchemy then
sends multi-row batches on both SQLite and PostgreSQL, whereas asking for
rows in parameter order makes it fall back to one statement per row on
SQLite. The two large leaf tables (ratings, attendance) need no ids: they
go in with executemany on SQLite and with COPY on PostgreSQL, where
executemany costs a round trip per row.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Table

from fitapp.extensions import db
from fitapp.interchange.plan import ImportPlan
from fitapp.interchange.stored import Stored
from fitapp.models import (
    Attendance, District, Episode, Intervention, Participant, Person, Rating, Session, Staff, Unit, UnitMembership,
)
from fitapp.models._types import utcnow
from fitapp.models.disclosure import new_record_key


@dataclass
class Ids:
    """Natural key -> database id, for stored rows and for rows this import inserts."""

    districts: dict
    units: dict
    interventions: dict
    staff: dict
    persons: dict
    episodes: dict
    participants: dict
    sessions: dict

    @classmethod
    def of(cls, stored: Stored) -> Ids:
        return cls(
            districts=dict(stored.district_ids),
            units={code: unit_id for code, (unit_id, _) in stored.units.items()},
            interventions=dict(stored.intervention_ids),
            staff=dict(stored.staff_ids),
            persons={ref: person.id for ref, person in stored.persons.items()},
            episodes={key: episode.id for key, episode in stored.episodes.items()},
            participants={key: pid for key, (pid, _) in stored.participants.items()},
            sessions={key: sid for key, (sid, _) in stored.sessions.items()},
        )


def write_plan(plan: ImportPlan, stored: Stored) -> set[int]:
    """Insert everything in ``plan`` into the current transaction (the caller commits).

    Returns the ids of the episodes that got new participants, sessions or ratings:
    their series, per-episode tallies and index persons (the reports' derived rows) changed.
    """
    now = utcnow()  # one timestamp for the whole import: it happened at one moment
    ids = Ids.of(stored)
    _organisation(plan, ids, now)
    _insert(Person, ids.persons, {ref: {"ref": ref, "birth_year": year, "gender": gender, "retention_exempt": False,
                                        "created_at": now}
                                  for ref, (year, gender) in plan.persons.items()}, ("ref",), _same)
    unit_code = _inverse(ids.units)
    _insert(Episode, ids.episodes, {key: {
        "unit_id": ids.units[key[0]], "ref": key[1], "therapist_id": ids.staff[fields.therapist],
        "intervention_id": ids.interventions[fields.intervention], "referral_date": fields.referral_date,
        "start_date": fields.start, "end_date": fields.end, "end_reason": fields.end_reason,
        "child_no_rating_reason": None, "created_at": now,
    } for key, fields in plan.episodes.items()}, ("unit_id", "ref"), lambda unit_id, ref: (unit_code[unit_id], ref))
    episode_key, person_ref = _inverse(ids.episodes), _inverse(ids.persons)
    _insert(Participant, ids.participants, {key: {
        "episode_id": ids.episodes[key[0]], "person_id": ids.persons[key[1]], "role": role,
    } for key, role in plan.participants.items()}, ("episode_id", "person_id"),
        lambda episode_id, person_id: (episode_key[episode_id], person_ref[person_id]))
    _insert(Session, ids.sessions, {key: {
        "episode_id": ids.episodes[key[0]], "number": key[1], "date": day, "created_at": now,
    } for key, day in plan.sessions.items()}, ("episode_id", "number"),
        lambda episode_id, number: (episode_key[episode_id], number))
    _execute(Attendance, [{
        "session_id": ids.sessions[(episode, number)], "participant_id": ids.participants[(episode, ref)],
        "no_rating_reason": None,
    } for episode, number, ref in plan.attendance])
    _execute(Rating, [_rating_values(key, items, ids, now) for key, items in plan.ratings.items()])
    return {ids.episodes[key[0]] for key in (*plan.ratings, *plan.sessions, *plan.participants)}


def _organisation(plan: ImportPlan, ids: Ids, now) -> None:
    _insert(District, ids.districts, {code: {"code": code, "name": code} for code in plan.districts},
            ("code",), _same)
    _insert(Unit, ids.units, {code: {"code": code, "name": code, "district_id": ids.districts[district]}
                              for code, district in plan.units.items()}, ("code",), _same)
    _insert(Intervention, ids.interventions, {code: {"code": code, "name": code, "kind": "båda", "is_active": True}
                                              for code in plan.interventions}, ("code",), _same)
    # Imported staff get no password: they cannot log in until an administrator sets one.
    _insert(Staff, ids.staff, {name: {"username": name, "password_hash": None, "role": "therapist",
                                      "is_enabled": True, "created_at": now} for name in plan.staff},
            ("username",), _same)
    _execute(UnitMembership, [{"staff_id": ids.staff[name], "unit_id": ids.units[unit], "team_id": None,
                               "valid_from": since, "valid_to": None}
                              for name, units in plan.staff.items() for unit, since in units.items()])


def _rating_values(key: tuple, items: tuple[int, int, int, int], ids: Ids, now) -> dict:
    episode, number, subject_ref, rater_ref, instrument = key
    subject_id = ids.participants[(episode, subject_ref)]
    return {
        "session_id": ids.sessions[(episode, number)], "instrument": instrument, "subject_id": subject_id,
        "rater_id": subject_id if rater_ref is None else ids.participants[(episode, rater_ref)],
        "item1_x10": items[0], "item2_x10": items[1], "item3_x10": items[2], "item4_x10": items[3],
        "total_x10": sum(items), "created_by_id": None, "created_at": now,
        # Drawn here, not left to the column default: COPY (PostgreSQL) bypasses SQLAlchemy's defaults.
        "record_key": new_record_key(),
    }


def _same(value):
    return value


def _inverse(id_map: dict) -> dict:
    return {db_id: key for key, db_id in id_map.items()}


def _insert(model, id_map: dict, values_by_key: dict, key_columns: tuple[str, ...], key_of) -> None:
    """Insert rows and record their generated ids under their natural keys.

    ``key_of`` turns the returned ``key_columns`` back into the natural key.
    """
    if not values_by_key:
        return
    table: Table = model.__table__
    statement = table.insert().returning(table.c.id, *(table.c[name] for name in key_columns))
    for new_id, *key_values in db.session.execute(statement, list(values_by_key.values())):
        id_map[key_of(*key_values)] = new_id


def _execute(model, rows: list[dict]) -> None:
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        _copy(connection, model.__table__, rows)
    else:
        connection.execute(model.__table__.insert(), rows)


def _copy(connection, table: Table, rows: list[dict]) -> None:
    """COPY rows into a PostgreSQL table on the session's own connection (same transaction)."""
    columns = list(rows[0])
    driver_connection = connection.connection.driver_connection
    with driver_connection.cursor() as cursor:
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[name] for name in columns])
