"""Small factories for tests that need organisations, staff, episodes and ratings.

Each function adds to the current db.session and flushes; the test commits
(``commit()``) before it makes requests. Passwords are hashed once per process:
argon2 is slow on purpose.
"""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from itertools import count

from sqlalchemy import select

from fitapp.auth.passwords import hash_password
from fitapp.extensions import db
from fitapp.models import (
    District, Episode, Intervention, Participant, Person, Rating, Session, Staff, Unit, UnitMembership,
)

PASSWORD = "correct horse battery"
# A fixed second-factor secret: admin and quality accounts must have one (fitapp.auth.sessions).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
_DEFAULT = object()
LONG_AGO = date(2020, 1, 1)

_numbers = count(1)


@lru_cache(maxsize=1)
def password_hash() -> str:
    return hash_password(PASSWORD)


def commit() -> None:
    db.session.commit()


def _next() -> int:
    return next(_numbers)


def _add(obj):
    db.session.add(obj)
    db.session.flush()
    return obj


def district(code: str | None = None, name: str | None = None) -> District:
    n = _next()
    return _add(District(code=code or f"D{n}", name=name or f"Förvaltning {n}"))


def unit(district_: District | None = None, code: str | None = None, name: str | None = None) -> Unit:
    n = _next()
    return _add(Unit(district=district_ or district(), code=code or f"U{n}", name=name or f"Familjeenheten {n}"))


def membership(unit_: Unit | None = None, valid_from: date = LONG_AGO, valid_to: date | None = None, *,
               unit_id: int | None = None, confirmed: bool = True, **columns) -> UnitMembership:
    """A membership (not added: append it to a staff member's), confirmed unless ``confirmed`` is False."""
    if unit_ is not None:
        columns["unit"] = unit_
    else:
        columns["unit_id"] = unit_id
    return UnitMembership(valid_from=valid_from, valid_to=valid_to,
                          confirmed_at=datetime(2020, 1, 1, tzinfo=timezone.utc) if confirmed else None, **columns)


def staff(username: str | None = None, role: str = "therapist", units=(), *, with_password: bool = True,
          enabled: bool = True, valid_from: date = LONG_AGO, valid_to: date | None = None,
          totp_secret=_DEFAULT, confirmed: bool = True) -> Staff:
    """A staff member; admin and quality accounts get TOTP_SECRET unless ``totp_secret`` says otherwise.
    Memberships in ``units`` are confirmed (in force) unless ``confirmed`` is False."""
    if totp_secret is _DEFAULT:
        totp_secret = TOTP_SECRET if role in ("admin", "quality") else None
    member = Staff(
        username=username or f"staff{_next()}",
        role=role,
        password_hash=password_hash() if with_password else None,
        is_enabled=enabled,
        totp_secret=totp_secret,
    )
    for u in units:
        member.memberships.append(membership(u, valid_from, valid_to, confirmed=confirmed))
    return _add(member)


def intervention(code: str = "FAMBEH") -> Intervention:
    return db.session.scalar(select(Intervention).where(Intervention.code == code))


def episode(unit_: Unit, therapist: Staff, *, ref: str | None = None, intervention_code: str = "FAMBEH",
            start_date: date = date(2025, 1, 13), end_date: date | None = None) -> Episode:
    return _add(Episode(
        unit=unit_,
        ref=ref or f"Ä-{_next():04d}",
        therapist=therapist,
        intervention=intervention(intervention_code),
        start_date=start_date,
        end_date=end_date,
        end_reason="planned" if end_date else None,
    ))


def participant(episode_: Episode, role: str = "index", *, birth_year: int | None = None,
                gender: str | None = None, ref: str | None = None) -> Participant:
    person = Person(ref=ref or f"P-{_next():05d}", birth_year=birth_year, gender=gender)
    return _add(Participant(episode=episode_, person=person, role=role))


def session(episode_: Episode, number: int, day: date | None = None) -> Session:
    """The episode's session with this number, created (weekly from the start) if missing."""
    existing = db.session.scalar(
        select(Session).where(Session.episode_id == episode_.id, Session.number == number)
    )
    if existing is not None:
        return existing
    day = day or episode_.start_date + timedelta(days=7 * (number - 1))
    return _add(Session(episode=episode_, number=number, date=day))


def items_for(total: str | Decimal) -> list[Decimal]:
    """Four valid items (one decimal, 0–10) that add up to ``total``."""
    tenths = int(Decimal(total) * 10)
    base, extra = divmod(tenths, 4)
    return [Decimal(base + (1 if i < extra else 0)) / 10 for i in range(4)]


def rating(session_: Session, instrument: str, subject: Participant, total: str | Decimal, *,
           rater: Participant | None = None) -> Rating:
    record = Rating(session=session_, instrument=instrument, subject=subject, rater=rater or subject)
    record.set_items(items_for(total))
    return _add(record)


def series(episode_: Episode, subject: Participant, instrument: str, totals, *,
           rater: Participant | None = None, first_session: int = 1) -> list[Rating]:
    """One rating per session, sessions numbered from ``first_session``, weekly."""
    return [
        rating(session(episode_, first_session + i), instrument, subject, total, rater=rater)
        for i, total in enumerate(totals)
    ]
