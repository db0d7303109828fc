from sqlalchemy import select

from fitapp.audit import record
from fitapp.extensions import db
from fitapp.models import AuditEvent
from fitapp.models.audit import GENESIS_HASH


def test_events_are_chained_and_hashes_survive_a_reload(app):
    first = record("login", object_type="staff", object_id=1, actor_name="anna")
    second = record("view_episode", object_type="episode", object_id=7, unit_id=3, actor_name="anna")
    db.session.commit()
    db.session.expire_all()
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["login", "view_episode"]
    assert events[0].prev_hash == GENESIS_HASH
    assert events[1].prev_hash == events[0].hash
    assert all(e.hash == e.compute_hash() for e in events)
    assert first.id != second.id


def test_a_changed_event_no_longer_matches_its_hash(app):
    record("login", object_type="staff", object_id=1, actor_name="anna")
    db.session.commit()
    event = db.session.scalars(select(AuditEvent)).one()
    event.object_id = "2"
    assert event.hash != event.compute_hash()
