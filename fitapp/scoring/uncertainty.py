"""How sure a shown figure is: 95 % intervals and tests of a change (issue 15 item 3).

Pure arithmetic on the figures *as shown* (metrics.md §7.4): a protected
share's protected numerator and denominator, a protected mean's value and
protected n. Nothing here sees an exact count, so an interval tells a reader
nothing the figure beside it does not.

- A share's interval is the Wilson score interval (Wilson 1927), which
  keeps inside 0–1 and behaves at small n and at 0 % or 100 %.
- A mean's interval is the t interval mean ± t(0.975, n − 1)·s/√n; it needs
  the sample SD s, which no protected figure carries today, so the caller
  passes None and gets None ("kan inte prövas").
- Two shares: Fisher's exact test when any expected cell of the 2×2 table is
  below 5 (Cochran's rule), else the two-proportion z test with the pooled
  proportion; two means: Welch's t test. Two-sided, 5 %.

Floats are fine here: these are statements about uncertainty, shown with one
decimal, never figures a reader recomputes from the export (metrics.md §1's
"no floats" is about scores and their sums).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from scipy import stats

CONFIDENCE = 0.95
ALPHA = 0.05
# Cochran's rule for a 2×2 table: the normal approximation needs every expected count ≥ 5.
COCHRAN_MIN_EXPECTED = 5.0

FISHER = "fisher"
Z_TEST = "z"
WELCH = "welch"

REAL_CHANGE = "real_change"
WITHIN_CHANCE = "within_chance"
NOT_TESTABLE = "not_testable"


@dataclass(frozen=True)
class Interval:
    """A confidence interval [low, high] at ``CONFIDENCE``."""

    low: float
    high: float


@dataclass(frozen=True)
class TestResult:
    """A two-sided test of "no change": which test, its p-value, and the verdict at ``ALPHA``."""

    test: str
    p_value: float

    @property
    def verdict(self) -> str:
        """``REAL_CHANGE`` ("verklig förändring") only when p < 5 %, else ``WITHIN_CHANCE``."""
        return REAL_CHANGE if self.p_value < ALPHA else WITHIN_CHANCE


@lru_cache(maxsize=1)
def _z() -> float:
    """The two-sided normal quantile of ``CONFIDENCE`` (1.959964…)."""
    return float(stats.norm.ppf(1 - (1 - CONFIDENCE) / 2))


@lru_cache(maxsize=4096)
def _t(df: int) -> float:
    """The two-sided t quantile of ``CONFIDENCE`` with ``df`` degrees of freedom."""
    return float(stats.t.ppf(1 - (1 - CONFIDENCE) / 2, df))


def wilson_interval(successes: int, n: int) -> Interval | None:
    """The Wilson score interval of successes/n; None when n is 0 (no share to be sure of).

    centre = (p + z²/2n) / (1 + z²/n), half-width = z·√(p(1−p)/n + z²/4n²) / (1 + z²/n).
    """
    if n <= 0:
        return None
    if not 0 <= successes <= n:
        raise ValueError(f"successes {successes} outside 0..{n}")
    z = _z()
    p = successes / n
    z2n = z * z / n
    denominator = 1 + z2n
    centre = (p + z2n / 2) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2n / (4 * n)) / denominator
    # At 0 % and 100 % the interval touches its end exactly; float rounding must not move it off.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return Interval(low, high)


def t_interval(mean: float, sd: float | None, n: int) -> Interval | None:
    """mean ± t(0.975, n − 1)·sd/√n; None without an SD or with fewer than 2 values."""
    if sd is None or n < 2 or sd < 0:
        return None
    half = _t(n - 1) * sd / math.sqrt(n)
    return Interval(mean - half, mean + half)


def expected_cells(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float, float, float]:
    """Expected counts of the 2×2 table (successes, failures) × (period 1, period 2) under "no change"."""
    total = n1 + n2
    pooled = (x1 + x2) / total
    return n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled)


def two_proportion_test(x1: int, n1: int, x2: int, n2: int) -> TestResult | None:
    """Is x1/n1 different from x2/n2? Fisher's exact test when Cochran's rule fails, else the z test.

    None when either share has no denominator. With every case a success (or
    every case a failure) in both periods nothing differs: p = 1.
    """
    if n1 <= 0 or n2 <= 0:
        return None
    for x, n in ((x1, n1), (x2, n2)):
        if not 0 <= x <= n:
            raise ValueError(f"successes {x} outside 0..{n}")
    if min(expected_cells(x1, n1, x2, n2)) < COCHRAN_MIN_EXPECTED:
        _, p = stats.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]], alternative="two-sided")
        return TestResult(FISHER, min(1.0, float(p)))
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = (x1 / n1 - x2 / n2) / se  # se > 0: Cochran's rule passed, so both outcomes occur
    return TestResult(Z_TEST, float(2 * stats.norm.sf(abs(z))))


def welch_test(mean1: float, sd1: float | None, n1: int, mean2: float, sd2: float | None, n2: int
               ) -> TestResult | None:
    """Welch's t test of two means from their summaries; None without both SDs or with n < 2."""
    if sd1 is None or sd2 is None or n1 < 2 or n2 < 2:
        return None
    v1, v2 = sd1 * sd1 / n1, sd2 * sd2 / n2
    if v1 + v2 == 0:
        return TestResult(WELCH, 1.0 if mean1 == mean2 else 0.0)
    result = stats.ttest_ind_from_stats(mean1, sd1, n1, mean2, sd2, n2, equal_var=False)
    return TestResult(WELCH, float(result.pvalue))


def verdict(result: TestResult | None) -> str:
    """The words of a change: ``REAL_CHANGE``, ``WITHIN_CHANCE`` or ``NOT_TESTABLE`` (no test possible)."""
    return NOT_TESTABLE if result is None else result.verdict


def percentage_points(share_now: float, share_before: float) -> float:
    """A change in shares in percentage points (procentenheter): 0.59 − 0.47 is 12 points, not 12 %."""
    return (share_now - share_before) * 100
