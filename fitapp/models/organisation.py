"""District (förvaltning) -> unit (enhet) -> team."""
from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fitapp.extensions import db


class District(db.Model):
    __tablename__ = "district"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))

    units: Mapped[list["Unit"]] = relationship(back_populates="district", order_by="Unit.code")


class Unit(db.Model):
    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), index=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # The unit's choice (set by the administrator): therapists also see the cases of their own team.
    team_cases_visible: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    district: Mapped[District] = relationship(back_populates="units")
    teams: Mapped[list["Team"]] = relationship(back_populates="unit", order_by="Team.name")


class Team(db.Model):
    __tablename__ = "team"
    __table_args__ = (UniqueConstraint("unit_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))

    unit: Mapped[Unit] = relationship(back_populates="teams")
