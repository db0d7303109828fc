"""Writing to the append-only audit log (who, when, what object, which action, from where).

Never pass clinical content here: only ids and action names. The caller commits
the event in the same transaction as the change it records.
"""
from dataclasses import dataclass

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import select, text

from fitapp.extensions import db
from fitapp.models._types import utcnow
from fitapp.models.audit import GENESIS_HASH, AuditEvent, last_hash

# Key of the PostgreSQL advisory lock that serialises appends to the chain
# (an arbitrary constant: "fitaudit" in ASCII, truncated to a bigint).
CHAIN_LOCK_KEY = 0x66697461756469


def _lock_chain() -> None:
    """Hold the chain until this transaction ends, so two appends never share a predecessor.

    PostgreSQL: a transaction-level advisory lock, released at commit or rollback.
    SQLite serialises writers on its own (one writer per database file).
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})


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
    )
    _lock_chain()
    event.prev_hash = last_hash()
    event.at = utcnow()
    event.hash = event.compute_hash()
    db.session.add(event)
    db.session.flush()
    return event


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    reason: str

    def __str__(self) -> str:
        return f"audit event {self.event_id}: {self.reason}"


def verify_chain(batch_size: int = 1000) -> tuple[int, ChainBreak | None]:
    """Walk the log in id order: (events checked, the first broken entry or None).

    Reads plain rows, not session objects, so a long log does not fill the session.
    """
    table = AuditEvent.__table__
    expected_prev = GENESIS_HASH
    checked = 0
    last_id = 0
    while True:
        rows = db.session.execute(
            select(table).where(table.c.id > last_id).order_by(table.c.id).limit(batch_size)
        ).mappings().all()
        if not rows:
            return checked, None
        for row in rows:
            event = AuditEvent(**row)  # transient: never added to the session
            if event.prev_hash != expected_prev:
                return checked, ChainBreak(event.id, "does not follow the previous entry (deleted or reordered entry)")
            if event.hash != event.compute_hash():
                return checked, ChainBreak(event.id, "content does not match its hash (changed entry)")
            expected_prev = event.hash
            checked += 1
            last_id = event.id
