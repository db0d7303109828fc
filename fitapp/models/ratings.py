"""Ratings: four items and a total, stored in integer tenths (exact, metrics.md §1)."""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fitapp.extensions import db
from fitapp.models._types import created_at_column
from fitapp.scoring.instruments import ALL_INSTRUMENTS


def _item_check(name: str) -> CheckConstraint:
    return CheckConstraint(f"{name} >= 0 AND {name} <= 100", name=f"{name}_range")


class Rating(db.Model):
    """One filled-in scale. The rater is the subject (self-rating) or another participant."""

    __tablename__ = "rating"
    __table_args__ = (
        UniqueConstraint("session_id", "subject_id", "rater_id", "instrument"),
        CheckConstraint(f"instrument IN {tuple(ALL_INSTRUMENTS)!r}", name="instrument"),
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
