"""Geometry of the outcome chart: totals per session against the cutoff.

Pure (no Flask): the Jinja macro in templates/cases/_chart.html only draws
what this module computes, so the coordinates are unit-tested here.

The reliable-change band is intake ± RC (metrics.md §2, §4): a later total
outside it is a reliable change. An alliance chart draws its totals against
the 36.0 line of metrics.md §8 instead of a cutoff.

x is the session number, drawn as bands of equal width (session k sits in the
middle of band k, so no point lies on the y axis); y is the total, 0 at the
bottom of the plot and 40 at the top.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from fitapp.scoring.alerts import ALLIANCE_LOW
from fitapp.scoring.instruments import TOTAL_MAX, TOTAL_MIN

# Show at least this many sessions so a short series is not stretched across the chart.
MIN_SESSIONS_SHOWN = 5
# Up to this many sessions every session gets a tick; beyond it, session 1 and every fifth.
ALL_TICKS_UP_TO = 12
Y_TICK_STEP = Decimal(10)


@dataclass(frozen=True)
class Frame:
    """Size of the drawing and the margins around the plot area, in SVG user units."""

    width: int = 560
    height: int = 260
    left: int = 48
    right: int = 16
    top: int = 16
    bottom: int = 44

    @property
    def plot_left(self) -> int:
        return self.left

    @property
    def plot_right(self) -> int:
        return self.width - self.right

    @property
    def plot_top(self) -> int:
        return self.top

    @property
    def plot_bottom(self) -> int:
        return self.height - self.bottom

    @property
    def plot_width(self) -> int:
        return self.plot_right - self.plot_left

    @property
    def plot_height(self) -> int:
        return self.plot_bottom - self.plot_top


@dataclass(frozen=True)
class ChartPoint:
    session_no: int
    total: Decimal
    x: float
    y: float


@dataclass(frozen=True)
class Tick:
    value: int | Decimal
    position: float


@dataclass(frozen=True)
class OutcomeChart:
    frame: Frame
    sessions_shown: int
    points: tuple[ChartPoint, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    cutoff: Decimal | None
    cutoff_y: float | None
    # Reliable-change band around the intake: totals and y of its top and bottom edge.
    band_high: Decimal | None = None
    band_low: Decimal | None = None
    band_top_y: float | None = None
    band_bottom_y: float | None = None
    # "outcome": the line is the clinical cutoff; "alliance": the 36.0 line.
    kind: str = "outcome"
    # Expected change (metrics.md §8): the reference series' mean and lower quartile per session.
    expected_mean: tuple[ChartPoint, ...] = ()
    expected_lower: tuple[ChartPoint, ...] = ()

    @property
    def band_height(self) -> float | None:
        return None if self.band_top_y is None else _round(self.band_bottom_y - self.band_top_y)

    @property
    def polyline(self) -> str:
        """The ``points`` attribute of an SVG polyline through all points."""
        return _polyline(self.points)

    @property
    def expected_mean_polyline(self) -> str:
        return _polyline(self.expected_mean)

    @property
    def expected_lower_polyline(self) -> str:
        return _polyline(self.expected_lower)


def outcome_chart(points: Sequence[tuple[int, Decimal]], cutoff: Decimal | None,
                  frame: Frame = Frame(), rc: Decimal | None = None, kind: str = "outcome") -> OutcomeChart:
    """Chart geometry for (session number, total) pairs, in series order, and an optional cutoff.

    With ``rc`` the chart also has the band intake ± RC, clipped to the scale.
    """
    if not points:
        raise ValueError("a chart needs at least one point")
    for session_no, total in points:
        _check(session_no, total)
    shown = max(MIN_SESSIONS_SHOWN, max(no for no, _ in points))
    chart_points = tuple(
        ChartPoint(no, total, session_x(no, shown, frame), total_y(total, frame)) for no, total in points
    )
    return OutcomeChart(
        frame=frame,
        sessions_shown=shown,
        points=chart_points,
        x_ticks=tuple(Tick(no, session_x(no, shown, frame)) for no in session_ticks(shown)),
        y_ticks=tuple(Tick(value, total_y(value, frame)) for value in total_ticks()),
        cutoff=cutoff,
        cutoff_y=None if cutoff is None else total_y(cutoff, frame),
        kind=kind,
        **_band(points[0][1], rc, frame),
    )


def alliance_chart(points: Sequence[tuple[int, Decimal]], frame: Frame = Frame()) -> OutcomeChart:
    """Alliance totals per session against the 36.0 line (metrics.md §8)."""
    return outcome_chart(points, ALLIANCE_LOW, frame, kind="alliance")


def with_expected(chart: OutcomeChart, expected: Sequence[tuple[int, Decimal, Decimal]]) -> OutcomeChart:
    """The chart with an expected line: (session number, mean, lower quartile) triples (metrics.md §8).

    Triples beyond the sessions the chart shows are left out, so the expected
    line never rescales the chart; fewer than two points left draw no line.
    """
    for session_no, mean, lower in expected:
        _check(session_no, mean)
        _check(session_no, lower)
    shown = [t for t in expected if t[0] <= chart.sessions_shown]
    if len(shown) < 2:
        return chart
    frame = chart.frame
    return replace(
        chart,
        expected_mean=tuple(ChartPoint(no, m, session_x(no, chart.sessions_shown, frame), total_y(m, frame))
                            for no, m, _ in shown),
        expected_lower=tuple(ChartPoint(no, q, session_x(no, chart.sessions_shown, frame), total_y(q, frame))
                             for no, _, q in shown),
    )


def expected_session_numbers(series_sessions: Sequence[int], length: int) -> list[int]:
    """Session numbers for the first ``length`` positions of a series (0 = intake).

    Positions the series has reached sit at its own sessions, so the expected
    point for the k-th rating is drawn above or below that rating; later ones
    continue one session at a time after its latest session.
    """
    if not series_sessions:
        raise ValueError("a series needs at least one session")
    known = list(series_sessions[:length])
    last = series_sessions[-1]
    return known + [last + i for i in range(1, length - len(known) + 1)]


def _band(intake: Decimal, rc: Decimal | None, frame: Frame) -> dict:
    if rc is None:
        return {}
    high = min(Decimal(intake) + rc, TOTAL_MAX)
    low = max(Decimal(intake) - rc, TOTAL_MIN)
    return {"band_high": high, "band_low": low,
            "band_top_y": total_y(high, frame), "band_bottom_y": total_y(low, frame)}


def session_x(session_no: int, sessions_shown: int, frame: Frame) -> float:
    """Middle of band ``session_no`` of ``sessions_shown`` equal bands across the plot."""
    band = frame.plot_width / sessions_shown
    return _round(frame.plot_left + (session_no - 0.5) * band)


def total_y(total: Decimal, frame: Frame) -> float:
    share = float((Decimal(total) - TOTAL_MIN) / (TOTAL_MAX - TOTAL_MIN))
    return _round(frame.plot_bottom - share * frame.plot_height)


def session_ticks(sessions_shown: int) -> list[int]:
    if sessions_shown <= ALL_TICKS_UP_TO:
        return list(range(1, sessions_shown + 1))
    return [1] + list(range(5, sessions_shown + 1, 5))


def total_ticks() -> list[Decimal]:
    steps = int((TOTAL_MAX - TOTAL_MIN) / Y_TICK_STEP)
    return [TOTAL_MIN + Y_TICK_STEP * i for i in range(steps + 1)]


def _check(session_no: int, total: Decimal) -> None:
    if session_no < 1:
        raise ValueError(f"session numbers start at 1, got {session_no}")
    if not TOTAL_MIN <= Decimal(total) <= TOTAL_MAX:
        raise ValueError(f"total {total} is outside {TOTAL_MIN}–{TOTAL_MAX}")


def _round(value: float) -> float:
    return round(value, 2)


def _polyline(points: Sequence[ChartPoint]) -> str:
    return " ".join(f"{_fmt(p.x)},{_fmt(p.y)}" for p in points)


def _fmt(value: float) -> str:
    return f"{value:g}"
