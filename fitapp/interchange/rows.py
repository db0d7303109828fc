"""Columns of the ratings file and the checks one row can make on its own
(interchange.md "Ratings file (input)"). Pure: no database here.

A value that fails its check is recorded as an error and left out (None), so
the checks across rows and against the database never build on a bad value.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from fitapp.identity_numbers import looks_like_identity_number
from fitapp.interchange.csvio import CsvRow
from fitapp.models.cases import END_REASONS, GENDERS, PARTICIPANT_ROLES
from fitapp.scoring.instruments import ALL_INSTRUMENTS, InvalidValue, parse_item, parse_total

COLUMNS = (
    "district", "unit", "episode_ref", "therapist", "intervention", "referral_date", "episode_start",
    "episode_end", "end_reason", "person_ref", "role", "birth_year", "gender", "session_date", "session_no",
    "instrument", "rater_ref", "item1", "item2", "item3", "item4", "total",
)
REQUIRED = ("unit", "episode_ref", "therapist", "intervention", "episode_start", "person_ref", "role",
            "session_date", "session_no")
# Repeated on every row of an episode; they must agree (checked in plan.py).
EPISODE_COLUMNS = ("district", "unit", "episode_ref", "therapist", "intervention", "referral_date",
                   "episode_start", "episode_end", "end_reason")
ITEM_COLUMNS = ("item1", "item2", "item3", "item4")

# Column widths of the schema: longer values would fail on PostgreSQL at insert time.
MAX_REF = 64
MAX_CODE = 40
MAX_USERNAME = 80
MAX_SESSION_NO = 9999

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_WHOLE = re.compile(r"[0-9]+", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")

IDENTITY_NUMBER_REASON = ("looks like a personal identity number (personnummer or samordningsnummer); "
                          "only pseudonymous references may be imported")


@dataclass(frozen=True, order=True)
class RowError:
    """One problem in the file: ``line N, column X: reason`` (N counts the header as line 1)."""

    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.reason}"


class Errors:
    """Collects every error; the import writes nothing unless this stays empty."""

    def __init__(self) -> None:
        self._errors: set[RowError] = set()

    def add(self, line: int, column: str, reason: str) -> None:
        self._errors.add(RowError(line, column, reason))

    def __bool__(self) -> bool:
        return bool(self._errors)

    def sorted(self, header: tuple[str, ...]) -> list[RowError]:
        """File order: by line, then by the column's place in the header (or in COLUMNS when absent)."""
        position = {name: i for i, name in enumerate(header)}
        for i, name in enumerate(COLUMNS):
            position.setdefault(name, len(header) + i)
        return sorted(self._errors, key=lambda e: (e.line, position.get(e.column, len(position)), e.column, e.reason))


class Bad(ValueError):
    """A value that fails its column's rule; the message is the reason shown to the user."""


@dataclass
class EpisodeFields:
    """The episode columns as given on the episode's first row."""

    line: int
    raw: dict[str, str]
    district: str | None
    therapist: str | None
    intervention: str | None
    referral_date: date | None
    start: date | None
    end: date | None
    end_reason: str | None
    bad: set[str] = field(default_factory=set)


@dataclass
class RatingRow:
    """One data row with its values checked; ``bad`` names the columns that failed."""

    line: int
    raw: dict[str, str]
    unit: str | None = None
    episode_ref: str | None = None
    person_ref: str | None = None
    role: str | None = None
    birth_year: int | None = None
    gender: str | None = None
    session_date: date | None = None
    session_no: int | None = None
    instrument: str | None = None
    rater_ref: str | None = None  # None for a self-rating, also when the file names the person themself
    items: tuple[int, int, int, int] | None = None  # tenths
    bad: set[str] = field(default_factory=set)

    @property
    def episode_key(self) -> tuple[str, str] | None:
        if self.unit is None or self.episode_ref is None:
            return None
        return self.unit, self.episode_ref


