"""The organisation's perturbation table (metrics.md §7.3): which one is in force, and making another one so."""
from functools import lru_cache

from sqlalchemy import select

from fitapp.audit import record
from fitapp.extensions import db
from fitapp.models import PerturbationTableRecord
from fitapp.scoring.ckm import PTable, default_ptable, parse_ptable


def ptable_in_force() -> PTable:
    """The table of the newest ``ptable use``; the shipped default table when there was none."""
    newest = db.session.execute(
        select(PerturbationTableRecord.id, PerturbationTableRecord.content)
        .order_by(PerturbationTableRecord.id.desc()).limit(1)
    ).first()
    if newest is None:
        return default_ptable()
    return _parsed(newest.id, newest.content)


@lru_cache(maxsize=8)
def _parsed(record_id: int, content: str) -> PTable:
    # Keyed by row and text (not the row alone: tests run SQLite and PostgreSQL databases in one process),
    # so a report, and the next one, reads the stored table without parsing it again.
    return parse_ptable(content)


def use_ptable(text: str, actor: str) -> PTable:
    """Make the table file ``text`` the organisation's from now on, audited.

    Raises :class:`~fitapp.scoring.ckm.PTableError` for a file that breaks
    the rules of interchange.md; the table in force then stays.
    """
    table = parse_ptable(text)
    content = text.removeprefix("\ufeff")
    db.session.add(PerturbationTableRecord(table_id=table.id, content=content, created_by=actor))
    record("use_ptable", object_type="ptable", object_id=table.id, actor_name=actor)
    db.session.commit()
    return table
