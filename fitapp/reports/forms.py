"""Reading the report choices (GET) and the target form (POST): plain parsers returning values or messages.

Like fitapp/cases/forms.py: each parser returns ``(value, errors)`` with
``errors`` mapping a field name to one translated message. CSRF is checked
for every POST by Flask-WTF's CSRFProtect.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _

from fitapp.models.reports import TARGET_INDICATORS, TARGET_SCALE
from fitapp.scoring.indicators import INDICATOR_KINDS
from fitapp.scoring.periods import tertial_of

SPANS = ("tertial", "ytd", "year")
FIRST_YEAR = 2000
LAST_YEAR = 2100
# Means a target can be set for, and the values that make sense for them.
MEAN_RANGES = {"mean_change": (Decimal(-40), Decimal(40)), "effect_size": (Decimal(-10), Decimal(10)),
               "srs_mean": (Decimal(0), Decimal(40))}


class Errors(dict):
    def add(self, name: str, message: str) -> None:
        self.setdefault(name, message)


@dataclass(frozen=True)
class ReportChoice:
    """Year, period and units of a report; ``units`` empty means every unit the user may see."""

    year: int
    tertial: int
    span: str
    units: tuple[str, ...]
    as_of: date

    @property
    def ytd(self) -> bool:
        return self.span != "tertial"

    @property
    def last_tertial(self) -> int:
        """A whole year is the year to date through tertial 3 (metrics.md §6)."""
        return 3 if self.span == "year" else self.tertial

    def args(self, **changes) -> dict:
        """Query arguments that give this choice again (for links and exports)."""
        values = {"year": self.year, "tertial": self.tertial, "span": self.span, "unit": list(self.units),
                  "as_of": self.as_of.isoformat()}
        values.update(changes)
        return values


def default_choice(today: date) -> ReportChoice:
    """The tertial that ended last: the one a tertial report is written about."""
    current = tertial_of(today)
    year, tertial = (today.year - 1, 3) if current == 1 else (today.year, current - 1)
    return ReportChoice(year, tertial, "tertial", (), today)


def parse_choice(args, today: date) -> tuple[ReportChoice, Errors]:
    """The choice in the query string, defaults for what is missing; unknown units are the caller's concern."""
    default = default_choice(today)
    errors = Errors()
    year = _int(args, "year", default.year, FIRST_YEAR, LAST_YEAR, _("Year"), errors)
    tertial = _int(args, "tertial", default.tertial, 1, 3, _("Tertial"), errors)
    span = args.get("span") or default.span
    if span not in SPANS:
        errors.add("span", _("Period: choose tertial, year to date or whole year."))
        span = default.span
    as_of = default.as_of
    text = (args.get("as_of") or "").strip()
    if text:
        try:
            as_of = date.fromisoformat(text)
        except ValueError:
            errors.add("as_of", _("Figures as of: “%(value)s” is not a date; write it as YYYY-MM-DD.", value=text))
        else:
            # Periods and the 12-month follow-up are counted from this date: far-off years overflow.
            if not FIRST_YEAR <= as_of.year <= LAST_YEAR:
                errors.add("as_of", _("Figures as of: give a date from %(low)s to %(high)s.",
                                      low=date(FIRST_YEAR, 1, 1).isoformat(), high=date(LAST_YEAR, 12, 31).isoformat()))
                as_of = default.as_of
    units = tuple(sorted({code for code in args.getlist("unit") if code}))
    return ReportChoice(year, tertial, span, units, as_of), errors


def _int(args, name: str, default: int, low: int, high: int, label: str, errors: Errors) -> int:
    text = (args.get(name) or "").strip()
    if not text:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        errors.add(name, _("%(field)s: give a whole number from %(low)s to %(high)s.", field=label, low=low,
                           high=high))
        return default
    return int(text)


def parse_targets(form) -> tuple[dict[str, int | None], Errors]:
    """Target per indicator in ten-thousandths (None = no target): shares in per cent, means as numbers."""
    errors = Errors()
    targets: dict[str, int | None] = {}
    for indicator in TARGET_INDICATORS:
        text = (form.get(indicator) or "").strip().replace(",", ".").replace("%", "").strip()
        if not text:
            targets[indicator] = None
            continue
        try:
            value = Decimal(text)
        except InvalidOperation:
            errors.add(indicator, _("“%(value)s” is not a number.", value=form.get(indicator)))
            continue
        if not value.is_finite():
            errors.add(indicator, _("“%(value)s” is not a number.", value=form.get(indicator)))
            continue
        if INDICATOR_KINDS[indicator] == "share":
            if not 0 <= value <= 100:
                errors.add(indicator, _("A share is given in per cent, from 0 to 100."))
                continue
            value = value / 100
        else:
            low, high = MEAN_RANGES[indicator]
            if not low <= value <= high:
                errors.add(indicator, _("Give a value from %(low)s to %(high)s.", low=low, high=high))
                continue
        scaled = value * TARGET_SCALE
        if scaled != scaled.to_integral_value():
            errors.add(indicator, _("Too many decimals."))
            continue
        targets[indicator] = int(scaled)
    return targets, errors
