"""Geometry of the outcome chart: totals per session against the cutoff.

Pure (no Flask): the Jinja macro in templates/cases/_chart.html only draws
what this module computes, so the coordinates are unit-tested here.

The reliable-change band is intake ± RC (metrics.md §2, §4): a later total
outside it is a reliable change. An alliance chart draws its totals against
the 36.0 line of metrics.md §8 instead of a cutoff.

x is the rating's place in the series, in the order the figures beside the
chart use (session date, then session number; metrics.md §3), drawn as bands of
equal width (the k-th rating sits in the middle of band k, so no point lies on
the y axis) and labelled with the session's date: a session whose date was
corrected moves to its place in time, and the line never runs back. y is the
total, 0 at the bottom of the plot and 40 at the top.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from fitapp.scoring.alerts import ALLIANCE_LOW
from fitapp.scoring.instruments import TOTAL_MAX, TOTAL_MIN

# Show at least this many places so a short series is not stretched across the chart.
MIN_SESSIONS_SHOWN = 5
# Up to this many places every place gets a tick; beyond it, the first and every fifth.
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
    """A drawn total: its place in the series (1, 2, …), and for a rating its session."""

    place: int
    total: Decimal
    x: float
    y: float
    session_date: date | None = None
    session_no: int | None = None


@dataclass(frozen=True)
class Tick:
    """An axis tick: a total on the y axis; on the x axis a place, labelled with its session's
    date (``label``; None beyond the series, where only the expected line reaches)."""

    value: int | Decimal
    position: float
    label: date | None = None


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


def outcome_chart(points: Sequence[tuple[date, int, Decimal]], cutoff: Decimal | None,
                  frame: Frame = Frame(), rc: Decimal | None = None, kind: str = "outcome") -> OutcomeChart:
    """Chart geometry for (session date, session number, total) triples and an optional cutoff.

    The triples are drawn in series order, (session date, session number), whatever order they
    come in. With ``rc`` the chart also has the band first total ± RC, clipped to the scale.
    """
    if not points:
        raise ValueError("a chart needs at least one point")
    ordered = sorted(points, key=lambda p: (p[0], p[1]))
    for _day, session_no, total in ordered:
        _check(session_no, total)
    shown = max(MIN_SESSIONS_SHOWN, len(ordered))
    chart_points = tuple(
        ChartPoint(place, total, session_x(place, shown, frame), total_y(total, frame), day, no)
        for place, (day, no, total) in enumerate(ordered, start=1)
    )
    return OutcomeChart(
        frame=frame,
        sessions_shown=shown,
        points=chart_points,
        x_ticks=tuple(Tick(place, session_x(place, shown, frame),
                           chart_points[place - 1].session_date if place <= len(chart_points) else None)
                      for place in session_ticks(shown)),
        y_ticks=tuple(Tick(value, total_y(value, frame)) for value in total_ticks()),
        cutoff=cutoff,
        cutoff_y=None if cutoff is None else total_y(cutoff, frame),
        kind=kind,
        **_band(ordered[0][2], rc, frame),
    )


def alliance_chart(points: Sequence[tuple[date, int, Decimal]], frame: Frame = Frame()) -> OutcomeChart:
    """Alliance totals per session against the 36.0 line (metrics.md §8)."""
    return outcome_chart(points, ALLIANCE_LOW, frame, kind="alliance")


def with_expected(chart: OutcomeChart, expected: Sequence[tuple[Decimal, Decimal]]) -> OutcomeChart:
    """The chart with an expected line: (mean, lower quartile) per place, from the first total on
    (metrics.md §8): the k-th pair is drawn at the series' k-th rating.

    Pairs beyond the places the chart shows are left out, so the expected line never rescales
    the chart; fewer than two points left draw no line.
    """
    for mean, lower in expected:
        _check(1, mean)
        _check(1, lower)
    shown = list(enumerate(expected, start=1))[:chart.sessions_shown]
    if len(shown) < 2:
        return chart
    frame = chart.frame
    return replace(
        chart,
        expected_mean=tuple(ChartPoint(place, m, session_x(place, chart.sessions_shown, frame), total_y(m, frame))
                            for place, (m, _) in shown),
        expected_lower=tuple(ChartPoint(place, q, session_x(place, chart.sessions_shown, frame), total_y(q, frame))
                             for place, (_, q) in shown),
    )


def _band(intake: Decimal, rc: Decimal | None, frame: Frame) -> dict:
    if rc is None:
        return {}
    high = min(Decimal(intake) + rc, TOTAL_MAX)
    low = max(Decimal(intake) - rc, TOTAL_MIN)
    return {"band_high": high, "band_low": low,
            "band_top_y": total_y(high, frame), "band_bottom_y": total_y(low, frame)}


def session_x(place: int, sessions_shown: int, frame: Frame) -> float:
    """Middle of band ``place`` of ``sessions_shown`` equal bands across the plot."""
    band = frame.plot_width / sessions_shown
    return _round(frame.plot_left + (place - 0.5) * band)


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
