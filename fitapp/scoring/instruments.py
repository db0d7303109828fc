"""Instruments, items and totals (metrics.md §1).

Every score is a ``Decimal`` with one decimal: an item is a mark on a 10 cm
line read to the millimetre, and a total is the exact sum of four items.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from fitapp.scoring.numbers import ONE_DECIMAL

OUTCOME_INSTRUMENTS = ("ORS", "CORS", "YCORS")
ALLIANCE_INSTRUMENTS = ("SRS", "CSRS", "YCSRS")
ALL_INSTRUMENTS = OUTCOME_INSTRUMENTS + ALLIANCE_INSTRUMENTS
# YCORS and YCSRS have no published norms, so they are collected but never scored.
SCORED_INSTRUMENTS = frozenset({"ORS", "CORS", "SRS", "CSRS"})

ITEMS_PER_RATING = 4
ITEM_MIN = Decimal("0.0")
ITEM_MAX = Decimal("10.0")
TOTAL_MIN = ITEM_MIN * ITEMS_PER_RATING
TOTAL_MAX = ITEM_MAX * ITEMS_PER_RATING

SCALES = ("outcome", "alliance")


@dataclass(frozen=True)
class Instrument:
    """One row of the instrument table in metrics.md §1."""

    code: str
    name: str
    scale: str
    items: int
    item_min: Decimal
    item_max: Decimal
    scored: bool


INSTRUMENTS: dict[str, Instrument] = {
    row.code: row
    for row in (
        Instrument("ORS", "outcome scale, adults and youth 13+", "outcome", 4, ITEM_MIN, ITEM_MAX, True),
        Instrument("CORS", "outcome scale, children 6–12", "outcome", 4, ITEM_MIN, ITEM_MAX, True),
        Instrument("YCORS", "outcome scale, children ≤5", "outcome", 4, ITEM_MIN, ITEM_MAX, False),
        Instrument("SRS", "session/alliance scale, 13+", "alliance", 4, ITEM_MIN, ITEM_MAX, True),
        Instrument("CSRS", "session/alliance scale, 6–12", "alliance", 4, ITEM_MIN, ITEM_MAX, True),
        Instrument("YCSRS", "session/alliance scale, ≤5", "alliance", 4, ITEM_MIN, ITEM_MAX, False),
    )
}

_DEFAULT_BY_SCALE = {"outcome": ("YCORS", "CORS", "ORS"), "alliance": ("YCSRS", "CSRS", "SRS")}

# ASCII digits only: str.isdigit and \d also accept other scripts' digits.
_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?", re.ASCII)


class InvalidValue(ValueError):
    """A score that is not acceptable input (metrics.md §1).

    ``code`` is one of ``empty``, ``not_a_number``, ``out_of_range``,
    ``too_many_decimals``, so callers can translate the message.
    """

    CODES = frozenset({"empty", "not_a_number", "out_of_range", "too_many_decimals"})

    def __init__(self, code: str, message: str) -> None:
        if code not in self.CODES:
            raise ValueError(f"unknown InvalidValue code {code!r}")
        super().__init__(message)
        self.code = code


def is_outcome(code: str) -> bool:
    """True for ORS, CORS and YCORS (metrics.md §1, "used for")."""
    return code in OUTCOME_INSTRUMENTS


def is_alliance(code: str) -> bool:
    """True for SRS, CSRS and YCSRS (metrics.md §1, "used for")."""
    return code in ALLIANCE_INSTRUMENTS


def is_scored(code: str) -> bool:
    """True for instruments with published norms (metrics.md §1, "scored")."""
    return code in SCORED_INSTRUMENTS


def parse_item(text: str | int | Decimal) -> Decimal:
    """Parse one item, 0.0–10.0 with at most one decimal (metrics.md §1).

    Accepts ``"7"``, ``"7.0"``, ``"7,0"`` and surrounding spaces; returns
    ``Decimal("7.0")``. Never clips or rounds: bad input raises
    :class:`InvalidValue`. Trailing zeros (``"7.50"``) are accepted because
    they do not add precision.
    """
    return _parse_score(text, ITEM_MIN, ITEM_MAX, "item")


def parse_total(text: str | int | Decimal) -> Decimal:
    """Parse a given total, 0.0–40.0 with at most one decimal (metrics.md §1)."""
    return _parse_score(text, TOTAL_MIN, TOTAL_MAX, "total")


def total(items: Sequence[Decimal]) -> Decimal:
    """Sum of exactly four valid items, with one decimal (metrics.md §1)."""
    if len(items) != ITEMS_PER_RATING:
        raise ValueError(f"a rating has {ITEMS_PER_RATING} items, got {len(items)}")
    return sum((parse_item(item) for item in items), Decimal("0.0")).quantize(ONE_DECIMAL)


def default_instrument(age: int | None, scale: str) -> str:
    """Instrument suggested for a person's age (metrics.md §1, age in the names).

    ``scale`` is ``"outcome"`` or ``"alliance"``. Age ≤ 5 gives the young
    children's version, 6–12 the children's, 13 and over or unknown the adult one.
    """
    if scale not in _DEFAULT_BY_SCALE:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    young, child, adult = _DEFAULT_BY_SCALE[scale]
    if age is None or age >= 13:
        return adult
    if age >= 6:
        return child
    return young


def _parse_score(value: str | int | Decimal, low: Decimal, high: Decimal, what: str) -> Decimal:
    number = _to_decimal(value, what)
    if not low <= number <= high:
        raise InvalidValue("out_of_range", f"{what} {value!r} is outside {low}–{high}")
    if number != number.quantize(ONE_DECIMAL):
        raise InvalidValue("too_many_decimals", f"{what} {value!r} has more than one decimal")
    result = number.quantize(ONE_DECIMAL)
    # "-0" is a valid zero but should not come back as Decimal("-0.0").
    return result.copy_abs() if result == 0 else result


def _to_decimal(value: str | int | Decimal, what: str) -> Decimal:
    # bool is an int subclass; True is not a score.
    if isinstance(value, bool):
        raise InvalidValue("not_a_number", f"{what} {value!r} is not a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidValue("not_a_number", f"{what} {value!r} is not a number")
        return value
    if not isinstance(value, str):
        # Floats are refused on purpose: they cannot say whether 0.1 was typed.
        raise TypeError(f"{what} must be str, int or Decimal, not {type(value).__name__}")
    text = value.strip()
    if not text:
        raise InvalidValue("empty", f"{what} is empty")
    text = text.replace(",", ".", 1) if text.count(",") == 1 and "." not in text else text
    if not _NUMBER.fullmatch(text):
        raise InvalidValue("not_a_number", f"{what} {value!r} is not a number")
    return Decimal(text)
