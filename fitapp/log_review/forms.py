"""Reading the log review's choice (GET) and review form (POST): plain parsers, strict about every value.

Like fitapp/reports/forms.py: ``parse_choice`` returns ``(value, errors)`` with
``errors`` mapping a field name to one translated message. Which unit keys
exist is the caller's concern (an unknown one is a 404). CSRF is checked for
every POST by Flask-WTF's CSRFProtect.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _

from fitapp.log_review.services import month_label, previous_month
from fitapp.reports.forms import FIRST_YEAR, Errors

_MONTH = re.compile(r"(\d{4})-(\d{2})")
_PAGE = re.compile(r"[1-9]\d{0,5}")
ONLY_HIGHLIGHTED = "highlighted"


@dataclass(frozen=True)
class LogChoice:
    """Whose log (a unit id as text, or ``ORGANISATION``), which month, which page, all rows or highlighted."""

    unit: str
    month: date
    page: int = 1
    only_highlighted: bool = False

    def args(self, **changes) -> dict:
        """Query arguments that give this choice again (for links); page 1 and all rows are left out."""
        values = {"unit": self.unit, "month": month_label(self.month), "page": self.page,
                  "show": ONLY_HIGHLIGHTED if self.only_highlighted else None}
        values.update(changes)
        return {name: value for name, value in values.items() if value not in (None, 1)}


def parse_month(text: str | None, today: date) -> date | None:
    """The first day of the month written ``YYYY-MM``; None unless it is a real month that has begun."""
    match = _MONTH.fullmatch((text or "").strip())
    if not match:
        return None
    year, month = int(match[1]), int(match[2])
    if not (FIRST_YEAR <= year and 1 <= month <= 12) or date(year, month, 1) > today:
        return None
    return date(year, month, 1)


def parse_choice(args, default_unit: str, today: date) -> tuple[LogChoice, Errors]:
    """The choice in the query string; the previous month and page 1 when missing."""
    errors = Errors()
    month = previous_month(today)
    text = args.get("month")
    if text:
        parsed = parse_month(text, today)
        if parsed is None:
            errors.add("month", _("Month: give a month that has begun, written as YYYY-MM."))
        month = parsed or month
    page = 1
    text = args.get("page")
    if text:
        if _PAGE.fullmatch(text):
            page = int(text)
        else:
            errors.add("page", _("Page: give a whole number from 1."))
    show = args.get("show") or ""
    if show not in ("", ONLY_HIGHLIGHTED):
        errors.add("show", _("Show: choose all accesses or only the highlighted ones."))
    return LogChoice(args.get("unit") or default_unit, month, page, show == ONLY_HIGHLIGHTED), errors
