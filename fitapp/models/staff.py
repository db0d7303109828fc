"""Staff accounts, roles and dated unit memberships."""
from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Integer, String, and_, or_, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fitapp.extensions import db
from fitapp.models._types import created_at_column

ROLES = ("therapist", "unit_head", "quality", "admin")
# Why a membership waits for confirmation (UnitMembership.pending_reason).
PENDING_REASONS = ("new_membership", "new_role", "password_reset")
ROLE_LABELS_SV = {
    "therapist": "behandlare",
    "unit_head": "enhetschef",
    "quality": "kvalitetsgrupp",
    "admin": "administratör",
}


class Staff(UserMixin, db.Model):
    __tablename__ = "staff"
    __table_args__ = (CheckConstraint(f"role IN {ROLES!r}", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    # NULL means the account cannot log in until a password is set (imported staff).
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = created_at_column()
    # Copied into the session at login and compared on every request: raising it
    # (logout, password change, disabling) ends every session of the account at once.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Base32 TOTP secret once the second factor is enrolled (required for admin and quality).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    # The last TOTP time step accepted: a code is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # Quality group only: the district whose units' reports they see; NULL means the whole city.
    scope_district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id"))
    # Set by an administrator's password reset: nothing but the password change page until the
    # user has chosen a password only they know (fitapp.auth.loader).
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # The newest reset by an administrator, and who did it: told to the user at the change page.
    password_reset_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    password_reset_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))

    memberships: Mapped[list["UnitMembership"]] = relationship(
        back_populates="staff", order_by="UnitMembership.valid_from", foreign_keys="UnitMembership.staff_id"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login: disabled accounts cannot log in
        return self.is_enabled and self.password_hash is not None

    def unit_ids_on(self, day: date) -> set[int]:
        """The units whose data this account reaches on ``day``: confirmed memberships covering it."""
        return {m.unit_id for m in self.memberships if m.grants_access_on(day)}


class UnitMembership(db.Model):
    """A staff member belongs to a unit from one date to another; history is kept."""

    __tablename__ = "unit_membership"
    __table_args__ = (CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="dates"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    # Separation of duties (issue 12 item 2): a membership an administrator (or a command) made
    # grants nothing until a unit head of the unit, or for a unit without one a second
    # administrator, confirms it (fitapp.access_confirmation). NULL confirmed_at: pending.
    # requested_by: the administrator whose change made it pending (NULL: a command), who may
    # not confirm it; confirmed_by NULL with confirmed_at set: confirmed on the command line.
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Why it waits (PENDING_REASONS): a new membership, the account's new role, a password reset.
    pending_reason: Mapped[str | None] = mapped_column(String(20))

    staff: Mapped[Staff] = relationship(back_populates="memberships", foreign_keys=[staff_id])
    unit: Mapped["Unit"] = relationship()
    requested_by: Mapped[Staff | None] = relationship(foreign_keys=[requested_by_id])
    confirmed_by: Mapped[Staff | None] = relationship(foreign_keys=[confirmed_by_id])

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def grants_access_on(self, day: date) -> bool:
        """Confirmed and covering ``day``: only such a membership opens the unit's data."""
        return self.is_confirmed and self.covers(day)

    def overlaps(self, valid_from: date, valid_to: date | None = None) -> bool:
        """Whether this membership shares a day with the span ``valid_from``..``valid_to`` (None: open)."""
        return spans_overlap(self.valid_from, self.valid_to, valid_from, valid_to)


def spans_overlap(a_from: date, a_to: date | None, b_from: date, b_to: date | None) -> bool:
    """Whether two spans of days (ends included, None: still open) share a day."""
    return (a_to is None or b_from <= a_to) and (b_to is None or a_from <= b_to)


def membership_in_another_district(staff: Staff, district_id: int, valid_from: date, valid_to: date | None = None,
                                   *, ignoring: UnitMembership | None = None) -> UnitMembership | None:
    """A membership of ``staff`` in a unit of another district than ``district_id`` that shares a day
    with ``valid_from``..``valid_to``: the first one, or None.

    Each district is its own authority (OSL 8 kap.): nobody belongs to units of two districts on the
    same day, so a person's district today is never in doubt. A move is an end and a start, never
    an overlap. ``ignoring`` is a membership that is being replaced (ended by a move).
    """
    for membership in staff.memberships:
        if membership is ignoring or membership.unit.district_id == district_id:
            continue
        if membership.overlaps(valid_from, valid_to):
            return membership
    return None


def membership_covers(membership, day):
    """WHERE term, the SQL twin of UnitMembership.covers: the membership (the class or an alias
    of it) is valid on ``day`` (a date or a SQL expression)."""
    return and_(membership.valid_from <= day, or_(membership.valid_to.is_(None), membership.valid_to >= day))


def membership_grants_access(membership, day):
    """WHERE term, the SQL twin of UnitMembership.grants_access_on: confirmed and valid on ``day``."""
    return and_(membership.confirmed_at.is_not(None), membership_covers(membership, day))


def staff_by_username(username: str) -> Staff | None:
    return db.session.scalar(select(Staff).where(Staff.username == username))
