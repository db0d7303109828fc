"""Checks across rows and against the database, and what an import would create.

Pure apart from its inputs: ``Stored`` (already loaded) and the checked rows.
Every rule of interchange.md "Ratings file (input)" that needs more than one
row lives here; the one-row rules are in rows.py.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from fitapp.interchange.rows import (
    EPISODE_COLUMNS, ITEM_COLUMNS, EpisodeFields, Errors, RatingRow, RowReader, tenths_text,
)
from fitapp.interchange.stored import EpisodeKey, Stored
from fitapp.organisation_time import organisation_today

DEFAULT_DISTRICT = "DEFAULT"


@dataclass
class ImportPlan:
    """Everything new in the file, by natural key, in an order that inserts can follow."""

    districts: list[str] = field(default_factory=list)
    units: dict[str, str] = field(default_factory=dict)  # code -> district code
    interventions: list[str] = field(default_factory=list)
    staff: dict[str, dict[str, date]] = field(default_factory=dict)  # username -> unit code -> member from
    persons: dict[str, tuple[int | None, str | None]] = field(default_factory=dict)  # ref -> (birth year, gender)
    episodes: dict[EpisodeKey, EpisodeFields] = field(default_factory=dict)
    participants: dict[tuple[EpisodeKey, str], str] = field(default_factory=dict)  # -> role
    sessions: dict[tuple[EpisodeKey, int], date] = field(default_factory=dict)
    attendance: dict[tuple[EpisodeKey, int, str], None] = field(default_factory=dict)  # an ordered set
    # (episode, session_no, subject ref, rater ref or None, instrument) -> item tenths
    ratings: dict[tuple, tuple[int, int, int, int]] = field(default_factory=dict)


class Agreement:
    """First value per key; reports the first row that disagrees with it, once per key."""

    def __init__(self, errors: Errors) -> None:
        self.errors = errors
        self.first: dict = {}
        self._reported: set = set()

    def check(self, key, value, line: int, column: str, template: str, **names) -> bool:
        """False when ``value`` differs from the key's first value.

        ``template`` is formatted with ``here``, ``first``, ``line`` and ``names``.
        """
        if key not in self.first:
            self.first[key] = (value, line)
            return True
        first_value, first_line = self.first[key]
        if value == first_value:
            return True
        if key not in self._reported:
            self._reported.add(key)
            self.errors.add(line, column, template.format(here=shown(value), first=shown(first_value),
                                                          line=first_line, **names))
        return False

    def value(self, key, default=None):
        return self.first[key][0] if key in self.first else default


def shown(value) -> str:
    return "(empty)" if value is None or value == "" else str(value)


def group_by_episode(rows: Iterable[RatingRow]) -> dict[EpisodeKey, list[RatingRow]]:
    groups: dict[EpisodeKey, list[RatingRow]] = {}
    for row in rows:
        if row.episode_key is not None:
            groups.setdefault(row.episode_key, []).append(row)
    return groups


def read_episodes(groups: dict[EpisodeKey, list[RatingRow]], reader: RowReader) -> dict[EpisodeKey, EpisodeFields]:
    """Episode columns from each episode's first row; later rows must repeat them exactly."""
    agreement = Agreement(reader.errors)
    for (unit, ref), group in groups.items():
        for row in group:
            for column in EPISODE_COLUMNS:
                agreement.check((unit, ref, column), row.raw.get(column, ""), row.line, column,
                                "rows of episode {ref} must agree: {here} here but {first} on line {line}, "
                                "the episode's first row", ref=ref)
    return {key: reader.read_episode(group[0]) for key, group in groups.items()}


