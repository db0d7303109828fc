"""Geometry of the report charts: a trend over years and bars across units.

Pure (no Flask): templates/reports/_charts.html only draws what is computed
here. Values arrive already suppressed; a None value (hidden, no data, no
comparison) gets no point or bar, and the template writes why instead.
Shares are drawn on 0–100 %; means on a "nice" scale that includes 0.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from fitapp.charts import Frame

NICE_STEPS = (1, 2, 2.5, 5, 10)
# Room on the left for "100 %" and above the top point for its value label.
TREND_FRAME = Frame(left=64, top=32)
TICKS_WANTED = 4


@dataclass(frozen=True)
class Axis:
    """Value range drawn and its ticks."""

    low: float
    high: float
    ticks: tuple[float, ...]

    def position(self, value: float, start: float, end: float) -> float:
        """Where ``value`` lies between pixel ``start`` (low) and ``end`` (high)."""
        share = (value - self.low) / (self.high - self.low)
        return round(start + share * (end - start), 2)


def value_axis(values: Sequence[Decimal | None], kind: str) -> Axis:
    """0–1 in quarters for shares; otherwise a nice range over the values and 0."""
    if kind == "share":
        return Axis(0.0, 1.0, (0.0, 0.25, 0.5, 0.75, 1.0))
    shown = [float(v) for v in values if v is not None]
    low, high = min([0.0, *shown]), max([0.0, *shown])
    if high == low:
        high = low + 1.0
    raw = (high - low) / TICKS_WANTED
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(s * magnitude for s in NICE_STEPS if s * magnitude >= raw)
    low, high = math.floor(low / step) * step, math.ceil(high / step) * step
    count = round((high - low) / step)
    return Axis(low, high, tuple(round(low + i * step, 10) for i in range(count + 1)))


@dataclass(frozen=True)
class TrendPoint:
    label: str
    value: Decimal | None
    x: float
    y: float | None
    # The 95 % interval drawn as a whisker (low end's y, high end's y); None without one.
    whisker: tuple[float, float] | None = None


@dataclass(frozen=True)
class TrendChart:
    frame: Frame
    axis: Axis
    kind: str
    points: tuple[TrendPoint, ...]
    y_ticks: tuple[tuple[float, float], ...]
    # Polylines through consecutive shown points: a year without a value breaks the line.
    segments: tuple[str, ...]


def trend_chart(points: Sequence[tuple[str, Decimal | None]], kind: str, frame: Frame = TREND_FRAME,
                intervals: Sequence[tuple[float, float] | None] | None = None) -> TrendChart:
    """Points of (label, value) in time order, each label in the middle of an equal band.

    ``intervals``: per point its 95 % interval (low, high), drawn as a whisker
    (shares only: their axis is 0–100 %, so a whisker always fits).
    """
    if not points:
        raise ValueError("a trend chart needs at least one period")
    axis = value_axis([v for _, v in points], kind)
    band = frame.plot_width / len(points)
    drawn = []
    for i, (label, value) in enumerate(points):
        x = round(frame.plot_left + (i + 0.5) * band, 2)
        y = None if value is None else axis.position(float(value), frame.plot_bottom, frame.plot_top)
        interval = intervals[i] if intervals and kind == "share" and y is not None else None
        whisker = None if interval is None else (axis.position(interval[0], frame.plot_bottom, frame.plot_top),
                                                 axis.position(interval[1], frame.plot_bottom, frame.plot_top))
        drawn.append(TrendPoint(label, value, x, y, whisker))
    segments, current = [], []
    for point in drawn:
        if point.y is None:
            if len(current) > 1:
                segments.append(" ".join(current))
            current = []
        else:
            current.append(f"{point.x:g},{point.y:g}")
    if len(current) > 1:
        segments.append(" ".join(current))
    ticks = tuple((t, axis.position(t, frame.plot_bottom, frame.plot_top)) for t in axis.ticks)
    return TrendChart(frame, axis, kind, tuple(drawn), ticks, tuple(segments))


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal | None
    y: float
    height: float
    x: float
    width: float


@dataclass(frozen=True)
class BarChart:
    frame: Frame
    axis: Axis
    kind: str
    bars: tuple[Bar, ...]
    zero_x: float
    x_ticks: tuple[tuple[float, float], ...]


BAR_ROW = 30
BAR_GAP = 8


def bar_chart(bars: Sequence[tuple[str, Decimal | None]], kind: str, *, label_width: int = 96,
              width: int = 640) -> BarChart:
    """Horizontal bars from zero, one row per label; the frame grows with the number of bars."""
    if not bars:
        raise ValueError("a bar chart needs at least one bar")
    frame = Frame(width=width, height=16 + 36 + len(bars) * BAR_ROW, left=label_width, right=64, top=16, bottom=36)
    axis = value_axis([v for _, v in bars], kind)
    zero_x = axis.position(0.0, frame.plot_left, frame.plot_right)
    drawn = []
    for i, (label, value) in enumerate(bars):
        y = frame.plot_top + i * BAR_ROW + BAR_GAP / 2
        if value is None:
            drawn.append(Bar(label, None, y, BAR_ROW - BAR_GAP, zero_x, 0.0))
            continue
        end = axis.position(float(value), frame.plot_left, frame.plot_right)
        drawn.append(Bar(label, value, y, BAR_ROW - BAR_GAP, min(zero_x, end), round(abs(end - zero_x), 2)))
    ticks = tuple((t, axis.position(t, frame.plot_left, frame.plot_right)) for t in axis.ticks)
    return BarChart(frame, axis, kind, tuple(drawn), zero_x, ticks)
