"""Derived series summaries (metrics.md §3–§5), one row per series, kept for cheap reports.

Rows are never edited by hand: :func:`fitapp.reports.series_store.refresh_series`
recomputes them from the ratings with the active norm set. Scores are kept in
integer tenths and thresholds in hundredths, like ratings and norm parameters,
so they are exact on every database.
"""
from datetime import date
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fitapp.extensions import db
from fitapp.scoring.instruments import ALL_INSTRUMENTS
from fitapp.scoring.series import CATEGORIES


class SeriesSummaryRecord(db.Model):
    """F, L, d, n, thresholds and category of one series (episode × subject × rater × instrument)."""

    __tablename__ = "series_summary"
    __table_args__ = (
        UniqueConstraint("episode_id", "subject_id", "rater_id", "instrument"),
        CheckConstraint(f"instrument IN {tuple(ALL_INSTRUMENTS)!r}", name="instrument"),
        CheckConstraint(f"category IS NULL OR category IN {CATEGORIES!r}", name="category"),
        CheckConstraint("n >= 1", name="n"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Derived data must never block deleting what it was derived from (retention), hence CASCADE.
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id", ondelete="CASCADE"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"), index=True)
    rater_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"), index=True)
    instrument: Mapped[str] = mapped_column(String(10))
    n: Mapped[int] = mapped_column(Integer)
    intake_date: Mapped[date] = mapped_column(Date)
    intake_x10: Mapped[int] = mapped_column(Integer)
    last_date: Mapped[date] = mapped_column(Date)
    last_x10: Mapped[int] = mapped_column(Integer)
    change_x10: Mapped[int | None] = mapped_column(Integer)
    cutoff_x100: Mapped[int | None] = mapped_column(Integer)
    rc_x100: Mapped[int | None] = mapped_column(Integer)
    intake_clinical: Mapped[bool | None] = mapped_column(Boolean)
    category: Mapped[str | None] = mapped_column(String(20))
    parameter_set: Mapped[str | None] = mapped_column(String(40))
    is_self: Mapped[bool] = mapped_column(Boolean)
    # The §5 index series of an index participant: at most one per index participant and episode.
    is_index_series: Mapped[bool] = mapped_column(Boolean, default=False)

    @property
    def intake_score(self) -> Decimal:
        return Decimal(self.intake_x10).scaleb(-1)

    @property
    def last_score(self) -> Decimal:
        return Decimal(self.last_x10).scaleb(-1)


class EpisodeSummaryRecord(db.Model):
    """Per-episode tallies the unit reports need (metrics.md §6 mean_sessions, srs_mean, srs_below_36).

    Derived like :class:`SeriesSummaryRecord` and refreshed with it, in the
    same batch: live sessions, and the live self-rated SRS/CSRS ratings
    (count, sum of totals in tenths, how many totals are below 36.0), with
    the sums of the record keys of the ratings each count counts (§7.2: the
    cell keys are these sums mod 10^9). An episode without a row has no
    sessions yet (reports read a missing row as zeros).
    """

    __tablename__ = "episode_summary"
    __table_args__ = (
        CheckConstraint("sessions >= 0 AND srs_ratings >= 0 AND srs_below >= 0 AND srs_below <= srs_ratings",
                        name="counts"),
    )

    # Derived data must never block deleting what it was derived from (retention), hence CASCADE.
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id", ondelete="CASCADE"), primary_key=True)
    sessions: Mapped[int] = mapped_column(Integer)
    srs_ratings: Mapped[int] = mapped_column(Integer)
    srs_total_x10: Mapped[int] = mapped_column(Integer)
    srs_below: Mapped[int] = mapped_column(Integer)
    # Plain sums, not reduced mod 10^9: a report adds the sums of many episodes before reducing.
    srs_key_sum: Mapped[int] = mapped_column(BigInteger)
    srs_below_key_sum: Mapped[int] = mapped_column(BigInteger)


class IndexPersonSummaryRecord(db.Model):
    """Each index participant of an episode with what the unit reports need of them (metrics.md §5–§6).

    One row per index participant: the person's birth year and gender, the
    participant's record key, and their stored §5 index series (the series
    columns are all NULL without a self-rated outcome rating). Derived like
    :class:`SeriesSummaryRecord` and refreshed with it, in the same batch; a
    case is refreshed when it is opened, so one closed without any session
    still has its index persons. Birth year, gender and record key are
    copies: persons are never edited and record keys never change, and
    anything that came to edit them would have to refresh their episodes.
    """

    __tablename__ = "index_person_summary"

    # Derived data must never block deleting what it was derived from (retention), hence CASCADE.
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"), primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    birth_year: Mapped[int | None] = mapped_column(Integer)
    gender: Mapped[str | None] = mapped_column(String(10))
    # The participant's record key (metrics.md §7.2): the person-level indicators' cell keys are sums of these.
    record_key: Mapped[int] = mapped_column(Integer)
    instrument: Mapped[str | None] = mapped_column(String(10))
    n: Mapped[int | None] = mapped_column(Integer)
    intake_date: Mapped[date | None] = mapped_column(Date)
    intake_x10: Mapped[int | None] = mapped_column(Integer)
    last_date: Mapped[date | None] = mapped_column(Date)
    last_x10: Mapped[int | None] = mapped_column(Integer)
    change_x10: Mapped[int | None] = mapped_column(Integer)
    cutoff_x100: Mapped[int | None] = mapped_column(Integer)
    rc_x100: Mapped[int | None] = mapped_column(Integer)
    intake_clinical: Mapped[bool | None] = mapped_column(Boolean)
    category: Mapped[str | None] = mapped_column(String(20))
    parameter_set: Mapped[str | None] = mapped_column(String(40))
