"""Systematic log review (loggkontroll): who reviewed which unit's accesses for which month."""
from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fitapp.extensions import db
from fitapp.models._types import utcnow


class LogReview(db.Model):
    __tablename__ = "log_review"
    __table_args__ = (UniqueConstraint("unit_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # NULL: the administrator's review of the whole organisation.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    # The first day of the month reviewed.
    month: Mapped[date] = mapped_column(Date)
    reviewed_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    reviewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # What the reviewer saw when signing: accesses in the month, and those outside the user's own caseload.
    events_count: Mapped[int] = mapped_column(Integer)
    flagged_count: Mapped[int] = mapped_column(Integer)
