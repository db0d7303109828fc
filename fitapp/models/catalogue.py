"""Intervention catalogue and norm parameter sets (metrics.md §2) kept as data."""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fitapp.extensions import db
from fitapp.models._types import created_at_column

INTERVENTION_KINDS = ("bistånd", "service", "båda")


class Intervention(db.Model):
    __tablename__ = "intervention"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="båda")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class NormSetRecord(db.Model):
    """A stored norm parameter set; exactly one is active for the organisation."""

    __tablename__ = "norm_set"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = created_at_column()

    parameters: Mapped[list["NormParameter"]] = relationship(
        back_populates="norm_set", cascade="all, delete-orphan", order_by="NormParameter.id"
    )


class NormParameter(db.Model):
    """One row of a parameter set. Values are kept in hundredths: exact on every database."""

    __tablename__ = "norm_parameter"
    __table_args__ = (
        CheckConstraint("cutoff_x100 >= 0 AND cutoff_x100 <= 4000", name="cutoff_range"),
        CheckConstraint("rc_x100 > 0 AND rc_x100 <= 4000", name="rc_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    norm_set_id: Mapped[int] = mapped_column(ForeignKey("norm_set.id"), index=True)
    instrument: Mapped[str] = mapped_column(String(10))
    min_age: Mapped[int | None] = mapped_column(Integer)
    max_age: Mapped[int | None] = mapped_column(Integer)
    includes_unknown_age: Mapped[bool] = mapped_column(Boolean, default=False)
    cutoff_x100: Mapped[int] = mapped_column(Integer)
    rc_x100: Mapped[int] = mapped_column(Integer)

    norm_set: Mapped[NormSetRecord] = relationship(back_populates="parameters")

    @property
    def cutoff(self) -> Decimal:
        return Decimal(self.cutoff_x100) / 100

    @property
    def rc(self) -> Decimal:
        return Decimal(self.rc_x100) / 100