class Planner:
    def __init__(self, stored: Stored, *, create_missing: bool, errors: Errors, today: date | None = None) -> None:
        self.stored = stored
        self.create_missing = create_missing
        self.errors = errors
        self.today = today or organisation_today()
        self.plan = ImportPlan()

    def build(self, rows: list[RatingRow], episodes: dict[EpisodeKey, EpisodeFields]) -> ImportPlan:
        self._units(episodes)
        self._codes(episodes, "therapist", self.stored.staff_ids, "therapist login")
        self._codes(episodes, "intervention", self.stored.intervention_ids, "intervention code")
        self._staff_memberships(episodes)
        self._therapists_in_their_units(episodes)
        self._episodes(episodes)
        self._persons(rows)
        self._participants(rows)
        self._sessions(rows, episodes)
        self._ratings(rows)
        return self.plan

    # Organisation and codes ---------------------------------------------------------------

    def _units(self, episodes: dict[EpisodeKey, EpisodeFields]) -> None:
        district_of_new = Agreement(self.errors)
        unknown: dict[str, int] = {}
        for (unit, _), fields in episodes.items():
            if unit in self.stored.units:
                district = self.stored.units[unit][1]
                if fields.district and fields.district != district:
                    self.errors.add(fields.line, "district",
                                    f"unit {unit} belongs to district {district}, not {fields.district}")
            elif not self.create_missing:
                unknown.setdefault(unit, fields.line)
            elif fields.district:
                district_of_new.check(unit, fields.district, fields.line, "district",
                                      "unit {unit} is given district {here} here but {first} on line {line}",
                                      unit=unit)
        for unit, line in unknown.items():
            self.errors.add(line, "unit", f"unknown unit code {unit!r}; create the unit first or use --create-missing")
        if self.create_missing:
            for unit in dict.fromkeys(u for u, _ in episodes if u not in self.stored.units):
                self.plan.units[unit] = district_of_new.value(unit, DEFAULT_DISTRICT)
            new_districts = set(self.plan.units.values()) - set(self.stored.district_ids)
            self.plan.districts = sorted(new_districts)

    def _codes(self, episodes: dict[EpisodeKey, EpisodeFields], column: str, known: dict[str, int],
               what: str) -> None:
        """Therapists and interventions: created with --create-missing, otherwise unknown ones are errors."""
        first_line: dict[str, int] = {}
        for fields in episodes.values():
            code = getattr(fields, column)
            if code is not None and code not in known:
                first_line.setdefault(code, fields.line)
        for code, line in first_line.items():
            if not self.create_missing:
                self.errors.add(line, column, f"unknown {what} {code!r}; create it first or use --create-missing")
        if self.create_missing:
            if column == "intervention":
                self.plan.interventions = list(first_line)
            else:
                self.plan.staff = {username: {} for username in first_line}

    def _staff_memberships(self, episodes: dict[EpisodeKey, EpisodeFields]) -> None:
        # A created therapist belongs to each unit from the earliest episode start there.
        for (unit, _), fields in episodes.items():
            units = self.plan.staff.get(fields.therapist)
            if units is None or fields.start is None:
                continue
            units[unit] = min(units.get(unit, fields.start), fields.start)

    def _therapists_in_their_units(self, episodes: dict[EpisodeKey, EpisodeFields]) -> None:
        """A new episode's therapist belongs to its unit on the episode's last day: its end date,
        or today for an open episode (the day they hold it).

        The therapist named is the one who holds, or last held, the case, and a case is held inside
        its unit: a therapist of another unit or district is refused, not given the case. The last
        day rather than today for a closed case, so a file of past years can still name staff who
        have moved since (they see nothing of it: access follows today's membership). A therapist
        created here (--create-missing) belongs to each unit from its first episode there, but never
        to units of two districts (OSL 8 kap.).
        """
        district_first: dict[str, tuple[str, str]] = {}  # created therapist -> (district, unit)
        for key, fields in episodes.items():
            unit, therapist = key[0], fields.therapist
            if therapist is None or key in self.stored.episodes or "therapist" in fields.bad:
                continue  # an existing episode keeps its therapist (checked in _episodes)
            if therapist in self.plan.staff:
                district = self.plan.units.get(unit) or self.stored.units.get(unit, (None, None))[1]
                first = district_first.setdefault(therapist, (district, unit))
                if district is not None and first[0] is not None and district != first[0]:
                    self.errors.add(fields.line, "therapist",
                                    f"therapist {therapist} would belong to unit {unit} of district {district} "
                                    f"and unit {first[1]} of district {first[0]} at the same time; nobody "
                                    "belongs to units of two districts")
                continue
            if therapist not in self.stored.staff_ids or not (unit in self.stored.units or unit in self.plan.units):
                continue  # an unknown therapist or unit is reported on its own
            if fields.end is not None:
                day, which = fields.end, "the episode's end date"
            else:
                day, which = self.today, "today: the episode is open"
            if not any(member_unit == unit and valid_from <= day and (valid_to is None or day <= valid_to)
                       for member_unit, valid_from, valid_to in self.stored.memberships.get(therapist, ())):
                self.errors.add(fields.line, "therapist",
                                f"therapist {therapist} does not belong to unit {unit} on {day} ({which}); "
                                "a case is held by a member of its unit")

    # Episodes, persons, participants, sessions, ratings ------------------------------------

    def _episodes(self, episodes: dict[EpisodeKey, EpisodeFields]) -> None:
        for key, fields in episodes.items():
            existing = self.stored.episodes.get(key)
            if existing is None:
                self.plan.episodes[key] = fields
                continue
            pairs = (("therapist", fields.therapist, existing.therapist),
                     ("intervention", fields.intervention, existing.intervention),
                     ("referral_date", fields.referral_date, existing.referral_date),
                     ("episode_start", fields.start, existing.start),
                     ("episode_end", fields.end, existing.end),
                     ("end_reason", fields.end_reason, existing.end_reason))
            for column, given, have in pairs:
                if column not in fields.bad and given != have:
                    self.errors.add(fields.line, column,
                                    f"episode {key[1]} of unit {key[0]} is already stored with {column} "
                                    f"{shown(have)}; an existing key must keep its values")

    def _persons(self, rows: list[RatingRow]) -> None:
        # An empty birth_year or gender gives no information, so it agrees with any value.
        agreement = Agreement(self.errors)
        conflicts: set[tuple[str, str]] = set()
        for row in rows:
            ref = row.person_ref
            if ref is None:
                continue
            existing = self.stored.persons.get(ref)
            for column in ("birth_year", "gender"):
                value = getattr(row, column)
                if value is None:
                    continue
                agreement.check((ref, column), value, row.line, column,
                                "person {ref} has {attribute} {here} here but {first} on line {line}",
                                ref=ref, attribute=column)
                have = getattr(existing, column) if existing else value
                if have != value and (ref, column) not in conflicts:
                    conflicts.add((ref, column))
                    self.errors.add(row.line, column, f"person {ref} is already stored with {column} {shown(have)}; "
                                                      "an existing key must keep its values")
            if existing is None and ref not in self.plan.persons:
                self.plan.persons[ref] = (None, None)
        for ref in self.plan.persons:
            self.plan.persons[ref] = (agreement.value((ref, "birth_year")), agreement.value((ref, "gender")))

    def _participants(self, rows: list[RatingRow]) -> None:
        agreement = Agreement(self.errors)
        for row in rows:
            key = (row.episode_key, row.person_ref)
            if None in key or row.role is None:
                continue
            first_time = key not in agreement.first
            agreement.check(key, row.role, row.line, "role",
                            "person {ref} has role {here} here but {first} on line {line} in the same episode",
                            ref=row.person_ref)
            if first_time:
                self._new_participant(row, key)

    def _new_participant(self, row: RatingRow, key: tuple[EpisodeKey, str]) -> None:
        existing = self.stored.participants.get(key)
        if existing is None:
            self.plan.participants[key] = row.role
        elif existing[1] != row.role:
            self.errors.add(row.line, "role", f"person {row.person_ref} is already a participant of episode "
                                              f"{row.episode_ref} with role {existing[1]}")

    def _sessions(self, rows: list[RatingRow], episodes: dict[EpisodeKey, EpisodeFields]) -> None:
        agreement = Agreement(self.errors)
        for row in rows:
            key = (row.episode_key, row.session_no)
            if None in key or row.session_date is None:
                continue
            first_time = key not in agreement.first
            if not agreement.check(key, row.session_date, row.line, "session_date",
                                   "session {no} of this episode is dated {here} here but {first} on line {line}",
                                   no=row.session_no):
                continue
            if first_time:
                self._new_session(row, key, episodes[row.episode_key])
            if row.person_ref is not None and (key[0], key[1], row.person_ref) not in self.stored.attendance:
                if self._refuse_if_deleted(row, key, "person_ref"):
                    continue
                self.plan.attendance[(key[0], key[1], row.person_ref)] = None

    def _refuse_if_deleted(self, row: RatingRow, key: tuple[EpisodeKey, int], column: str) -> bool:
        """A file may repeat what a deleted session held (so re-imports stay idempotent) but never add to it:
        anything added would be invisible, since every reader leaves deleted sessions out."""
        if key not in self.stored.deleted_sessions:
            return False
        self.errors.add(row.line, column, f"session {key[1]} of episode {key[0][1]} was deleted in fitapp; "
                                          "nothing new can be added to it")
        return True

    def _new_session(self, row: RatingRow, key: tuple[EpisodeKey, int], episode: EpisodeFields) -> None:
        day = row.session_date
        if episode.start and day < episode.start or episode.end and day > episode.end:
            period = f"{episode.start or '?'}–{episode.end or ''}"
            self.errors.add(row.line, "session_date", f"session date {day} is outside the episode's dates ({period})")
        existing = self.stored.sessions.get(key)
        if existing is None:
            self.plan.sessions[key] = day
        elif existing[1] != day:
            self.errors.add(row.line, "session_date", f"session {row.session_no} of episode {key[0][1]} is already "
                                                      f"stored with date {existing[1]}")

    def _ratings(self, rows: list[RatingRow]) -> None:
        members = {(row.episode_key, row.person_ref) for row in rows} | set(self.stored.participants)
        first_line: dict[tuple, int] = {}
        for row in rows:
            if row.items is None or None in (row.episode_key, row.session_no, row.person_ref):
                continue
            if row.rater_ref is not None and (row.episode_key, row.rater_ref) not in members:
                self.errors.add(row.line, "rater_ref", f"rater {row.rater_ref} is not a participant of episode "
                                                       f"{row.episode_ref} (no row of the episode has that person_ref)")
            key = (row.episode_key, row.session_no, row.person_ref, row.rater_ref, row.instrument)
            if key in first_line:
                self.errors.add(row.line, "instrument", f"the same rating (episode, session_no, person_ref, rater_ref, "
                                                        f"instrument) is already on line {first_line[key]}")
                continue
            first_line[key] = row.line
            self._rating(row, key)

    def _rating(self, row: RatingRow, key: tuple) -> None:
        existing = self.stored.ratings.get(key)
        if existing is None:
            if not self._refuse_if_deleted(row, (key[0], key[1]), "instrument"):
                self.plan.ratings[key] = row.items
            return
        for column, have, given in zip(ITEM_COLUMNS, existing, row.items):
            if have != given:
                self.errors.add(row.line, column, f"this rating is already stored with {column} {tenths_text(have)}; "
                                                  "an existing key must keep its values")
                return
