"""Organisation-wide settings kept by the administrator: licensed instrument labels, retention policy."""
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fitapp.extensions import db
from fitapp.models._types import utcnow


class InstrumentLabel(db.Model):
    """The text of one item of an instrument, entered only where the organisation holds a licence.

    Without a row the app shows a neutral label ("Del 1"): the instruments' wording is
    licensed and not shipped with the app (domain.md).
    """

    __tablename__ = "instrument_label"
    __table_args__ = (
        UniqueConstraint("instrument", "item"),
        CheckConstraint("item BETWEEN 1 AND 4", name="item"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument: Mapped[str] = mapped_column(String(10))
    item: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(80))


class RetentionPolicy(db.Model):
    """One row per change; the newest row is in force, and without any row the default applies."""

    __tablename__ = "retention_policy"
    __table_args__ = (CheckConstraint("retention_years >= 1", name="retention_years"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    retention_years: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
