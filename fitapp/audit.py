"""Writing to the append-only audit log (who, when, what object, which action, from where).

Never pass clinical content here: only ids and action names. The caller commits
the event in the same transaction as the change it records.
"""
from flask import has_request_context, request
from flask_login import current_user

from fitapp.extensions import db
from fitapp.models._types import utcnow
from fitapp.models.audit import AuditEvent, last_hash


def _actor():
    if has_request_context() and getattr(current_user, "is_authenticated", False):
        return current_user.id, current_user.username
    return None, None


def record(action: str, *, object_type: str | None = None, object_id=None, unit_id: int | None = None,
           actor_id: int | None = None, actor_name: str | None = None) -> AuditEvent:
    """Add an audit event to the current session, chained to the previous one."""
    if actor_id is None and actor_name is None:
        actor_id, actor_name = _actor()
    event = AuditEvent(
        actor_id=actor_id,
        actor_name=actor_name,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        unit_id=unit_id,
        remote_addr=request.remote_addr if has_request_context() else "cli",
        prev_hash=last_hash(),
    )
    event.at = utcnow()
    event.hash = event.compute_hash()
    db.session.add(event)
    db.session.flush()
    return event
