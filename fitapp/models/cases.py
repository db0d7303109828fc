"""Episodes (ärenden), pseudonymous persons, participation, sessions and attendance."""
from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fitapp.extensions import db
from fitapp.models._types import created_at_column
from fitapp.models.disclosure import record_key_column

END_REASONS = ("planned", "client_dropout", "moved", "other")
PARTICIPANT_ROLES = ("index", "parent", "other")
GENDERS = ("female", "male", "other")
# Why a person present (or the child, for the whole episode) did not rate.
NO_RATING_REASONS = ("declined", "too_young", "language", "capacity", "not_present", "other")
# Why a session or rating was corrected or deleted. A code, never free text: no case notes (domain.md).
CORRECTION_REASONS = ("typing_error", "wrong_person", "wrong_session", "wrong_date", "duplicate", "other")


class Person(db.Model):
    """A pseudonymous person: never a name or a personal identity number."""

    __tablename__ = "person"
    __table_args__ = (
        CheckConstraint("gender IS NULL OR gender IN ('female', 'male', 'other')", name="gender"),
        CheckConstraint("birth_year IS NULL OR (birth_year >= 1900 AND birth_year <= 2100)", name="birth_year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)
    birth_year: Mapped[int | None] = mapped_column(Integer)
    gender: Mapped[str | None] = mapped_column(String(10))
    # Set at registration: research exemption or a region that keeps everything (gallring).
    retention_exempt: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = created_at_column()


class Episode(db.Model):
    __tablename__ = "episode"
    __table_args__ = (
        UniqueConstraint("unit_id", "ref"),
        CheckConstraint(f"end_reason IS NULL OR end_reason IN {END_REASONS!r}", name="end_reason"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates"),
        CheckConstraint("(end_date IS NULL) = (end_reason IS NULL)", name="end_needs_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    ref: Mapped[str] = mapped_column(String(64))
    therapist_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    intervention_id: Mapped[int] = mapped_column(ForeignKey("intervention.id"), index=True)
    referral_date: Mapped[date | None] = mapped_column(Date)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date, index=True)
    end_reason: Mapped[str | None] = mapped_column(String(20))
    child_no_rating_reason: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = created_at_column()
    # metrics.md §7.2: the episode-level indicators' cell keys are sums of these.
    record_key: Mapped[int] = record_key_column()

    unit: Mapped["Unit"] = relationship()
    therapist: Mapped["Staff"] = relationship()
    intervention: Mapped["Intervention"] = relationship()
    participants: Mapped[list["Participant"]] = relationship(
        back_populates="episode", order_by="Participant.id", cascade="all, delete-orphan"
    )
    sessions: Mapped[list["Session"]] = relationship(
        back_populates="episode", order_by="(Session.date, Session.number)", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.end_date is None


class Participant(db.Model):
    """A person's part in one episode, with a role."""

    __tablename__ = "participant"
    __table_args__ = (
        UniqueConstraint("episode_id", "person_id"),
        CheckConstraint(f"role IN {PARTICIPANT_ROLES!r}", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    # metrics.md §7.2: every participant has one, as parents' own figures are published too.
    record_key: Mapped[int] = record_key_column()

    episode: Mapped[Episode] = relationship(back_populates="participants")
    person: Mapped[Person] = relationship()


class Session(db.Model):
    __tablename__ = "session"
    __table_args__ = (
        UniqueConstraint("episode_id", "number"),
        CheckConstraint("number >= 1", name="number"),
        CheckConstraint(f"delete_reason IS NULL OR delete_reason IN {CORRECTION_REASONS!r}", name="delete_reason"),
        CheckConstraint("(deleted_at IS NULL) = (delete_reason IS NULL)", name="deleted_needs_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id"), index=True)
    # Numbers are never reused, not even after a soft delete: "session 3" always means one row.
    number: Mapped[int] = mapped_column(Integer)
    date: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = created_at_column()
    # A random key from the session form: a submission sent twice is stored once.
    submission_key: Mapped[str | None] = mapped_column(String(36), unique=True)
    # Soft delete: the row stays (and so do its ratings), every reader leaves it out.
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    delete_reason: Mapped[str | None] = mapped_column(String(20))

    episode: Mapped[Episode] = relationship(back_populates="sessions")
    attendance: Mapped[list["Attendance"]] = relationship(
        back_populates="session", cascade="all, delete-orphan"
    )
    ratings: Mapped[list["Rating"]] = relationship(back_populates="session", cascade="all, delete-orphan")


class Attendance(db.Model):
    """Who attended a session, and why they did not rate if they did not."""

    __tablename__ = "attendance"

    session_id: Mapped[int] = mapped_column(ForeignKey("session.id"), primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), primary_key=True)
    no_rating_reason: Mapped[str | None] = mapped_column(String(20))

    session: Mapped[Session] = relationship(back_populates="attendance")
    participant: Mapped[Participant] = relationship()


class SessionRevision(db.Model):
    """The values a session had before a correction: the old date, why, who and when."""

    __tablename__ = "session_revision"
    __table_args__ = (CheckConstraint(f"reason IN {CORRECTION_REASONS!r}", name="reason"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id"), index=True)
    old_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(20))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    changed_at: Mapped[datetime] = created_at_column()


def live_sessions():
    """WHERE term for sessions that are not soft-deleted."""
    return Session.deleted_at.is_(None)
