"""ASVS 5.0 V16: the audit log's hash chain, its verification command, and concurrent appends."""
import threading

import pytest
from sqlalchemy import func, select, text

from fitapp.audit import record, verify_chain
from fitapp.extensions import db
from fitapp.models import AuditEvent


def _events(n: int) -> None:
    for i in range(n):
        record("view_episode", object_type="episode", object_id=i, unit_id=1, actor_name="anna")
    db.session.commit()


def test_audit_verify_accepts_an_intact_chain(app):
    _events(5)
    result = app.test_cli_runner().invoke(args=["audit-verify"])
    assert result.exit_code == 0, result.output
    assert "intact: 5 entries" in result.output


def test_audit_verify_accepts_an_empty_log(app):
    assert app.test_cli_runner().invoke(args=["audit-verify"]).exit_code == 0


def test_audit_verify_names_a_changed_entry(app):
    _events(5)
    third = db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()[2]
    db.session.execute(text("UPDATE audit_event SET object_id = '99' WHERE id = :id"), {"id": third})
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["audit-verify"])
    assert result.exit_code == 1
    assert f"audit event {third}: content does not match" in result.output


def test_audit_verify_names_the_entry_after_a_deleted_one(app):
    _events(5)
    ids = db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()
    db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": ids[1]})
    db.session.commit()
    checked, broken = verify_chain()
    assert (checked, broken.event_id) == (1, ids[2])
    assert "does not follow" in str(broken)


class TestConcurrentAppends:
    """Two writers at once must not both chain to the same predecessor (PostgreSQL: advisory lock)."""

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
