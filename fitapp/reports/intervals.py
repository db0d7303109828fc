"""How sure the report pages' figures are: an interval per shown figure and a verdict per change.

Reads only what a page shows (a report row or cell after metrics.md §7.4):
a share's shown numerator and denominator, a mean's shown value and n. A
hidden figure ("<5") gets no interval and no test, so nothing here can tell
more than the figure itself. The arithmetic is in
:mod:`fitapp.scoring.uncertainty`.

Means: no protected figure carries a standard deviation (metrics.md §7.4
protects sums and counts only), so a mean's interval and Welch's test are
"kan inte prövas" rather than computed from exact data.
"""
from __future__ import annotations

from dataclasses import dataclass

from fitapp.scoring import uncertainty
from fitapp.scoring.uncertainty import Interval

NO_COMPARISON = "no_comparison"


@dataclass(frozen=True)
class FigureInterval:
    """The 95 % interval of a shown share or mean; ``interval`` None when it cannot be computed."""

    kind: str
    interval: Interval | None

    @property
    def computable(self) -> bool:
        return self.interval is not None


def _shown(cell) -> bool:
    return cell is not None and not cell.suppressed and cell.value is not None


def figure_interval(cell, sd: float | None = None) -> FigureInterval | None:
    """A shown share's Wilson interval, or a shown mean's t interval (None without ``sd``).

    None for a count, a hidden figure or an empty one (no denominator).
    """
    if not _shown(cell):
        return None
    if cell.kind == "share":
        return FigureInterval("share", uncertainty.wilson_interval(cell.numerator, cell.denominator))
    if cell.kind == "mean":
        return FigureInterval("mean", uncertainty.t_interval(float(cell.value), sd, cell.denominator))
    return None


@dataclass(frozen=True)
class Change:
    """A shown figure against the same period a year earlier.

    ``difference``: percentage points for a share, the mean's own unit for a
    mean (None when there is nothing to compare); ``verdict`` one of
    real_change, within_chance, not_testable, no_comparison.
    """

    kind: str
    difference: float | None
    test: str | None
    p_value: float | None
    verdict: str


def change(now, before, *, now_has_data: bool = True, before_has_data: bool = True,
           sd_now: float | None = None, sd_before: float | None = None) -> Change | None:
    """The change from ``before`` to ``now`` (cells of one indicator); None for counts.

    Shares: Fisher's exact test or the z test (metrics of
    :func:`fitapp.scoring.uncertainty.two_proportion_test`); means: Welch's
    t test, which needs both SDs. A period with no data gives "no
    comparison"; a hidden or empty figure "not testable".
    """
    cell = now if now is not None else before
    if cell is None or cell.kind not in ("share", "mean"):
        return None
    kind = cell.kind
    if not (now_has_data and before_has_data) or now is None or before is None:
        return Change(kind, None, None, None, NO_COMPARISON)
    if not (_shown(now) and _shown(before)):
        return Change(kind, None, None, None, uncertainty.NOT_TESTABLE)
    if kind == "share":
        difference = uncertainty.percentage_points(now.numerator / now.denominator,
                                                   before.numerator / before.denominator)
        result = uncertainty.two_proportion_test(now.numerator, now.denominator,
                                                 before.numerator, before.denominator)
    else:
        difference = float(now.value) - float(before.value)
        result = uncertainty.welch_test(float(now.value), sd_now, now.denominator,
                                        float(before.value), sd_before, before.denominator)
    return Change(kind, difference, result.test if result else None, result.p_value if result else None,
                  uncertainty.verdict(result))
