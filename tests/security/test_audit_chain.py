"""ASVS 5.0 V16.4: an audit trail that cannot be rewritten quietly (issue 12 item 4).

Attacks as someone with write access to the database (and DDL rights to set the append-only triggers
aside) but neither the audit key nor the checkpoint file: edit, recompute, delete the tail, empty it.
"""
import hashlib
import hmac
import os
import stat
import threading
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from fitapp.audit import checkpoint_path, read_checkpoints, record, verify_chain, verify_log
from fitapp.extensions import db
from fitapp.models import AuditEvent
from fitapp.models.audit import UNKEYED


def _events(n: int) -> None:
    for i in range(n):
        record("view_episode", object_type="episode", object_id=i, unit_id=1, actor_name="anna")
    db.session.commit()


def verify(app):
    return app.test_cli_runner().invoke(args=["audit-verify"])


def ids() -> list[int]:
    return db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()


@contextmanager
def triggers_set_aside():
    """As an attacker who may change the schema: the append-only triggers out of the way, then back."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        yield connection
        connection.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))
    else:
        triggers = connection.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_event'")).all()
        for name, _sql in triggers:
            connection.execute(text(f'DROP TRIGGER "{name}"'))
        yield connection
        for _name, sql in triggers:
            connection.execute(text(sql))
    db.session.commit()


def rehash_from(connection, first_id: int, rehash) -> None:
    """Recompute the hash of every entry from ``first_id`` on, chained, with ``rehash(entry) -> hash``."""
    table = AuditEvent.__table__
    previous = connection.execute(select(table.c.hash).where(table.c.id < first_id)
                                  .order_by(table.c.id.desc()).limit(1)).scalar()
    for row in connection.execute(select(table).where(table.c.id >= first_id).order_by(table.c.id)).mappings().all():
        entry = AuditEvent(**row)
        if previous is not None:
            entry.prev_hash = previous
        previous = rehash(entry)
        connection.execute(table.update().where(table.c.id == entry.id).values(
            prev_hash=entry.prev_hash, hash=previous, hash_version=entry.hash_version))


def unkeyed(entry: AuditEvent) -> str:
    """The chain's formula before issue 12: SHA-256, no key. Anyone can compute it."""
    return hashlib.sha256(entry.payload().encode()).hexdigest()


# ---------------------------------------------------------------- intact logs


def test_audit_verify_accepts_an_intact_chain_and_its_checkpoint(app):
    _events(5)
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert "intact: 5 entries" in result.output
    assert f"records 5 entries up to audit event {ids()[-1]}" in result.output


def test_audit_verify_accepts_an_empty_log(app):
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert not os.path.exists(checkpoint_path())


def test_a_checkpoint_follows_every_commit_that_added_entries_and_is_owner_only(app):
    old_umask = os.umask(0o022)
    try:
        _events(2)
        record("login", actor_name="anna")
        db.session.commit()
        db.session.commit()  # nothing new: no line
        record("login", actor_name="bert")
        db.session.rollback()  # never committed: no line
    finally:
        os.umask(old_umask)
    path = checkpoint_path()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as lines:
        counts = [int(line.split(";")[1]) for line in lines]
    assert counts == [2, 3]
    newest, warnings = read_checkpoints(path)
    assert (newest.count, newest.last_id, warnings) == (3, ids()[-1], [])


# ---------------------------------------------------------------- edits


def test_audit_verify_names_a_changed_entry(app):
    _events(5)
    third = ids()[2]
    with triggers_set_aside() as connection:
        connection.execute(text("UPDATE audit_event SET object_id = '99' WHERE id = :id"), {"id": third})
    result = verify(app)
    assert result.exit_code == 1
    assert f"audit event {third}: content does not match" in result.output


def test_an_edit_with_the_chain_recomputed_the_old_unkeyed_way_is_detected(app):
    _events(5)
    third = ids()[2]
    with triggers_set_aside() as connection:
        connection.execute(text("UPDATE audit_event SET object_id = '99' WHERE id = :id"), {"id": third})
        rehash_from(connection, third, unkeyed)
    result = verify(app)
    assert result.exit_code == 1
    assert f"audit event {third}: content does not match its hash" in result.output


def test_an_edit_recomputed_unkeyed_and_marked_as_written_before_keying_is_detected(app):
    _events(5)
    third = ids()[2]

    def as_old_entry(entry):
        entry.hash_version = UNKEYED
        return unkeyed(entry)

    with triggers_set_aside() as connection:
        connection.execute(text("UPDATE audit_event SET object_id = '99' WHERE id = :id"), {"id": third})
        rehash_from(connection, third, as_old_entry)
    result = verify(app)
    assert result.exit_code == 1
    assert f"audit event {third}: has an unkeyed hash after keyed entries" in result.output


