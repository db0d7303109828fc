"""``export-outcomes``: the person-episode outcome file, one row per series
(interchange.md "Outcome file"; series and categories from metrics.md §3–§4).

Works one unit at a time and, within a unit, on chunks of episodes, so memory
stays bounded however many ratings there are. Rows are ordered in Python
rather than by SQL so the order does not depend on the database's collation.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import aliased

from fitapp import audit
from fitapp.extensions import db
from fitapp.interchange.csvio import write_table
from fitapp.models import Episode, Intervention, Participant, Person, Rating, Session, Unit
from fitapp.models.ratings import live_ratings
from fitapp.norms_service import NoActiveNormSet, active_norm_set
from fitapp.scoring.norms import NormSet
from fitapp.scoring.numbers import ONE_DECIMAL
from fitapp.scoring.series import RatingPoint, SeriesSummary, summarise_series
from fitapp.spreadsheet_text import neutralised

HEADER = (
    "unit", "episode_ref", "intervention", "person_ref", "role", "rater_ref", "instrument", "birth_year", "gender",
    "episode_start", "episode_end", "end_reason", "n_ratings", "intake_date", "intake_score", "last_date",
    "last_score", "change", "cutoff", "rc", "intake_clinical", "category", "parameter_set",
)
EPISODES_PER_CHUNK = 500


class ExportFailed(Exception):
    """The export could not be made (unknown unit, no norm set, unwritable file); nothing was audited."""


@dataclass(frozen=True)
class SeriesHead:
    """The columns of a row that come from the episode and the subject, not from the scores."""

    episode_ref: str
    intervention: str
    person_ref: str
    role: str
    rater_ref: str  # empty for self-ratings
    instrument: str
    birth_year: int | None
    gender: str | None
    episode_start: object
    episode_end: object
    end_reason: str | None


def write_outcomes(path: str | Path, *, include_open: bool, unit_codes: list[str]) -> int:
    """Write the outcome file; returns the number of series written."""
    units = _units(unit_codes)
    try:
        norm_set = active_norm_set()
    except NoActiveNormSet as problem:
        raise ExportFailed(str(problem)) from None
    rows = (row for unit_id, code in units for row in _unit_rows(unit_id, code, include_open, norm_set))
    try:
        count = write_table(path, HEADER, rows)
    except OSError as problem:
        raise ExportFailed(f"cannot write {path}: {problem.strerror or problem}") from None
    # Person-level exports are always audited (metrics.md §7); the event holds no clinical content.
    audit.record("export_outcomes", object_type="outcome_file", unit_id=units[0][0] if len(units) == 1 else None)
    db.session.commit()
    return count


def _units(unit_codes: list[str]) -> list[tuple[int, str]]:
    """(id, code) of the requested units, or of all units, ordered by code."""
    known = dict(db.session.execute(select(Unit.code, Unit.id)).all())
    unknown = [code for code in unit_codes if code not in known]
    if unknown:
        raise ExportFailed(f"unknown unit code(s): {', '.join(unknown)}")
    codes = sorted(set(unit_codes) if unit_codes else known)
    return [(known[code], code) for code in codes]


def _unit_rows(unit_id: int, unit_code: str, include_open: bool, norm_set: NormSet) -> Iterator[list[str]]:
    query = select(Episode.id, Episode.ref).where(Episode.unit_id == unit_id)
    if not include_open:
        query = query.where(Episode.end_date.is_not(None))
    episodes = sorted(db.session.execute(query), key=lambda e: e[1])
    for start in range(0, len(episodes), EPISODES_PER_CHUNK):
        chunk = [episode_id for episode_id, _ in episodes[start:start + EPISODES_PER_CHUNK]]
        series = _series_of(chunk)
        for head in sorted(series, key=_row_order):
            summary = summarise_series(head.instrument, series[head], head.birth_year, norm_set)
            yield outcome_row(unit_code, head, summary)


def _row_order(head: SeriesHead) -> tuple:
    return head.episode_ref, head.person_ref, head.rater_ref, head.instrument


def _series_of(episode_ids: list[int]) -> dict[SeriesHead, list[RatingPoint]]:
    """Ratings of the episodes grouped into series (metrics.md §3: instrument × subject × rater × episode)."""
    subject, rater = aliased(Participant), aliased(Participant)
    subject_person, rater_person = aliased(Person), aliased(Person)
    query = (
        select(Episode.ref, Intervention.code, subject_person.ref, subject.role, rater_person.ref, Rating.instrument,
               subject_person.birth_year, subject_person.gender, Episode.start_date, Episode.end_date,
               Episode.end_reason, Session.date, Session.number, Rating.total_x10)
        .select_from(Rating)
        .join(Session, Rating.session_id == Session.id)
        .join(Episode, Session.episode_id == Episode.id)
        .join(Intervention, Episode.intervention_id == Intervention.id)
        .join(subject, Rating.subject_id == subject.id)
        .join(subject_person, subject.person_id == subject_person.id)
        .join(rater, Rating.rater_id == rater.id)
        .join(rater_person, rater.person_id == rater_person.id)
        .where(Episode.id.in_(episode_ids), *live_ratings())
    )
    series: dict[SeriesHead, list[RatingPoint]] = {}
    for (episode_ref, intervention, person_ref, role, rater_ref, instrument, birth_year, gender, start, end,
         end_reason, session_date, session_no, total_x10) in db.session.execute(query):
        head = SeriesHead(episode_ref, intervention, person_ref, role, "" if rater_ref == person_ref else rater_ref,
                          instrument, birth_year, gender, start, end, end_reason)
        series.setdefault(head, []).append(RatingPoint(session_date, session_no, Decimal(total_x10).scaleb(-1)))
    return series


def outcome_row(unit_code: str, head: SeriesHead, summary: SeriesSummary) -> list[str]:
    """One line of the outcome file, columns in the order of interchange.md.

    The text that users gave (codes, references, the norm set's key) is neutralised
    against formula interpretation; numbers, dates and fixed values are written as they are,
    so a negative change stays ``-8.0``.
    """
    return [
        neutralised(unit_code), neutralised(head.episode_ref), neutralised(head.intervention),
        neutralised(head.person_ref), head.role, neutralised(head.rater_ref), head.instrument,
        _text(head.birth_year), _text(head.gender), _text(head.episode_start), _text(head.episode_end),
        _text(head.end_reason), str(summary.n), summary.intake_date.isoformat(), _score(summary.intake_score),
        summary.last_date.isoformat(), _score(summary.last_score), _score(summary.change),
        _threshold(summary.cutoff), _threshold(summary.rc), _flag(summary.intake_clinical),
        summary.category or "", neutralised(summary.parameter_set or ""),
    ]


def _text(value) -> str:
    return "" if value is None else str(value)


def _score(value: Decimal | None) -> str:
    return "" if value is None else str(value.quantize(ONE_DECIMAL))


def _threshold(value: Decimal | None) -> str:
    # Published thresholds have one decimal; computed ones (e.g. RC 4.99) keep the second.
    if value is None:
        return ""
    normal = value.normalize()
    return str(normal) if normal.as_tuple().exponent < -1 else str(normal.quantize(ONE_DECIMAL))


def _flag(value: bool | None) -> str:
    return "" if value is None else ("1" if value else "0")
