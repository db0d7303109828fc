"""The organisation's active norm parameter set, read from the database (metrics.md §2)."""
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from fitapp.extensions import db
from fitapp.models import NormSetRecord
from fitapp.scoring.norms import NormRow, NormSet


class NoActiveNormSet(RuntimeError):
    pass


def to_norm_set(record: NormSetRecord) -> NormSet:
    rows = tuple(
        NormRow(
            instrument=p.instrument, min_age=p.min_age, max_age=p.max_age,
            includes_unknown_age=p.includes_unknown_age, cutoff=p.cutoff, rc=p.rc,
        )
        for p in record.parameters
    )
    return NormSet(key=record.key, name=record.name, source=record.source, rows=rows)


def active_norm_set() -> NormSet:
    # The set with its rows in one statement: every session save and every page with series reads it.
    record = db.session.execute(
        select(NormSetRecord).where(NormSetRecord.is_active).options(joinedload(NormSetRecord.parameters))
    ).unique().scalars().first()
    if record is None:
        raise NoActiveNormSet("No active norm parameter set: an administrator must choose one.")
    return to_norm_set(record)
