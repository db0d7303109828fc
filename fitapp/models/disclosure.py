"""Disclosure control (metrics.md §7): record keys and the perturbation table in force."""
import secrets
from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fitapp.extensions import db
from fitapp.models._types import created_at_column

# metrics.md §7.2: record keys are integers below 10^9 (a uniform number in [0, 1) with nine decimals).
RECORD_KEY_MODULUS = 10**9


def new_record_key() -> int:
    """A record key from the operating system's cryptographic generator (metrics.md §7.2)."""
    return secrets.randbelow(RECORD_KEY_MODULUS)


def record_key_column():
    """The record key of a counted record: set once when the row is inserted, never shown or exported."""
    return mapped_column(Integer, default=new_record_key, nullable=False)


class PerturbationTableRecord(db.Model):
    """A perturbation table made the organisation's by ``flask ptable use`` (metrics.md §7.3).

    The newest row is the table in force; with no row the shipped default
    table is. ``content`` is the table file exactly as interchange.md
    ("Perturbation table file") defines it.
    """

    __tablename__ = "perturbation_table"

    id: Mapped[int] = mapped_column(primary_key=True)
    table_id: Mapped[str] = mapped_column(String(80))
    content: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = created_at_column()
