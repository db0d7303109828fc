"""Server-side web sessions (fitapp.session_store): the browser's cookie holds only a random id."""
from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fitapp.extensions import db


class WebSession(db.Model):
    """One browser's session. Written by fitapp.session_store only."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # HMAC-SHA256 of the cookie's id under SECRET_KEY: a reader of the table cannot make a cookie from it.
    key_digest: Mapped[str] = mapped_column(String(64), unique=True)
    # Flask's session dict (login, second factor, CSRF token, language, messages), as tagged JSON.
    data: Mapped[str] = mapped_column(Text)
    # Unix times (seconds): the absolute and the idle limit (IDLE_TIMEOUT_MINUTES, ABSOLUTE_TIMEOUT_HOURS).
    created_at: Mapped[float] = mapped_column(Float)
    touched_at: Mapped[float] = mapped_column(Float, index=True)
    # The tablet lock (fitapp.cases.tablet) as JSON, and the wrong passwords on its return screen.
    # Only the lock's own statements write these: saving the session never does, so a response
    # that started before the hand-over cannot take the lock away.
    tablet_lock: Mapped[str | None] = mapped_column(Text)
    tablet_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class SessionFormDraft(db.Model):
    """A half-filled session form (with the family's marks from the tablet), kept until it is saved."""

    __tablename__ = "session_form_draft"
    __table_args__ = (UniqueConstraint("web_session_id", "token"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    web_session_id: Mapped[int] = mapped_column(ForeignKey("web_session.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(String(43))
    # No foreign key: a draft lives no longer than its session (hours), retention needs not know it.
    episode_id: Mapped[int] = mapped_column(Integer)
    form_values: Mapped[str] = mapped_column(Text)
    saved_at: Mapped[float] = mapped_column(Float)
