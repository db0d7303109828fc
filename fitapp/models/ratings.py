"""Ratings: four items and a total, stored in integer tenths (exact, metrics.md §1)."""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, SmallInteger, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fitapp.extensions import db
from fitapp.models._types import created_at_column
from fitapp.models.cases import CORRECTION_REASONS, live_sessions
from fitapp.models.disclosure import record_key_column
from fitapp.scoring.instruments import ALL_INSTRUMENTS


def _item_check(name: str) -> CheckConstraint:
    return CheckConstraint(f"{name} >= 0 AND {name} <= 100", name=f"{name}_range")


class Rating(db.Model):
    """One filled-in scale. The rater is the subject (self-rating) or another participant."""

    __tablename__ = "rating"
    __table_args__ = (
        # One live rating per session, subject, rater and instrument. Soft-deleted rows are left
        # out of the index (partial unique index, SQLite and PostgreSQL alike), so a deleted
        # rating can be entered again while the deleted one stays for the record.
        Index("uq_rating_live", "session_id", "subject_id", "rater_id", "instrument", unique=True,
              sqlite_where=text("deleted_at IS NULL"), postgresql_where=text("deleted_at IS NULL")),
        CheckConstraint(f"instrument IN {tuple(ALL_INSTRUMENTS)!r}", name="instrument"),
        CheckConstraint(f"delete_reason IS NULL OR delete_reason IN {CORRECTION_REASONS!r}", name="delete_reason"),
        CheckConstraint("(deleted_at IS NULL) = (delete_reason IS NULL)", name="deleted_needs_reason"),
        _item_check("item1_x10"),
        _item_check("item2_x10"),
        _item_check("item3_x10"),
        _item_check("item4_x10"),
        CheckConstraint("total_x10 = item1_x10 + item2_x10 + item3_x10 + item4_x10", name="total"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id"), index=True)
    instrument: Mapped[str] = mapped_column(String(10))
    subject_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    rater_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    item1_x10: Mapped[int] = mapped_column(SmallInteger)
    item2_x10: Mapped[int] = mapped_column(SmallInteger)
    item3_x10: Mapped[int] = mapped_column(SmallInteger)
    item4_x10: Mapped[int] = mapped_column(SmallInteger)
    total_x10: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = created_at_column()
    # Soft delete: the row stays for the record, every reader leaves it out.
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    delete_reason: Mapped[str | None] = mapped_column(String(20))
    # metrics.md §7.2: kept through corrections (they edit this row); only self-rated SRS/CSRS ones are counted.
    record_key: Mapped[int] = record_key_column()

    session: Mapped["Session"] = relationship(back_populates="ratings")
    subject: Mapped["Participant"] = relationship(foreign_keys=[subject_id])
    rater: Mapped["Participant"] = relationship(foreign_keys=[rater_id])

    @property
    def items(self) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        tenths = (self.item1_x10, self.item2_x10, self.item3_x10, self.item4_x10)
        return tuple(Decimal(t) / 10 for t in tenths)

    @property
    def total(self) -> Decimal:
        return Decimal(self.total_x10) / 10

    @property
    def is_self_rating(self) -> bool:
        return self.subject_id == self.rater_id

    def set_items(self, items) -> None:
        """Store four Decimal items (already validated) and their total."""
        tenths = [int(Decimal(v) * 10) for v in items]
        self.item1_x10, self.item2_x10, self.item3_x10, self.item4_x10 = tenths
        self.total_x10 = sum(tenths)


class RatingRevision(db.Model):
    """The items a rating had before a correction, why it was corrected, by whom and when.

    A correction updates the live rating row (so its id, and the one-live-rating rule,
    stay as they are) and keeps the old values here.
    """

    __tablename__ = "rating_revision"
    __table_args__ = (
        CheckConstraint(f"reason IN {CORRECTION_REASONS!r}", name="reason"),
        CheckConstraint("old_total_x10 = old_item1_x10 + old_item2_x10 + old_item3_x10 + old_item4_x10",
                        name="old_total"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("rating.id"), index=True)
    old_item1_x10: Mapped[int] = mapped_column(SmallInteger)
    old_item2_x10: Mapped[int] = mapped_column(SmallInteger)
    old_item3_x10: Mapped[int] = mapped_column(SmallInteger)
    old_item4_x10: Mapped[int] = mapped_column(SmallInteger)
    old_total_x10: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(20))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    changed_at: Mapped[datetime] = created_at_column()

    @property
    def old_total(self) -> Decimal:
        return Decimal(self.old_total_x10) / 10


def live_ratings() -> tuple:
    """WHERE terms for ratings that are not soft-deleted and whose session is not either.

    Every reader of ratings (screens, alerts, series, reports, exports) uses these.
    """
    return Rating.deleted_at.is_(None), live_sessions()
