"""Reference data every installation starts with: the intervention catalogue and
the published norm parameter sets (metrics.md §2).

Written with SQLAlchemy Core on explicit column lists so the initial migration
can call it without depending on the ORM models of a later schema.
"""
import csv
from datetime import datetime, timezone
from importlib import resources

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from fitapp.scoring.norms import BUILTIN_SETS, DEFAULT_SET_KEY

_intervention = sa.table(
    "intervention", sa.column("code"), sa.column("name"), sa.column("kind"), sa.column("is_active")
)
_norm_set = sa.table(
    "norm_set", sa.column("id"), sa.column("key"), sa.column("name"), sa.column("source"),
    sa.column("is_active"), sa.column("created_at"),
)
_norm_parameter = sa.table(
    "norm_parameter", sa.column("norm_set_id"), sa.column("instrument"), sa.column("min_age"),
    sa.column("max_age"), sa.column("includes_unknown_age"), sa.column("cutoff_x100"), sa.column("rc_x100"),
)


def default_interventions() -> list[dict]:
    """The catalogue shipped inside the package (a copy of the city's insatser.csv)."""
    text = resources.files("fitapp").joinpath("data/insatser.csv").read_text(encoding="utf-8-sig")
    rows = csv.DictReader(text.splitlines(), delimiter=";")
    return [{"code": r["code"], "name": r["namn"], "kind": r["typ"], "is_active": True} for r in rows]


def seed_interventions(conn: Connection) -> int:
    existing = set(conn.scalars(sa.select(_intervention.c.code)))
    new = [row for row in default_interventions() if row["code"] not in existing]
    if new:
        conn.execute(_intervention.insert(), new)
    return len(new)


def seed_norm_sets(conn: Connection) -> int:
    existing = set(conn.scalars(sa.select(_norm_set.c.key)))
    any_active = conn.scalar(sa.select(sa.func.count()).select_from(_norm_set).where(_norm_set.c.is_active)) > 0
    added = 0
    for key, norm_set in BUILTIN_SETS.items():
        if key in existing:
            continue
        result = conn.execute(_norm_set.insert().values(
            key=key, name=norm_set.name, source=norm_set.source,
            is_active=(key == DEFAULT_SET_KEY and not any_active),
            created_at=datetime.now(timezone.utc),
        ).returning(_norm_set.c.id))
        set_id = result.scalar_one()
        conn.execute(_norm_parameter.insert(), [
            {
                "norm_set_id": set_id, "instrument": row.instrument, "min_age": row.min_age,
                "max_age": row.max_age, "includes_unknown_age": row.includes_unknown_age,
                "cutoff_x100": int(row.cutoff * 100), "rc_x100": int(row.rc * 100),
            }
            for row in norm_set.rows
        ])
        added += 1
    return added


def seed_reference_data(conn: Connection) -> None:
    seed_interventions(conn)
    seed_norm_sets(conn)
