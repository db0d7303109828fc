"""The audit log: events chained with the audit key, the append-only schema, the key setting, entries from
before migration 0008. The attacks are in security/test_audit_chain.py."""
import hashlib
import hmac
import logging
import multiprocessing
import os
from datetime import datetime, timezone

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text

from fitapp.audit import checkpoint_path, read_checkpoints, record, verify_log, write_checkpoint
from fitapp.config import ConfigError, load_config
from fitapp.extensions import db
from fitapp.models import AuditEvent
from fitapp.models.audit import GENESIS_HASH, KEYED, UNKEYED, chain_key
from tests.own_database import app_at_revision


def test_events_are_chained_and_hashes_survive_a_reload(app):
    first = record("login", object_type="staff", object_id=1, actor_name="anna")
    second = record("view_episode", object_type="episode", object_id=7, unit_id=3, actor_name="anna")
    db.session.commit()
    db.session.expire_all()
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["login", "view_episode"]
    assert [(e.seq, e.hash_version) for e in events] == [(1, KEYED), (2, KEYED)]
    assert events[0].prev_hash == GENESIS_HASH
    assert events[1].prev_hash == events[0].hash
    assert all(e.hash == e.compute_hash() for e in events)
    assert first.id != second.id


def test_the_hash_is_keyed_with_the_audit_key_not_computable_from_the_row(app):
    entry = record("login", object_type="staff", object_id=1, actor_name="anna")
    db.session.commit()
    assert entry.hash == hmac.new(chain_key(), entry.keyed_payload().encode(), hashlib.sha256).hexdigest()
    assert entry.hash != hashlib.sha256(entry.payload().encode()).hexdigest()
    assert entry.hash != entry.compute_hash(b"another key")


def test_a_changed_event_no_longer_matches_its_hash(app):
    record("login", object_type="staff", object_id=1, actor_name="anna")
    db.session.commit()
    event = db.session.scalars(select(AuditEvent)).one()
    event.object_id = "2"
    assert event.hash != event.compute_hash()
    db.session.rollback()


def test_events_built_by_hand_are_chained_at_insert_whatever_they_say(app):
    """Every insert through the ORM is chained (tests build backdated events this way)."""
    record("login", actor_name="anna")
    at = datetime(2025, 3, 3, 9, tzinfo=timezone.utc)
    for n in range(3):
        db.session.add(AuditEvent(at=at, action="view_episode", object_type="episode", object_id=str(n),
                                  prev_hash="forged", hash="forged", seq=99))
    db.session.commit()
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert events[-1].at.replace(tzinfo=timezone.utc) == at
    result = verify_log()
    assert result.ok and result.checkpoint.count == 4


def test_the_append_only_triggers_are_in_the_schema(app, backend):
    """A later migration that rebuilds audit_event on SQLite would drop them silently: this notices."""
    with db.engine.connect() as conn:
        if backend == "postgresql":
            names = conn.execute(text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_event'::regclass "
                                      "AND NOT tgisinternal AND tgenabled = 'O'")).scalars().all()
            assert sorted(names) == ["audit_event_no_truncate", "audit_event_no_update_delete"]
        else:
            names = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                      "AND tbl_name = 'audit_event'")).scalars().all()
            assert sorted(names) == ["audit_event_no_delete", "audit_event_no_update"]


# ---------------------------------------------------------------- checkpoints: where, and when the file fails


def test_the_checkpoint_file_can_be_named(app, tmp_path):
    app.config["AUDIT_CHECKPOINT_FILE"] = str(tmp_path / "elsewhere" / "checkpoints")
    os.mkdir(tmp_path / "elsewhere")
    record("login", actor_name="anna")
    db.session.commit()
    assert checkpoint_path() == str(tmp_path / "elsewhere" / "checkpoints")
    assert os.path.getsize(checkpoint_path()) > 0
    assert verify_log().ok


def test_a_checkpoint_that_cannot_be_written_does_not_undo_the_commit(app, tmp_path, caplog):
    app.config["AUDIT_CHECKPOINT_FILE"] = str(tmp_path / "missing-folder" / "checkpoints")
    with caplog.at_level(logging.ERROR):
        record("login", actor_name="anna")
        db.session.commit()
    assert "audit checkpoint not written" in caplog.text
    assert db.session.scalar(select(AuditEvent.action)) == "login"
    result = verify_log()
    assert not result.ok and "no checkpoint" in result.problems[0]


def test_an_unreadable_checkpoint_file_is_reported_not_a_crash(app, tmp_path):
    record("login", actor_name="anna")
    db.session.commit()
    app.config["AUDIT_CHECKPOINT_FILE"] = str(tmp_path)  # a folder: cannot be read as a file
    result = app.test_cli_runner().invoke(args=["audit-verify"])
    assert result.exit_code == 1
    assert f"no checkpoint: {tmp_path} cannot be read" in result.output


