"""Geometry of the outcome chart (fitapp/charts.py): coordinates checked by hand.

Default frame: plot area x 48–544 (width 496), y 16–216 (height 200).
At least five places are shown, so a band is 496 / 5 = 99.2 wide.
Points are (session date, session number, total); ``pts`` numbers sessions a week apart.
"""
from datetime import date, timedelta
from decimal import Decimal

import pytest

from fitapp.charts import (
    Frame, outcome_chart, session_ticks, session_x, total_y, with_expected,
)

D = Decimal
START = date(2026, 1, 12)


def pts(*pairs):
    """(session number, total) pairs as triples, session n on START + n - 1 weeks."""
    return [(START + timedelta(weeks=no - 1), no, D(total)) for no, total in pairs]


def test_points_sit_in_the_middle_of_their_session_band_and_scale_0_to_40():
    chart = outcome_chart(pts((1, D("25.0")), (2, D("31.5"))), D("32.0"))
    assert chart.sessions_shown == 5
    assert [(p.x, p.y) for p in chart.points] == [(97.6, 91.0), (196.8, 58.5)]
    assert chart.polyline == "97.6,91 196.8,58.5"


def test_cutoff_line_is_at_its_total():
    assert outcome_chart(pts((1, D("20.0"))), D("28.0")).cutoff_y == 216 - 28 * 5
    assert outcome_chart(pts((1, D("20.0"))), D("25.0")).cutoff_y == 91.0


def test_no_cutoff_means_no_line():
    chart = outcome_chart(pts((1, D("20.0"))), None)
    assert chart.cutoff is None and chart.cutoff_y is None


def test_axes_have_ticks_every_ten_points_and_every_session():
    chart = outcome_chart(pts((1, D("0.0")), (3, D("40.0"))), D("32.0"))
    assert [(int(t.value), t.position) for t in chart.y_ticks] == [
        (0, 216.0), (10, 166.0), (20, 116.0), (30, 66.0), (40, 16.0)
    ]
    assert [t.value for t in chart.x_ticks] == [1, 2, 3, 4, 5]
    # Ticks are labelled with their rating's session date; places beyond the series have none.
    assert [t.label for t in chart.x_ticks] == [date(2026, 1, 12), date(2026, 1, 26), None, None, None]
    assert chart.x_ticks[-1].position == 494.4
    assert (chart.points[0].y, chart.points[1].y) == (216.0, 16.0)


def test_long_series_widen_the_axis_and_thin_the_ticks():
    points = pts(*[(n, "20.0") for n in range(1, 15)])
    chart = outcome_chart(points, D("28.0"))
    assert chart.sessions_shown == 14
    assert [t.value for t in chart.x_ticks] == [1, 5, 10]
    assert chart.points[-1].x == round(48 + 13.5 * 496 / 14, 2)
    assert session_ticks(12) == list(range(1, 13))


def test_points_are_places_in_the_series_so_a_gap_in_session_numbers_leaves_no_hole():
    chart = outcome_chart(pts((1, D("20.0")), (4, D("22.0"))), None)
    assert [(p.place, p.session_no, p.x) for p in chart.points] == [(1, 1, 97.6), (2, 4, 196.8)]


def test_a_corrected_date_moves_the_point_to_its_place_in_time():
    # Session 2 was entered as 2026-03-02 by mistake, after session 3 of 2026-01-26: the series
    # (metrics.md §3) and therefore the chart order by date, then number, so the line never runs back.
    points = [(date(2026, 1, 12), 1, D("20.0")), (date(2026, 3, 2), 2, D("30.0")), (date(2026, 1, 26), 3, D("25.0"))]
    chart = outcome_chart(points, None)
    assert [p.session_no for p in chart.points] == [1, 3, 2]
    assert [p.x for p in chart.points] == sorted(p.x for p in chart.points)
    assert [t.label for t in chart.x_ticks[:3]] == [date(2026, 1, 12), date(2026, 1, 26), date(2026, 3, 2)]
    # The same day twice: the session number decides.
    same_day = outcome_chart([(date(2026, 1, 12), 2, D("22.0")), (date(2026, 1, 12), 1, D("20.0"))], None)
    assert [p.session_no for p in same_day.points] == [1, 2]


