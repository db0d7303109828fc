"""Migrations are the schema's source of truth: they must build exactly the models' schema."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from fitapp.extensions import db
from fitapp.models import Intervention, NormSetRecord
from fitapp.reference_data import default_interventions


def test_migrations_match_models(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_upgrade_loads_the_catalogue_and_one_active_norm_set(app):
    codes = set(db.session.scalars(select(Intervention.code)))
    assert codes == {row["code"] for row in default_interventions()}
    assert "FFT" in codes and len(codes) == 24
    active = db.session.scalars(select(NormSetRecord).where(NormSetRecord.is_active)).all()
    assert [s.key for s in active] == ["pcoms-2003"]
    assert db.session.scalar(select(func.count()).select_from(NormSetRecord)) == 2


def test_shipped_catalogue_is_the_shared_default():
    import csv
    from pathlib import Path

    shared = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "insatser.csv"
    with shared.open(encoding="utf-8-sig") as f:
        expected = [(r["code"], r["namn"], r["typ"]) for r in csv.DictReader(f, delimiter=";")]
    assert [(r["code"], r["name"], r["kind"]) for r in default_interventions()] == expected
