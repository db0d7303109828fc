"""Helpers for the interchange tests: rows of ratings files and table counts."""
from sqlalchemy import func, select

from fitapp.extensions import db
from fitapp.interchange.rows import COLUMNS
from fitapp.models import (
    Attendance, AuditEvent, District, Episode, Intervention, Participant, Person, Rating, SeriesSummaryRecord, Session,
    Staff, Unit, UnitMembership,
)

# One valid row: a closed FFT episode in unit U1, the index child rating CORS at session 1.
BASE_ROW = {
    "district": "D1", "unit": "U1", "episode_ref": "E1", "therapist": "anna", "intervention": "FFT",
    "referral_date": "2024-01-02", "episode_start": "2024-01-10", "episode_end": "2024-05-30",
    "end_reason": "planned", "person_ref": "P1", "role": "index", "birth_year": "2014", "gender": "female",
    "session_date": "2024-01-10", "session_no": "1", "instrument": "CORS", "rater_ref": "", "item1": "5.0",
    "item2": "6.0", "item3": "7.0", "item4": "7.0", "total": "25.0",
}
COUNTED_MODELS = (District, Unit, Staff, UnitMembership, Intervention, Person, Episode, Participant, Session,
                  Attendance, Rating, SeriesSummaryRecord, AuditEvent)


def row(*bases: dict, **changes) -> dict:
    """BASE_ROW with the columns of ``bases`` and then ``changes`` put over it."""
    merged = dict(BASE_ROW)
    for base in (*bases, changes):
        merged.update(base)
    return merged


def csv_text(rows: list[dict], *, columns=COLUMNS, delimiter: str = ";") -> str:
    lines = [delimiter.join(columns)]
    lines += [delimiter.join(r.get(c, "") for c in columns) for r in rows]
    return "\n".join(lines) + "\n"


def table_counts() -> dict[str, int]:
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in COUNTED_MODELS}