def header_errors(header: tuple[str, ...], errors: Errors) -> bool:
    """Check the header; False when rows cannot be read at all."""
    seen: set[str] = set()
    for name in header:
        if name in seen and name:
            errors.add(1, name, "the column appears twice in the header")
        seen.add(name)
    missing = [name for name in REQUIRED if name not in seen]
    for name in missing:
        errors.add(1, name, "required column is missing from the header")
    return not missing


class RowReader:
    """Checks rows one at a time; caches item parsing since few distinct values occur."""

    def __init__(self, errors: Errors, *, decimal_comma: bool) -> None:
        self.errors = errors
        self.decimal_comma = decimal_comma
        # Item text -> tenths, or the reason it is invalid.
        self._tenths: dict[str, int | str] = {}

    def read_row(self, row: CsvRow) -> RatingRow:
        raw = row.values
        result = RatingRow(line=row.line, raw=raw)
        for position, _ in enumerate(row.extra, start=len(raw) + 1):
            self._fail(result, f"field {position}", "the row has more fields than the header has columns")
        result.unit = self._check(result, "unit", code, required=True)
        result.episode_ref = self._check(result, "episode_ref", reference, required=True)
        result.person_ref = self._check(result, "person_ref", reference, required=True)
        result.role = self._check(result, "role", role, required=True)
        result.birth_year = self._check(result, "birth_year", birth_year)
        result.gender = self._check(result, "gender", gender)
        result.session_date = self._check(result, "session_date", iso_date, required=True)
        result.session_no = self._check(result, "session_no", session_number, required=True)
        self._read_rating(result)
        return result

    def read_episode(self, row: RatingRow) -> EpisodeFields:
        """Episode columns of an episode's first row (other rows must agree with it)."""
        fields = EpisodeFields(line=row.line, raw=row.raw, district=None, therapist=None, intervention=None,
                               referral_date=None, start=None, end=None, end_reason=None)
        fields.district = self._check(fields, "district", code)
        fields.therapist = self._check(fields, "therapist", username, required=True)
        fields.intervention = self._check(fields, "intervention", code, required=True)
        fields.referral_date = self._check(fields, "referral_date", iso_date)
        fields.start = self._check(fields, "episode_start", iso_date, required=True)
        fields.end = self._check(fields, "episode_end", iso_date)
        fields.end_reason = self._check(fields, "end_reason", end_reason)
        self._episode_rules(fields)
        return fields

    def _episode_rules(self, fields: EpisodeFields) -> None:
        if fields.start and fields.end and fields.end < fields.start:
            self._fail(fields, "episode_end", f"the episode ends ({fields.end}) before it starts ({fields.start})")
        if fields.end and fields.end_reason is None and "end_reason" not in fields.bad:
            self._fail(fields, "end_reason", "an ended episode needs an end reason "
                                             f"({', '.join(END_REASONS)})")
        if fields.end_reason and fields.end is None and "episode_end" not in fields.bad:
            self._fail(fields, "end_reason", "an end reason is given but episode_end is empty")

    def _read_rating(self, row: RatingRow) -> None:
        row.instrument = self._check(row, "instrument", instrument)
        rater_ref = self._check(row, "rater_ref", reference)
        if row.instrument is None:
            if "instrument" not in row.bad:
                for column in ("rater_ref", *ITEM_COLUMNS, "total"):
                    if row.raw.get(column):
                        self._fail(row, column, f"{column} is given but instrument is empty")
            return
        row.rater_ref = None if rater_ref == row.person_ref else rater_ref
        tenths = [self._check(row, column, self._item, required=True) for column in ITEM_COLUMNS]
        if all(t is not None for t in tenths):
            row.items = tuple(tenths)
            self._check_total(row)

    def _check_total(self, row: RatingRow) -> None:
        given = row.raw.get("total")
        if not given:
            return
        try:
            stated = int(parse_total(self._decimal_text(given)) * 10)
        except (InvalidValue, Bad) as problem:
            self._fail(row, "total", str(problem))
            return
        if stated != sum(row.items):
            self._fail(row, "total", f"total {given} does not match the sum of the items "
                                     f"({tenths_text(sum(row.items))})")

    def _item(self, text: str) -> int:
        cached = self._tenths.get(text)
        if cached is None:
            try:
                cached = int(parse_item(self._decimal_text(text)) * 10)
            except InvalidValue as problem:
                cached = _item_reason(text, problem)
            except Bad as problem:
                cached = str(problem)
            self._tenths[text] = cached
        if isinstance(cached, str):
            raise Bad(cached)
        return cached

    def _decimal_text(self, text: str) -> str:
        # interchange.md allows a decimal comma only in ';' files: in ',' files it would be ambiguous.
        if "," in text and not self.decimal_comma:
            raise Bad(f"{text} uses a decimal comma, which is only accepted in ';'-separated files")
        return text

    def _check(self, target, column: str, parse, *, required: bool = False):
        text = target.raw.get(column, "")
        if not text:
            if required:
                self._fail(target, column, f"{column} is required")
            return None
        try:
            return parse(text)
        except Bad as problem:
            self._fail(target, column, str(problem))
            return None

    def _fail(self, target, column: str, reason: str) -> None:
        target.bad.add(column)
        self.errors.add(target.line, column, reason)


