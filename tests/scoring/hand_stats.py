"""Textbook formulas for intervals and tests, with the standard library only (no SciPy).

The reference the SciPy-based fitapp.scoring.uncertainty is checked against:
math.comb for the hypergeometric, math.erfc for the normal, Simpson's rule on
the t density.
"""
import math

Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal, from the tables


def hand_wilson(x: int, n: int) -> tuple[float, float]:
    p = x / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 / (1 + Z95**2 / n) * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n))
    return centre - half, centre + half


def hand_fisher(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided Fisher p: the sum of the hypergeometric probabilities no larger than the observed one."""
    successes, total = x1 + x2, n1 + n2

    def prob(a: int) -> float:
        return math.comb(n1, a) * math.comb(n2, successes - a) / math.comb(total, successes)

    observed = prob(x1)
    support = range(max(0, successes - n2), min(n1, successes) + 1)
    return sum(prob(a) for a in support if prob(a) <= observed * (1 + 1e-7))


def hand_z_p(x1: int, n1: int, x2: int, n2: int) -> float:
    pooled = (x1 + x2) / (n1 + n2)
    z = (x1 / n1 - x2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return math.erfc(abs(z) / math.sqrt(2))


def t_density(t: float, df: float) -> float:
    return math.gamma((df + 1) / 2) / (math.sqrt(df * math.pi) * math.gamma(df / 2)) * (1 + t * t / df) ** (-(df + 1) / 2)


def hand_t_two_sided_p(t: float, df: float, steps: int = 20000) -> float:
    """2·(0.5 − ∫₀^|t| density): Simpson's rule, fine enough for six decimals."""
    h = abs(t) / steps
    area = t_density(0, df) + t_density(abs(t), df)
    area += sum((4 if i % 2 else 2) * t_density(i * h, df) for i in range(1, steps))
    return 2 * (0.5 - area * h / 3)