def test_checkpoints_from_many_processes_stay_whole_and_never_go_down(tmp_path):
    """gunicorn's workers append to one file: the flock keeps lines whole and counts rising."""
    from fitapp import create_app

    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://", "AUDIT_CHECKPOINT_FILE": None})
    app.instance_path = str(tmp_path)
    workers, rounds = 4, 150

    def worker(first: int) -> None:
        try:
            with app.app_context():
                for n in range(rounds):
                    write_checkpoint(first + workers * n, first + workers * n, "%064x" % n)
        finally:
            os._exit(0)  # leave the parent's state alone

    processes = [multiprocessing.get_context("fork").Process(target=worker, args=(first,))
                 for first in range(1, workers + 1)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
    with app.app_context():
        newest, warnings = read_checkpoints(checkpoint_path())
        with open(checkpoint_path()) as lines:
            counts = [int(line.split(";")[1]) for line in lines]
    assert warnings == []
    assert counts == sorted(set(counts)) and newest.count == counts[-1] == workers * rounds


# ---------------------------------------------------------------- the key setting


@pytest.fixture
def production(monkeypatch):
    monkeypatch.delenv("FITAPP_ENV", raising=False)
    monkeypatch.setenv("SECRET_KEY", "s" * 40)


@pytest.mark.parametrize("key, message", [
    (None, "FITAPP_AUDIT_KEY is not set"),
    ("k" * 31, "FITAPP_AUDIT_KEY is too short \\(31 bytes\\)"),
    ("s" * 40, "FITAPP_AUDIT_KEY must be a key of its own, not SECRET_KEY"),
])
def test_production_refuses_a_missing_short_or_borrowed_audit_key(production, monkeypatch, tmp_path, key, message):
    if key is None:
        monkeypatch.delenv("FITAPP_AUDIT_KEY", raising=False)
    else:
        monkeypatch.setenv("FITAPP_AUDIT_KEY", key)
    with pytest.raises(ConfigError, match=message):
        load_config(str(tmp_path))


def test_production_takes_its_audit_key_from_the_environment(production, monkeypatch, tmp_path):
    monkeypatch.setenv("FITAPP_AUDIT_KEY", "å" * 16)  # 32 bytes
    monkeypatch.setenv("FITAPP_AUDIT_CHECKPOINTS", "/srv/fitapp-audit/checkpoints")
    config = load_config(str(tmp_path))
    assert config["AUDIT_KEY"] == "å" * 16
    assert config["AUDIT_CHECKPOINT_FILE"] == "/srv/fitapp-audit/checkpoints"


def test_development_derives_an_audit_key_from_the_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("FITAPP_ENV", "development")
    monkeypatch.delenv("FITAPP_AUDIT_KEY", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FITAPP_AUDIT_CHECKPOINTS", raising=False)
    derived = load_config(str(tmp_path))["AUDIT_KEY"]
    assert derived == load_config(str(tmp_path))["AUDIT_KEY"]  # stable, so the chain verifies tomorrow
    assert derived != load_config(str(tmp_path))["SECRET_KEY"]
    assert load_config(str(tmp_path), {"AUDIT_KEY": "short is fine here"})["AUDIT_KEY"] == "short is fine here"
    assert load_config(str(tmp_path))["AUDIT_CHECKPOINT_FILE"] is None  # instance/audit-checkpoints


# ---------------------------------------------------------------- entries from before migration 0008


@pytest.fixture
def database_at_0007(backend, request, tmp_path):
    """A database of its own, upgraded to 0007, holding three entries written the old (unkeyed) way."""
    with app_at_revision("0007", backend, request, tmp_path, AUDIT_CHECKPOINT_FILE=None) as app:
        previous = GENESIS_HASH
        with db.engine.begin() as conn:
            for n in range(3):
                at = datetime(2026, 12, 1, 9, n, tzinfo=timezone.utc)
                payload = "|".join((at.replace(tzinfo=None).isoformat(timespec="microseconds"), "", "anna",
                                    "view_episode", "episode", str(n), "1", "10.0.0.1", previous))
                digest = hashlib.sha256(payload.encode()).hexdigest()
                conn.execute(text(
                    "INSERT INTO audit_event (at, actor_name, action, object_type, object_id, unit_id, "
                    "remote_addr, prev_hash, hash) "
                    "VALUES (:at, 'anna', 'view_episode', 'episode', :n, 1, '10.0.0.1', :prev, :hash)"),
                    {"at": at, "n": str(n), "prev": previous, "hash": digest})
                previous = digest
        yield app


def test_entries_from_before_the_upgrade_stay_verifiable_and_are_pinned_by_the_first_checkpoint(database_at_0007):
    upgrade()
    rows = db.session.execute(select(AuditEvent.seq, AuditEvent.hash_version).order_by(AuditEvent.id)).all()
    assert [tuple(r) for r in rows] == [(1, UNKEYED), (2, UNKEYED), (3, UNKEYED)]
    result = database_at_0007.test_cli_runner().invoke(args=["audit-verify"])
    assert result.exit_code == 0, result.output
    assert "intact: 3 entries" in result.output and "no checkpoint exists yet" in result.output

    entry = record("login", actor_name="anna")
    db.session.commit()
    assert (entry.seq, entry.hash_version) == (4, KEYED)
    result = database_at_0007.test_cli_runner().invoke(args=["audit-verify"])
    assert result.exit_code == 0, result.output
    assert "records 4 entries" in result.output

    # Rewriting an old entry the old way (anyone can compute it) now breaks the chain at the first keyed one.
    with db.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER audit_event_no_update") if conn.dialect.name == "sqlite"
                     else text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        old = AuditEvent(**conn.execute(select(AuditEvent.__table__).where(AuditEvent.seq == 3)).mappings().one())
        old.object_id = "99"
        conn.execute(AuditEvent.__table__.update().where(AuditEvent.__table__.c.id == old.id)
                     .values(object_id="99", hash=old.compute_hash()))
    result = database_at_0007.test_cli_runner().invoke(args=["audit-verify"])
    assert result.exit_code == 1
    assert f"audit event {entry.id}: does not follow the previous entry" in result.output
    assert checkpoint_path().startswith(database_at_0007.instance_path)
