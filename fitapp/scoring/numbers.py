"""Decimal arithmetic shared by the scoring modules (metrics.md §1: no floats)."""
from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Context, Decimal

# Ample precision for means, ratios and square roots before the final rounding.
CONTEXT = Context(prec=40)

ONE_DECIMAL = Decimal("0.1")
TWO_DECIMALS = Decimal("0.01")
FOUR_DECIMALS = Decimal("0.0001")


def round_half_up(value: Decimal, step: Decimal) -> Decimal:
    """``value`` rounded half-up to the exponent of ``step``.

    Used for the two-decimal norms of metrics.md §2 and the four-decimal
    report values of interchange.md ("Report file").
    """
    return value.quantize(step, rounding=ROUND_HALF_UP, context=CONTEXT)


def mean(values: Sequence[Decimal]) -> Decimal:
    """Arithmetic mean, unrounded (metrics.md §6: "Means are arithmetic means"); ``values`` must not be empty."""
    return CONTEXT.divide(sum(values, Decimal(0)), len(values))


def tenths(value: Decimal | None) -> int | None:
    """A score as whole tenths (None stays None); scores have one decimal (metrics.md §1).

    How scores are stored and summed exactly; a finer value is a caller's error, never truncated.
    """
    return _scaled(value, 1, "score", "one decimal")


def hundredths(value: Decimal | None) -> int | None:
    """A threshold as whole hundredths (None stays None); norms have two decimals (metrics.md §2)."""
    return _scaled(value, 2, "threshold", "two decimals")


def _scaled(value: Decimal | None, places: int, what: str, allowed: str) -> int | None:
    if value is None:
        return None
    scaled = value.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{what} {value} has more than {allowed}")
    return int(scaled)
