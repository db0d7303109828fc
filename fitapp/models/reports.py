"""Target values (målvärden) a unit head sets for the unit's report indicators (metrics.md §6)."""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fitapp.extensions import db
from fitapp.models._types import created_at_column

# Indicators a target makes sense for: shares and means with a clear "better" direction.
# Counts, mean_intake, mean_sessions and mean_days describe the work, they are not goals.
TARGET_INDICATORS = (
    "coverage",
    "paired",
    "reliable_improvement",
    "recovered",
    "deteriorated",
    "mean_change",
    "effect_size",
    "dropout",
    "started_within_30d",
    "not_rereferred_12m",
    "srs_mean",
    "srs_below_36",
)
# For these a figure at or below the target meets it; for the others, at or above.
LOWER_IS_BETTER = frozenset({"deteriorated", "dropout", "srs_below_36"})
TARGET_SCALE = 10000


class ReportTarget(db.Model):
    """One målvärde: unit × year × indicator. Kept in ten-thousandths (0.9000 → 9000): exact everywhere."""

    __tablename__ = "report_target"
    __table_args__ = (
        UniqueConstraint("unit_id", "year", "indicator"),
        CheckConstraint(f"indicator IN {TARGET_INDICATORS!r}", name="indicator"),
        CheckConstraint("year >= 2000 AND year <= 2100", name="year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    indicator: Mapped[str] = mapped_column(String(40))
    target_x10000: Mapped[int] = mapped_column(Integer)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    set_at: Mapped[datetime] = created_at_column()

    @property
    def target(self) -> Decimal:
        return Decimal(self.target_x10000).scaleb(-4)
