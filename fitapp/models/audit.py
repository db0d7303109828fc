"""Append-only audit log with a keyed hash chain for tamper evidence. Never clinical content.

The table refuses UPDATE, DELETE and TRUNCATE (triggers of migration 0008; on SQLite a table rebuild by a
later migration would drop them, and a test checks they are there). Each entry's ``hash`` covers its
content and its predecessor's hash; ``seq`` counts the entries from 1, so the newest entry says how many
there must be (fitapp.audit compares it with the signed checkpoints kept outside the database).
"""
import hashlib
import hmac
from datetime import datetime, timezone
from functools import lru_cache

from flask import current_app
from sqlalchemy import DateTime, ForeignKey, Integer, SmallInteger, String, select
from sqlalchemy.orm import Mapped, mapped_column

from fitapp.extensions import db
from fitapp.models._types import utcnow

GENESIS_HASH = "0" * 64
# How an entry's hash was made. UNKEYED: SHA-256 of the payload, the entries written before
# migration 0008 (accepted only before the first keyed one). KEYED: HMAC-SHA256 under the audit key
# (fitapp.audit.chain_key) of the payload with seq and this marker.
UNKEYED, KEYED = 1, 2


@lru_cache(maxsize=16)
def _derive(audit_key: str, purpose: bytes) -> bytes:
    return hmac.digest(audit_key.encode("utf-8"), purpose, "sha256")


def _derived_key(purpose: bytes) -> bytes:
    """A key of its own for each use of the audit key (the chain, the checkpoints)."""
    return _derive(current_app.config["AUDIT_KEY"], purpose)


def chain_key() -> bytes:
    return _derived_key(b"fitapp audit chain")


def checkpoint_key() -> bytes:
    return _derived_key(b"fitapp audit checkpoint")


class AuditEvent(db.Model):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    actor_name: Mapped[str | None] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    unit_id: Mapped[int | None] = mapped_column(Integer, index=True)
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    hash_version: Mapped[int] = mapped_column(SmallInteger, default=KEYED)

    def payload(self) -> str:
        return unkeyed_payload(self)

    def keyed_payload(self) -> str:
        return keyed_payload(self)

    def compute_hash(self, key: bytes | None = None) -> str:
        """The hash this entry must have; ``key``: the chain key (default: the app's; unused when UNKEYED)."""
        return entry_hash(self, key or chain_key())


# The formulas over anything with the columns as attributes: an AuditEvent or a plain row (which
# audit-verify reads, many times faster than building objects).


def unkeyed_payload(entry) -> str:
    # Hash the UTC time without zone: SQLite returns it naive, PostgreSQL aware.
    at = entry.at.astimezone(timezone.utc) if entry.at.tzinfo else entry.at
    fields = (
        at.replace(tzinfo=None).isoformat(timespec="microseconds"),
        entry.actor_id, entry.actor_name, entry.action, entry.object_type,
        entry.object_id, entry.unit_id, entry.remote_addr, entry.prev_hash,
    )
    return "|".join("" if f is None else str(f) for f in fields)


def keyed_payload(entry) -> str:
    return f"{unkeyed_payload(entry)}|{entry.seq}|{entry.hash_version}"


def entry_hash(entry, key: bytes) -> str:
    if entry.hash_version == UNKEYED:
        return hashlib.sha256(unkeyed_payload(entry).encode()).hexdigest()
    return hmac.digest(key, keyed_payload(entry).encode(), "sha256").hex()


def last_entry() -> tuple[int, str]:
    """(seq, hash) of the newest entry; (0, GENESIS_HASH) for an empty log."""
    row = db.session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
    return (row.seq, row.hash) if row else (0, GENESIS_HASH)


def last_hash() -> str:
    return last_entry()[1]