def test_the_whole_log_rewritten_as_pre_keying_entries_is_caught_by_the_checkpoint(app):
    _events(5)
    last = ids()[-1]

    def as_old_entry(entry):
        entry.hash_version = UNKEYED
        return unkeyed(entry)

    with triggers_set_aside() as connection:
        connection.execute(text("UPDATE audit_event SET object_id = '99' WHERE id = :id"), {"id": ids()[2]})
        rehash_from(connection, ids()[0], as_old_entry)
    assert verify_chain() == (5, None)  # the chain alone would pass: the checkpoint is what catches it
    result = verify(app)
    assert result.exit_code == 1
    assert f"audit event {last} differs from the newest checkpoint" in result.output


def test_a_chain_recomputed_with_a_guessed_key_is_detected(app):
    _events(3)
    first = ids()[0]
    with triggers_set_aside() as connection:
        connection.execute(text("UPDATE audit_event SET actor_name = 'nobody' WHERE id = :id"), {"id": first})
        rehash_from(connection, first, lambda entry: entry.compute_hash(b"a guess at the audit key"))
    result = verify(app)
    assert result.exit_code == 1
    assert f"audit event {first}: content does not match its hash" in result.output


def test_even_with_the_key_a_rewrite_is_caught_by_the_checkpoint_outside_the_database(app):
    _events(4)
    second = ids()[1]
    with triggers_set_aside() as connection:
        connection.execute(text("UPDATE audit_event SET actor_name = 'nobody' WHERE id = :id"), {"id": second})
        rehash_from(connection, second, lambda entry: entry.compute_hash())
    assert verify_chain() == (4, None)
    result = verify(app)
    assert result.exit_code == 1
    assert f"audit event {ids()[-1]} differs from the newest checkpoint" in result.output


# ---------------------------------------------------------------- deletions


def test_audit_verify_names_the_entry_after_a_deleted_one(app):
    _events(5)
    before = ids()
    with triggers_set_aside() as connection:
        connection.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": before[1]})
    checked, broken = verify_chain()
    assert (checked, broken.event_id) == (1, before[2])
    assert "does not follow" in str(broken)
    assert verify(app).exit_code == 1


def test_a_removed_tail_is_reported_against_the_checkpoint(app):
    _events(5)
    before = ids()
    with triggers_set_aside() as connection:
        connection.execute(text("DELETE FROM audit_event WHERE id > :id"), {"id": before[2]})
    assert verify_chain() == (3, None)  # what is left is an intact, shorter chain
    result = verify(app)
    assert result.exit_code == 1
    assert (f"entries removed from the end: the log has 3 entries ending at audit event {before[2]}, but the "
            f"newest checkpoint (line 1, written ") in result.output
    assert f"records 5 entries up to audit event {before[4]}" in result.output


def test_a_removed_tail_stays_reported_while_the_app_writes_on(app):
    _events(5)
    before = ids()
    with triggers_set_aside() as connection:
        connection.execute(text("DELETE FROM audit_event WHERE id > :id"), {"id": before[2]})
    _events(1)  # the app goes on from the shortened head: its checkpoint would lower the count
    with open(checkpoint_path()) as lines:
        assert [int(line.split(";")[1]) for line in lines] == [5]
    result = verify(app)
    assert result.exit_code == 1
    assert "records 5 entries" in result.output


def test_an_emptied_log_is_reported(app):
    _events(3)
    with triggers_set_aside() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("TRUNCATE audit_event"))
        else:
            connection.execute(text("DELETE FROM audit_event"))
    result = verify(app)
    assert result.exit_code == 1
    assert "the audit log is empty, but the newest checkpoint" in result.output
    assert "the log was emptied" in result.output


def test_a_missing_checkpoint_file_is_reported(app):
    _events(2)
    os.remove(checkpoint_path())
    result = verify(app)
    assert result.exit_code == 1
    assert "no checkpoint: " in result.output and "does not exist" in result.output


def test_lines_not_signed_with_the_key_count_for_nothing(app):
    _events(2)
    body = f"1;99;{ids()[-1] + 97};{'f' * 64};2026-12-20T10:00:00Z"
    forged = body + ";" + hmac.new(b"a guess at the audit key", body.encode(), hashlib.sha256).hexdigest()
    with open(checkpoint_path(), "a") as file:
        file.write(forged + "\n")
        file.write("not a checkpoint\n")
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert "line 2 has no valid signature" in result.output and "line 3 has no valid signature" in result.output
    assert "records 2 entries" in result.output


