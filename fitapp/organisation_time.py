"""The organisation's clock: days and months are Europe/Stockholm ones, whatever the server's zone."""
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

ORGANISATION_TIME = ZoneInfo("Europe/Stockholm")


def on_organisation_clock(moment: datetime) -> datetime:
    """A stored time on the organisation's clock (SQLite gives stored UTC times back without their zone)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return aware.astimezone(ORGANISATION_TIME)


def organisation_today() -> date:
    """Today on the organisation's clock: the day memberships, access and "today" in forms are judged by."""
    return datetime.now(ORGANISATION_TIME).date()


def day_begins(day: date) -> datetime:
    """The instant (UTC) the organisation's ``day`` begins: 23:00 or 22:00 UTC the day before."""
    return datetime.combine(day, time(), ORGANISATION_TIME).astimezone(timezone.utc)
