"""Tertials and year to date: metrics.md §6 "Periods", labels per interchange.md "Report file"."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fitapp.scoring.periods import Period, tertial, tertial_of, whole_year, year_to_date


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 1, 1), 1),
        (date(2025, 4, 30), 1),
        (date(2025, 5, 1), 2),
        (date(2025, 8, 31), 2),
        (date(2025, 9, 1), 3),
        (date(2025, 12, 31), 3),
        (date(2024, 2, 29), 1),
    ],
)
def test_tertial_of_at_the_boundaries(day, expected):
    assert tertial_of(day) == expected


@pytest.mark.parametrize(
    ("t", "start", "end"),
    [(1, date(2025, 1, 1), date(2025, 4, 30)), (2, date(2025, 5, 1), date(2025, 8, 31)), (3, date(2025, 9, 1), date(2025, 12, 31))],
)
def test_tertial_start_and_end(t, start, end):
    period = tertial(2025, t)
    assert (period.start, period.end) == (start, end)
    assert period.contains(start) and period.contains(end)
    assert not period.contains(date.fromordinal(start.toordinal() - 1))
    assert not period.contains(date.fromordinal(end.toordinal() + 1))


def test_tertial_2_excludes_30_april_and_1_september():
    t2 = tertial(2025, 2)
    assert not t2.contains(date(2025, 4, 30))
    assert t2.contains(date(2025, 5, 1)) and t2.contains(date(2025, 8, 31))
    assert not t2.contains(date(2025, 9, 1))


@pytest.mark.parametrize(("t", "end"), [(1, date(2025, 4, 30)), (2, date(2025, 8, 31)), (3, date(2025, 12, 31))])
def test_year_to_date_runs_from_1_january(t, end):
    period = year_to_date(2025, t)
    assert (period.start, period.end) == (date(2025, 1, 1), end)


@pytest.mark.parametrize(
    ("period", "label"),
    [
        (tertial(2025, 1), "2025-T1"),
        (tertial(2025, 2), "2025-T2"),
        (tertial(2025, 3), "2025-T3"),
        (year_to_date(2025, 1), "2025-T1..T1"),
        (year_to_date(2025, 2), "2025-T1..T2"),
        (year_to_date(2025, 3), "2025-T1..T3"),
        (whole_year(2024), "2024-T1..T3"),
        (Period(2025, 2, 3), "2025-T2..T3"),
    ],
)
def test_labels(period, label):
    assert period.label == label
    assert Period.from_label(label).label == label


def test_from_label_reads_the_report_file_forms():
    assert Period.from_label("2025-T2") == tertial(2025, 2)
    assert Period.from_label("2025-T1..T1") == year_to_date(2025, 1)
    assert Period.from_label("2025-T1..T2") == year_to_date(2025, 2)


@pytest.mark.parametrize("label", ["2025-T4", "2025-T0", "2025T1", "25-T1", "2025-T2..T1", "2025-T1..", ""])
def test_from_label_refuses_other_text(label):
    with pytest.raises(ValueError):
        Period.from_label(label)


def test_whole_year_is_year_to_date_through_tertial_3():
    assert whole_year(2025) == year_to_date(2025, 3)
    assert (whole_year(2025).start, whole_year(2025).end) == (date(2025, 1, 1), date(2025, 12, 31))


@pytest.mark.parametrize("args", [(2025, 0, 0), (2025, 4, 4), (2025, 3, 2), (2025, 0, 2)])
def test_invalid_tertials_are_refused(args):
    with pytest.raises(ValueError):
        Period(*args)


def test_year_to_date_must_start_in_tertial_1():
    with pytest.raises(ValueError):
        Period(2025, 2, 3, year_to_date=True)
    with pytest.raises(ValueError):
        year_to_date(2025, 4)


def test_same_tertial_of_an_earlier_year():
    assert tertial(2025, 2).in_year(2024) == tertial(2024, 2)
    assert year_to_date(2025, 2).in_year(2023).label == "2023-T1..T2"


@given(st.dates(date(1990, 1, 1), date(2100, 12, 31)))
def test_every_day_is_in_exactly_one_tertial(day):
    containing = [t for t in (1, 2, 3) if tertial(day.year, t).contains(day)]
    assert containing == [tertial_of(day)]
    for t in (1, 2, 3):
        assert year_to_date(day.year, t).contains(day) is (tertial_of(day) <= t)
    assert not tertial(day.year + 1, tertial_of(day)).contains(day)