def _item_reason(text: str, problem: InvalidValue) -> str:
    if problem.code == "out_of_range":
        return f"{text} is outside 0–10"
    if problem.code == "too_many_decimals":
        return f"{text} has more than one decimal"
    return f"{text} is not a number"


def tenths_text(tenths: int) -> str:
    return str(Decimal(tenths).scaleb(-1))


def plain_text(value: str, max_length: int) -> str:
    if _CONTROL.search(value):
        raise Bad("contains control characters")
    if len(value) > max_length:
        raise Bad(f"is longer than {max_length} characters")
    return value


def reference(value: str) -> str:
    """A pseudonymous reference: never anything shaped like a personal identity number."""
    if looks_like_identity_number(value):
        raise Bad(IDENTITY_NUMBER_REASON)
    return plain_text(value, MAX_REF)


def code(value: str) -> str:
    """A unit, district or intervention code as the file names it (one to be created is checked
    against fitapp.names in new_names.py; a stored one is found as it is)."""
    if looks_like_identity_number(value):
        raise Bad(IDENTITY_NUMBER_REASON)
    return plain_text(value, MAX_CODE)


def username(value: str) -> str:
    """A therapist's login name as the file names it (checked further when it is to be created)."""
    if looks_like_identity_number(value):
        raise Bad(IDENTITY_NUMBER_REASON)
    return plain_text(value, MAX_USERNAME)


def choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise Bad(f"unknown {what} {value!r} (allowed: {', '.join(allowed)})")
    return value


def role(value: str) -> str:
    return choice(value, PARTICIPANT_ROLES, "role")


def gender(value: str) -> str:
    return choice(value, GENDERS, "gender")


def end_reason(value: str) -> str:
    return choice(value, END_REASONS, "end reason")


def instrument(value: str) -> str:
    return choice(value, ALL_INSTRUMENTS, "instrument")


def iso_date(value: str) -> date:
    if not _DATE.fullmatch(value):
        raise Bad(f"{value!r} is not a date in the form YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Bad(f"{value} is not a possible date") from None


def birth_year(value: str) -> int:
    if not (_WHOLE.fullmatch(value) and len(value) == 4 and 1900 <= int(value) <= 2100):
        raise Bad(f"{value!r} is not a birth year (four digits, 1900–2100)")
    return int(value)


def session_number(value: str) -> int:
    if not (len(value) <= 4 and _WHOLE.fullmatch(value) and 1 <= int(value) <= MAX_SESSION_NO):
        raise Bad(f"{value!r} is not a session number (a whole number 1–{MAX_SESSION_NO})")
    return int(value)
