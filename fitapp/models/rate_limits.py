"""Login-throttling counters in the database, shared by every worker process."""
from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fitapp.extensions import db


class RateLimitCounter(db.Model):
    __tablename__ = "rate_limit_counter"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    # Unix time (seconds) when the fixed window ends and the counter starts again.
    window_ends: Mapped[float] = mapped_column(Float)
