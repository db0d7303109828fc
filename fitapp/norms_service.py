"""The organisation's active norm parameter set, read from the database (metrics.md §2)."""
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from fitapp.extensions import db
from fitapp.models import NormSetRecord
from fitapp.scoring.norms import NormRow, NormSet


NO_ACTIVE_SET = "No active norm parameter set: an administrator must choose one."


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


def active_norm_set_key() -> str:
    """The key of the active norm set, without its rows (the reports' check of their series, metrics.md §2)."""
    key = db.session.scalar(select(NormSetRecord.key).where(NormSetRecord.is_active))
    if key is None:
        raise NoActiveNormSet(NO_ACTIVE_SET)
    return key


def active_norm_set() -> NormSet:
    # The set with its rows in one statement: every session save and every page with series reads it.
    record = db.session.execute(
        select(NormSetRecord).where(NormSetRecord.is_active).options(joinedload(NormSetRecord.parameters))
    ).unique().scalars().first()
    if record is None:
        raise NoActiveNormSet(NO_ACTIVE_SET)
    return to_norm_set(record)
