"""Alerts for the therapist on open episodes (metrics.md §8)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from fitapp.scoring.instruments import TOTAL_MAX, TOTAL_MIN, is_alliance, is_outcome, is_scored
from fitapp.scoring.numbers import CONTEXT, FOUR_DECIMALS, mean, round_half_up
from fitapp.scoring.series import RatingPoint, SeriesSummary, order_points

ALLIANCE_LOW = Decimal("36.0")
ALLIANCE_DROP = Decimal("1.0")
NO_PROGRESS_SESSIONS = 4
MIN_REFERENCE_SERIES = 30
LOWER_PERCENTILE = Decimal("0.25")
BAND_WIDTH = 5
ALERT_KINDS = ("alliance_low", "alliance_drop", "deterioration", "no_progress", "below_expected")


@dataclass(frozen=True)
class Alert:
    """One alert; ``detail`` is a short English explanation for logs and tooltips."""

    kind: str
    detail: str
    instrument: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ALERT_KINDS:
            raise ValueError(f"unknown alert kind {self.kind!r}")


@dataclass(frozen=True)
class TrajectoryPoint:
    """Expected total at one session index (0 = intake) and how many series reached it."""

    index: int
    n_series: int
    mean: Decimal
    lower_quartile: Decimal


@dataclass(frozen=True)
class Trajectory:
    """Expected line from ``n_series`` closed paired reference series (metrics.md §8)."""

    n_series: int
    points: tuple[TrajectoryPoint, ...]

    def at(self, index: int) -> TrajectoryPoint | None:
        """The expected point at session index ``index``, if the line reaches it (metrics.md §8)."""
        return next((p for p in self.points if p.index == index), None)


def alliance_alerts(points: Sequence[RatingPoint], instrument: str = "SRS") -> list[Alert]:
    """Alliance alerts for one SRS/CSRS series of one rater (metrics.md §8).

    ``alliance_low`` when the latest total is below 36.0; ``alliance_drop``
    when it is 1.0 or more below the previous rating of the same series.
    YCSRS is not scored and never alerts.
    """
    if not is_alliance(instrument):
        raise ValueError(f"{instrument!r} is not an alliance instrument")
    ordered = order_points(points)
    if not is_scored(instrument) or not ordered:
        return []
    alerts = []
    latest = ordered[-1].total
    if latest < ALLIANCE_LOW:
        alerts.append(Alert("alliance_low", f"latest total {latest} is below {ALLIANCE_LOW}", instrument))
    if len(ordered) >= 2 and ordered[-2].total - latest >= ALLIANCE_DROP:
        alerts.append(Alert("alliance_drop", f"total fell from {ordered[-2].total} to {latest}", instrument))
    return alerts


def deterioration_alert(summary: SeriesSummary) -> bool:
    """Scored outcome series with d ≤ −RC so far (metrics.md §8)."""
    return _scored_outcome_with_norms(summary) and summary.change is not None and summary.change <= -summary.rc


def no_progress_alert(summary: SeriesSummary) -> bool:
    """By the 4th rating: d < RC in a series that started below the cutoff (metrics.md §8)."""
    return (
        _scored_outcome_with_norms(summary)
        and summary.n >= NO_PROGRESS_SESSIONS
        and summary.change < summary.rc
        and bool(summary.intake_clinical)
    )


def intake_band(score: Decimal) -> str:
    """5-point band of an intake total: "0-4.9", "5-9.9", …, "30-34.9", "35-40".

    metrics.md §8 speaks of an "intake band" without defining it; 5-point
    bands are our choice (narrow enough to compare like with like, wide
    enough to reach 30 series). 40.0 belongs to the top band.
    """
    if not TOTAL_MIN <= score <= TOTAL_MAX:
        raise ValueError(f"intake score {score} is outside {TOTAL_MIN}–{TOTAL_MAX}")
    low = min(int(score // BAND_WIDTH) * BAND_WIDTH, int(TOTAL_MAX) - BAND_WIDTH)
    high = f"{low + BAND_WIDTH - 1}.9" if low + BAND_WIDTH < TOTAL_MAX else str(int(TOTAL_MAX))
    return f"{low}-{high}"


def expected_trajectory(
    reference: Sequence[Sequence[Decimal]], min_series: int = MIN_REFERENCE_SERIES
) -> Trajectory | None:
    """Expected line from closed paired reference series (metrics.md §8).

    ``reference`` holds the ordered totals of each closed paired series of
    one instrument and intake band (the caller selects them). None with
    fewer than ``min_series`` series. At each session index the line gives
    the mean and the lower quartile of the series that reached it, and stops
    at the first index fewer than ``min_series`` series reached, so every
    point rests on as much data as the rule asks for. The quartile uses
    linear interpolation between order statistics (spreadsheets'
    PERCENTILE.INC), values rounded half-up to 4 decimals.
    """
    paired = [list(series) for series in reference if len(series) >= 2]
    if len(paired) < min_series:
        return None
    points = []
    for index in range(max(len(series) for series in paired)):
        totals = [series[index] for series in paired if len(series) > index]
        if len(totals) < min_series:
            break
        points.append(_trajectory_point(index, totals))
    return Trajectory(n_series=len(paired), points=tuple(points))


def below_expected(points: Sequence[RatingPoint], trajectory: Trajectory | None) -> bool:
    """True if the latest rating is below the line's lower quartile at its index (metrics.md §8).

    The index is the rating's position in the series (0 = intake). A single
    rating is not a trajectory and is never flagged; nor is an index the
    line does not reach.
    """
    ordered = order_points(points)
    if trajectory is None or len(ordered) < 2:
        return False
    expected = trajectory.at(len(ordered) - 1)
    return expected is not None and ordered[-1].total < expected.lower_quartile


def series_alerts(
    summary: SeriesSummary, points: Sequence[RatingPoint], trajectory: Trajectory | None = None
) -> list[Alert]:
    """All §8 alerts for one series of an open episode (metrics.md §8)."""
    if is_alliance(summary.instrument):
        return alliance_alerts(points, summary.instrument)
    instrument, change, rc = summary.instrument, summary.change, summary.rc
    alerts = []
    if deterioration_alert(summary):
        alerts.append(Alert("deterioration", f"change {change} is at or below −{rc}", instrument))
    if no_progress_alert(summary):
        alerts.append(Alert("no_progress", f"change {change} after {summary.n} ratings is below {rc}", instrument))
    if below_expected(points, trajectory):
        alerts.append(Alert("below_expected", "latest total is below the expected lower quartile", instrument))
    return alerts


def episode_alerts(
    series: Iterable[tuple[SeriesSummary, Sequence[RatingPoint]]],
    trajectories: Mapping[tuple[str, str], Trajectory] | None = None,
) -> list[Alert]:
    """Alerts for every series of an open episode (metrics.md §8).

    ``trajectories`` maps (instrument, intake band) to an expected line.
    """
    trajectories = trajectories or {}
    alerts = []
    for summary, points in series:
        trajectory = None
        if is_outcome(summary.instrument):
            trajectory = trajectories.get((summary.instrument, intake_band(summary.intake_score)))
        alerts.extend(series_alerts(summary, points, trajectory))
    return alerts


def _scored_outcome_with_norms(summary: SeriesSummary) -> bool:
    return is_outcome(summary.instrument) and is_scored(summary.instrument) and summary.rc is not None


def _trajectory_point(index: int, totals: Sequence[Decimal]) -> TrajectoryPoint:
    quartile = _percentile_inclusive(sorted(totals), LOWER_PERCENTILE)
    return TrajectoryPoint(
        index, len(totals), round_half_up(mean(totals), FOUR_DECIMALS), round_half_up(quartile, FOUR_DECIMALS)
    )


def _percentile_inclusive(ordered: Sequence[Decimal], p: Decimal) -> Decimal:
    position = CONTEXT.multiply(len(ordered) - 1, p)
    low = int(position)
    if low + 1 >= len(ordered):
        return ordered[low]
    step = CONTEXT.multiply(position - low, ordered[low + 1] - ordered[low])
    return CONTEXT.add(ordered[low], step)
