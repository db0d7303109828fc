"""Pure parts of the report pages: protection of the intake table, chart geometry, targets."""
from datetime import date
from decimal import Decimal

import pytest

from fitapp.reports import views
from fitapp.reports.charts import bar_chart, trend_chart, value_axis
from fitapp.scoring.indicators import Cell, IndexPerson
from fitapp.scoring.series import SeriesSummary

D = Decimal


def _person(i: int, category: str, clinical: bool) -> IndexPerson:
    series = SeriesSummary("ORS", 2, date(2025, 1, 1), D("20.0"), date(2025, 2, 1), D("25.0"), D("5.0"),
                           D("28"), D("5"), clinical, category, "pcoms-2003")
    return IndexPerson(i, i, 2010, "female", date(2025, 1, 1), "FAMBEH", True, series, False, False)


def _published(**shown):
    return {name: Cell("all", "all", name, "share", 1, 1, D(1), suppressed=not visible)
            for name, visible in shown.items()}


def test_protect_hides_a_second_cell_wherever_a_line_has_one_hidden():
    values = {"a": 3, "b": 6, "c": 7, "total": 16}
    assert views.protect(values, [["a", "b", "c", "total"]], set(), 5) == {"a", "b"}
    # A cell published elsewhere is never the one hidden in addition.
    assert views.protect(values, [["a", "b", "c", "total"]], {"b"}, 5) == {"a", "c"}
    # Zero is shown and never chosen: 0 + hidden = known total would give it away, so the next non-zero goes.
    assert views.protect({"a": 0, "b": 2, "c": 9}, [["a", "b", "c"]], set(), 5) == {"b", "c"}


def test_protect_repeats_until_no_line_has_a_lone_hidden_cell():
    values = {"a": 2, "b": 5, "c": 6, "d": 7}
    lines = [["a", "b"], ["b", "d"], ["c", "d"]]
    hidden = views.protect(values, lines, set(), 5)
    assert all(sum(k in hidden for k in line) != 1 for line in lines)
    assert hidden == {"a", "b", "d", "c"}


def test_intake_table_hides_subtractable_counts():
    # Clinical: 5 recovered, 5 improved, 2 unchanged; non-clinical: 6 improved, 1 deteriorated.
    persons = ([_person(i, "recovered", True) for i in range(5)] + [_person(10 + i, "improved", True) for i in range(5)]
               + [_person(20 + i, "unchanged", True) for i in range(2)]
               + [_person(30 + i, "improved", False) for i in range(6)] + [_person(40, "deteriorated", False)])
    published = _published(paired=True, recovered=True, reliable_improvement=True, deteriorated=True)
    rows = {row.group: row for row in views.intake_category_table(persons, published, 5)}
    clinical, non_clinical = rows["clinical"], rows["non_clinical"]
    assert clinical.total.count == 12 and clinical.categories["recovered"].count == 5  # both published
    assert clinical.categories["unchanged"].suppressed and non_clinical.categories["deteriorated"].suppressed
    # Each line with a hidden cell has at least two.
    assert clinical.categories["improved"].suppressed
    assert non_clinical.total.suppressed or non_clinical.categories["improved"].suppressed
    assert not non_clinical.categories["recovered"].possible
    assert clinical.categories["recovered"].share == D("0.4167")


def test_trend_chart_breaks_the_line_where_a_year_has_no_value():
    chart = trend_chart([("2022", D("0.5")), ("2023", None), ("2024", D("0.6")), ("2025", D("0.7"))], "share")
    assert [p.y is None for p in chart.points] == [False, True, False, False]
    assert len(chart.segments) == 1 and chart.segments[0].count(",") == 2
    assert chart.points[0].y == chart.frame.plot_bottom - 0.5 * chart.frame.plot_height
    with pytest.raises(ValueError):
        trend_chart([], "share")


def test_bars_start_at_zero_and_hidden_values_get_none():
    chart = bar_chart([("UA", D("0.8")), ("UB", None), ("ALL", D("0.4"))], "share")
    ua, ub, total = chart.bars
    assert ua.x == chart.zero_x == chart.frame.plot_left and ua.width == pytest.approx(2 * total.width)
    assert ub.value is None and ub.width == 0
    negative = bar_chart([("UA", D("-2.5")), ("UB", D("4"))], "mean")
    assert negative.bars[0].x < negative.zero_x and negative.bars[1].x == negative.zero_x


def test_value_axis_includes_zero_and_uses_nice_steps():
    assert value_axis([D("36.1"), D("38")], "mean").ticks == (0.0, 10.0, 20.0, 30.0, 40.0)
    assert value_axis([None], "mean").ticks[-1] > 0
    assert value_axis([D("0.33")], "share").ticks == (0.0, 0.25, 0.5, 0.75, 1.0)


@pytest.mark.parametrize("indicator, value, target, status", [
    ("coverage", D("0.8"), D("0.9"), "not_met"),
    ("coverage", D("0.9"), D("0.9"), "met"),
    ("deteriorated", D("0.1"), D("0.15"), "met"),
    ("deteriorated", D("0.2"), D("0.15"), "not_met"),
    ("coverage", None, D("0.9"), "unknown"),
])
def test_target_status(indicator, value, target, status):
    cell = Cell("all", "all", indicator, "share", 1, 1, value)
    assert views.target_status(indicator, cell, target, {"deteriorated"}) == status
    assert views.target_status(indicator, cell, None, set()) is None
