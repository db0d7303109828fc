"""The organisation's clock: days and months are Europe/Stockholm ones, whatever the server's zone."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

ORGANISATION_TIME = ZoneInfo("Europe/Stockholm")


def on_organisation_clock(moment: datetime) -> datetime:
    """A stored time on the organisation's clock (SQLite gives stored UTC times back without their zone)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return aware.astimezone(ORGANISATION_TIME)