# ---------------------------------------------------------------- the database refuses


def test_the_apps_connection_cannot_update_or_delete_audit_entries(app, backend):
    _events(2)
    statements = ["UPDATE audit_event SET object_id = '99'", "DELETE FROM audit_event"]
    if backend == "postgresql":  # statement-level: refused even when no row matches
        statements.append("DELETE FROM audit_event WHERE id < 0")
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
    entry = db.session.scalars(select(AuditEvent)).first()
    entry.object_id = "99"
    with pytest.raises(DBAPIError, match="append-only: UPDATE refused"):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.scalars(select(AuditEvent)).first())
    with pytest.raises(DBAPIError, match="append-only: DELETE refused"):
        db.session.commit()
    db.session.rollback()
    assert verify(app).exit_code == 0


class TestPostgreSQL:
    """TRUNCATE (SQLite has none) and the production role (roles are PostgreSQL's)."""

    @pytest.fixture(params=["postgresql"])
    def backend(self, request):
        return request.param

    def test_truncate_is_refused_even_as_a_cascade(self, app):
        _events(1)
        for statement in ("TRUNCATE audit_event", "TRUNCATE staff CASCADE"):
            with pytest.raises(DBAPIError, match="append-only: TRUNCATE refused"):
                db.session.execute(text(statement))
            db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 1

    def test_the_documented_production_role_may_only_insert_and_select(self, app):
        """docs/security.md's grants on a role of their own: SET ROLE restricts even the tests' superuser."""
        role = f"fitapp_app_{uuid.uuid4().hex[:8]}"
        connection = db.session.connection()
        if not connection.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar():
            pytest.skip("FITAPP_TEST_PG_URL names no superuser: the role cannot be created")
        for statement in (
            f"CREATE ROLE {role} NOLOGIN",
            f"GRANT USAGE ON SCHEMA public TO {role}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
            f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_event FROM {role}",
            f"GRANT INSERT, SELECT ON audit_event TO {role}",
        ):
            connection.execute(text(statement))
        db.session.commit()

        def as_app_role(statement: str):
            db.session.execute(text(f"SET LOCAL ROLE {role}"))
            return db.session.execute(text(statement))

        try:
            as_app_role("SELECT 1")
            record("login", actor_name="anna")  # the app's own work: the chain read, locked, appended
            db.session.commit()
            for statement in ("UPDATE audit_event SET object_id = '99'", "DELETE FROM audit_event",
                              "TRUNCATE audit_event", "ALTER TABLE audit_event DISABLE TRIGGER USER"):
                with pytest.raises(DBAPIError, match="permission denied|must be owner"):
                    as_app_role(statement)
                db.session.rollback()
            as_app_role("UPDATE staff SET is_enabled = is_enabled WHERE false")  # other tables as before
        finally:
            db.session.rollback()
            db.session.execute(text(f"DROP OWNED BY {role}"))
            db.session.execute(text(f"DROP ROLE {role}"))
            db.session.commit()
        assert verify(app).exit_code == 0


# ---------------------------------------------------------------- many writers


class TestConcurrentAppends:
    """Two writers at once must not both chain to the same predecessor (PostgreSQL: advisory lock),
    and their checkpoints, appended under a file lock, stay whole and never go down."""

    @pytest.fixture(params=["postgresql"])
    def backend(self, request):
        return request.param

    def test_two_threads_of_fifty_records_give_one_unbroken_chain(self, app):
        failures = []
        start = threading.Barrier(2)

        def writer(name: str) -> None:
            try:
                with app.app_context():
                    start.wait()
                    for i in range(50):
                        record("view_episode", object_type="episode", object_id=i, actor_name=name)
                        db.session.commit()
                    db.session.remove()
            except Exception as error:  # reported below: a thread's exception is otherwise lost
                failures.append(error)

        threads = [threading.Thread(target=writer, args=(name,)) for name in ("anna", "bert")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert failures == []
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 100
        checked, broken = verify_chain()
        assert broken is None and checked == 100
        with open(checkpoint_path()) as lines:
            counts = [int(line.split(";")[1]) for line in lines]
        assert counts == sorted(set(counts)) and counts[-1] == 100
        newest, warnings = read_checkpoints(checkpoint_path())
        assert warnings == [] and newest.count == 100
        assert verify_log().ok
