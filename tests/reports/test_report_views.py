"""Pure parts of the report pages: the protected intake table, chart geometry, targets."""
from datetime import date
from decimal import Decimal

import pytest

from fitapp.reports import views
from fitapp.reports.charts import bar_chart, trend_chart, value_axis
from fitapp.scoring.ckm import KEY_MODULUS, default_ptable
from fitapp.scoring.protection import Protection
from fitapp.scoring.indicators import Cell, IndexPerson
from fitapp.scoring.series import SeriesSummary

D = Decimal


def _person(i: int, category: str, clinical: bool, key: int = 0) -> IndexPerson:
    series = SeriesSummary("ORS", 2, date(2025, 1, 1), D("20.0"), date(2025, 2, 1), D("25.0"), D("5.0"),
                           D("28"), D("5"), clinical, category, "pcoms-2003")
    return IndexPerson(i, i, 2010, "female", date(2025, 1, 1), "FAMBEH", True, series, False, key)


# Clinical: 5 recovered, 5 improved, 2 unchanged; non-clinical: 6 improved, 1 deteriorated.
PLAN = [("recovered", True, 5), ("improved", True, 5), ("unchanged", True, 2), ("improved", False, 6),
        ("deteriorated", False, 1)]


def _persons(first_key: int = 7) -> list[IndexPerson]:
    persons, i = [], 0
    for category, clinical, count in PLAN:
        for _ in range(count):
            persons.append(_person(i, category, clinical, key=(first_key + 104_729 * i) % KEY_MODULUS))
            i += 1
    return persons


def _key_sum(persons, clinical: bool, category: str | None) -> tuple[int, int]:
    members = [p for p in persons if p.index_series.intake_clinical == clinical
               and (category is None or p.index_series.category == category)]
    return len(members), sum(p.record_key for p in members)


def test_exact_intake_table_shows_every_count_and_share():
    rows = {row.group: row for row in views.intake_category_table([_persons()], None, one_cell=True)}
    clinical, non_clinical = rows["clinical"], rows["non_clinical"]
    assert (clinical.total.count, clinical.categories["recovered"].count) == (12, 5)
    assert clinical.categories["recovered"].share == D("0.4167")
    assert non_clinical.categories["deteriorated"].count == 1 and not non_clinical.categories["deteriorated"].suppressed
    assert not non_clinical.categories["recovered"].possible
    assert clinical.categories["deteriorated"].count == 0


def test_protected_intake_counts_follow_the_table_and_hide_1_to_4():
    table = default_ptable()
    persons = _persons()
    rows = {row.group: row for row in views.intake_category_table([persons], Protection(table, 5), one_cell=True)}
    for group, clinical in (("clinical", True), ("non_clinical", False)):
        n, keys = _key_sum(persons, clinical, None)
        total = table.perturb(n, keys % KEY_MODULUS)
        assert rows[group].total.suppressed == (0 < total < 5)
        for category in views.CATEGORY_COLUMNS:
            figure = rows[group].categories[category]
            if not figure.possible:
                continue
            n, keys = _key_sum(persons, clinical, category)
            protected = table.perturb(n, keys % KEY_MODULUS)
            assert figure.suppressed == (0 < protected < 5), (group, category)
            if not figure.suppressed:
                assert figure.count == (min(protected, total) if total >= 5 else protected)
            if n == 0:
                assert (figure.count, figure.suppressed) == (0, False)  # zero stays zero


def test_chosen_units_add_up_their_protected_intake_counts():
    table = default_ptable()
    first, second = _persons(7), _persons(11)
    protection = Protection(table, 3)
    alone = [{row.group: row for row in views.intake_category_table([p], protection, one_cell=True)}
             for p in (first, second)]
    summed = {row.group: row for row in views.intake_category_table([first, second], protection, one_cell=False)}
    for group, clinical in (("clinical", True), ("non_clinical", False)):
        protected = [table.perturb(*(lambda n, k: (n, k % KEY_MODULUS))(*_key_sum(p, clinical, None)))
                     for p in (first, second)]
        assert summed[group].total.count == sum(protected)
        assert all(a[group].total.count in (None, x) for a, x in zip(alone, protected))


def test_trend_chart_breaks_the_line_where_a_year_has_no_value():
    chart = trend_chart([("2022", D("0.5")), ("2023", None), ("2024", D("0.6")), ("2025", D("0.7"))], "share")
    assert [p.y is None for p in chart.points] == [False, True, False, False]
    assert len(chart.segments) == 1 and chart.segments[0].count(",") == 2
    assert chart.points[0].y == chart.frame.plot_bottom - 0.5 * chart.frame.plot_height
    with pytest.raises(ValueError):
        trend_chart([], "share")


def test_trend_chart_draws_a_share_s_interval_as_a_whisker_at_its_ends():
    chart = trend_chart([("2024", D("0.5")), ("2025", None), ("2026", D("0.9"))], "share",
                        intervals=[(0.25, 0.75), None, (0.7864, 0.9565)])
    f = chart.frame
    first, missing, last = chart.points
    assert first.whisker == (f.plot_bottom - 0.25 * f.plot_height, f.plot_bottom - 0.75 * f.plot_height)
    assert missing.whisker is None
    assert last.whisker == (round(f.plot_bottom - 0.7864 * f.plot_height, 2),
                            round(f.plot_bottom - 0.9565 * f.plot_height, 2))
    # A mean has no interval to draw (no protected standard deviation), whatever is passed.
    assert trend_chart([("2026", D("2.5"))], "mean", intervals=[(1.0, 4.0)]).points[0].whisker is None


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