def test_coordinates_follow_the_frame():
    frame = Frame(width=100, height=100, left=0, right=0, top=0, bottom=0)
    assert session_x(1, 5, frame) == 10.0
    assert session_x(5, 5, frame) == 90.0
    assert total_y(D("20.0"), frame) == 50.0
    assert total_y(D("40.0"), frame) == 0.0


@pytest.mark.parametrize("points", [[], pts((0, "20.0")), pts((1, "40.1")), pts((1, "-0.1"))])
def test_impossible_input_is_refused(points):
    with pytest.raises(ValueError):
        outcome_chart(points, D("28.0"))


def test_chart_geometry_imports_no_web_or_database_code():
    import ast
    from pathlib import Path

    import fitapp.charts

    tree = ast.parse(Path(fitapp.charts.__file__).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    roots = {name.split(".")[0] for name in imported}
    assert roots.isdisjoint({"flask", "flask_babel", "flask_login", "sqlalchemy", "jinja2", "werkzeug"})
    assert "fitapp.scoring.instruments" in imported


def test_the_reliable_change_band_is_centred_on_the_intake_and_clipped_to_the_scale():
    from fitapp.charts import alliance_chart

    chart = outcome_chart(pts((1, Decimal("20.0")), (2, Decimal("26.0"))), Decimal("28.0"), rc=Decimal("5.0"))
    assert (chart.band_low, chart.band_high) == (Decimal("15.0"), Decimal("25.0"))
    assert (chart.band_top_y, chart.band_bottom_y) == (total_y(Decimal(25), Frame()), total_y(Decimal(15), Frame()))
    assert chart.band_height == 50
    high = outcome_chart(pts((1, Decimal("37.0"))), Decimal("28.0"), rc=Decimal("6.0"))
    assert (high.band_low, high.band_high) == (Decimal("31.0"), Decimal("40.0"))
    assert outcome_chart(pts((1, Decimal("20.0"))), None).band_high is None
    alliance = alliance_chart(pts((1, Decimal("35.0"))))
    assert (alliance.kind, alliance.cutoff, alliance.band_high) == ("alliance", Decimal("36.0"), None)


# ---------------------------------------------------------------- expected change (metrics.md §8)


def test_expected_line_has_a_mean_and_a_lower_quartile_point_per_place():
    chart = with_expected(outcome_chart(pts((1, D("20.0")), (2, D("22.0"))), D("25.0")),
                          [(D("20.0"), D("18.0")), (D("24.0"), D("21.5")), (D("26.0"), D("22.0"))])
    assert [(p.place, p.x, p.y) for p in chart.expected_mean] == [
        (1, 97.6, 116.0), (2, 196.8, 96.0), (3, 296.0, 86.0)
    ]
    assert [(p.x, p.y) for p in chart.expected_lower] == [(97.6, 126.0), (196.8, 108.5), (296.0, 106.0)]
    assert chart.expected_mean_polyline == "97.6,116 196.8,96 296,86"
    assert chart.expected_lower_polyline == "97.6,126 196.8,108.5 296,106"
    # The series itself is unchanged.
    assert chart.polyline == "97.6,116 196.8,106"


def test_expected_line_never_rescales_the_chart():
    expected = [(D("20.0"), D("18.0"))] * 8
    chart = with_expected(outcome_chart(pts((1, D("20.0"))), None), expected)
    assert chart.sessions_shown == 5
    assert [p.place for p in chart.expected_mean] == [1, 2, 3, 4, 5]


def test_the_expected_line_follows_the_series_places_not_its_session_numbers():
    # Ratings at sessions 2, 4 and 5: the reference's k-th point belongs to the k-th rating.
    chart = with_expected(outcome_chart(pts((2, "20.0"), (4, "21.0"), (5, "23.0")), None),
                          [(D("20.0"), D("18.0")), (D("22.0"), D("19.0"))])
    assert [p.x for p in chart.expected_mean] == [p.x for p in chart.points[:2]]


def test_fewer_than_two_expected_points_on_the_chart_draw_no_line():
    chart = outcome_chart(pts((5, D("20.0"))), None)
    assert with_expected(chart, [(D("20.0"), D("18.0"))]) == chart
    assert chart.expected_mean == () and chart.expected_mean_polyline == ""


def test_expected_totals_must_be_on_the_scale():
    with pytest.raises(ValueError):
        with_expected(outcome_chart(pts((1, D("20.0"))), None), [(D("41.0"), D("18.0")), (D("20"), D("18"))])
