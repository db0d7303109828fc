"""Append-only audit log with a hash chain for tamper evidence. Never clinical content."""
import hashlib
from datetime import datetime, timezone

from sqlalchemy import DateTime, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from fitapp.extensions import db
from fitapp.models._types import utcnow

GENESIS_HASH = "0" * 64


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

    def payload(self) -> str:
        # Hash the UTC time without zone: SQLite returns it naive, PostgreSQL aware.
        at = self.at.astimezone(timezone.utc) if self.at.tzinfo else self.at
        fields = (
            at.replace(tzinfo=None).isoformat(timespec="microseconds"),
            self.actor_id, self.actor_name, self.action, self.object_type,
            self.object_id, self.unit_id, self.remote_addr, self.prev_hash,
        )
        return "|".join("" if f is None else str(f) for f in fields)

    def compute_hash(self) -> str:
        return hashlib.sha256(self.payload().encode()).hexdigest()


def last_hash() -> str:
    value = db.session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    return value or GENESIS_HASH
