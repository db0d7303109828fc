"""Therapist alerts: metrics.md §8."""
from __future__ import annotations

import random
import statistics
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fitapp.scoring.alerts import (
    Alert,
    Trajectory,
    alliance_alerts,
    below_expected,
    deterioration_alert,
    episode_alerts,
    expected_trajectory,
    intake_band,
    no_progress_alert,
    series_alerts,
)
from fitapp.scoring.series import RatingPoint
from tests.scoring.builders import series

D = Decimal


def points(*totals: str) -> list[RatingPoint]:
    return [RatingPoint(date(2025, 3, 3) + timedelta(weeks=i), i + 1, D(t)) for i, t in enumerate(totals)]


def kinds(alerts: list[Alert]) -> list[str]:
    return [a.kind for a in alerts]


# --- alliance -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("totals", "expected"),
    [
        (["36.0"], []),
        (["35.9"], ["alliance_low"]),
        (["40.0", "39.1"], []),  # drop 0.9
        (["40.0", "39.0"], ["alliance_drop"]),  # drop 1.0
        (["37.0", "36.0"], ["alliance_drop"]),  # drop 1.0, 36.0 is not low
        (["36.9", "36.0"], []),
        (["38.0", "35.9"], ["alliance_low", "alliance_drop"]),
        (["30.0", "35.0"], ["alliance_low"]),  # rising, still low
        (["39.0", "30.0", "38.5"], []),  # only the previous rating counts
        (["39.0", "37.9", "38.0"], []),  # the earlier drop is history
    ],
)
@pytest.mark.parametrize("instrument", ["SRS", "CSRS"])
def test_alliance_alerts_at_their_boundaries(instrument, totals, expected):
    assert kinds(alliance_alerts(points(*totals), instrument)) == expected


def test_alliance_alerts_default_to_srs_and_sort_the_points():
    given_points = points("38.0", "36.5")
    assert kinds(alliance_alerts(list(reversed(given_points)))) == ["alliance_drop"]


def test_ycsrs_never_alerts():
    assert alliance_alerts(points("40.0", "10.0"), "YCSRS") == []


def test_no_ratings_no_alerts():
    assert alliance_alerts([], "SRS") == []


@pytest.mark.parametrize("instrument", ["ORS", "CORS", "YCORS", "XYZ"])
def test_alliance_alerts_refuse_outcome_instruments(instrument):
    with pytest.raises(ValueError):
        alliance_alerts(points("30.0"), instrument)


# --- deterioration and no progress ----------------------------------------------
# Adult ORS in pcoms-2003: c = 25.0, RC = 5.0; CORS: c = 32.0, RC = 6.0.


@pytest.mark.parametrize(
    ("instrument", "birth_year", "totals", "expected"),
    [
        ("ORS", 1990, ["30.0", "25.0"], True),  # d = −5.0 = −RC
        ("ORS", 1990, ["30.0", "25.1"], False),  # d = −4.9
        ("ORS", 1990, ["20.0", "10.0", "12.0"], True),  # d = −8.0 so far
        ("ORS", 1990, ["30.0"], False),  # one rating has no change
        ("CORS", 2015, ["30.0", "24.0"], True),  # d = −6.0 = −RC
        ("CORS", 2015, ["30.0", "24.1"], False),
        ("YCORS", 2022, ["30.0", "5.0"], False),  # not scored
    ],
)
def test_deterioration_alert(instrument, birth_year, totals, expected):
    assert deterioration_alert(series(instrument, birth_year, *totals)) is expected


def test_deterioration_alert_ignores_alliance_series():
    assert deterioration_alert(series("SRS", 1990, "40.0", "20.0")) is False


@pytest.mark.parametrize(
    ("totals", "expected"),
    [
        (["20.0", "20.0", "20.0"], False),  # n = 3: too early
        (["20.0", "20.0", "20.0", "20.0"], True),  # n = 4, d = 0
        (["20.0", "21.0", "22.0", "24.9"], True),  # d = 4.9 < RC
        (["20.0", "21.0", "22.0", "25.0"], False),  # d = 5.0 = RC
        (["20.0", "21.0", "22.0", "23.0", "21.0"], True),  # n = 5
        (["24.9", "24.9", "24.9", "24.9"], True),  # started just below the cutoff
        (["25.0", "25.0", "25.0", "25.0"], False),  # started at the cutoff: not clinical
    ],
)
def test_no_progress_alert(totals, expected):
    assert no_progress_alert(series("ORS", 1990, *totals)) is expected


def test_no_progress_alert_needs_a_scored_outcome_series():
    assert no_progress_alert(series("YCORS", 2022, "10.0", "10.0", "10.0", "10.0")) is False
    assert no_progress_alert(series("SRS", 1990, "30.0", "30.0", "30.0", "30.0")) is False


# --- intake bands and the expected line ------------------------------------------


@pytest.mark.parametrize(
    ("score", "band"),
    [
        ("0", "0-4.9"),
        ("4.9", "0-4.9"),
        ("5.0", "5-9.9"),
        ("9.9", "5-9.9"),
        ("10.0", "10-14.9"),
        ("24.9", "20-24.9"),
        ("25.0", "25-29.9"),
        ("34.9", "30-34.9"),
        ("35.0", "35-40"),
        ("40.0", "35-40"),
    ],
)
def test_intake_band(score, band):
    assert intake_band(D(score)) == band


@pytest.mark.parametrize("score", ["-0.1", "40.1"])
def test_intake_band_refuses_impossible_totals(score):
    with pytest.raises(ValueError):
        intake_band(D(score))


@given(st.integers(0, 400).map(lambda t: D(t) / 10))
def test_every_total_is_inside_its_band(score):
    low, high = intake_band(score).split("-")
    assert D(low) <= score <= D(high)


def test_there_are_eight_bands():
    assert len({intake_band(D(t) / 10) for t in range(401)}) == 8


def reference(n: int, length: int = 2) -> list[list[Decimal]]:
    """Series k rises from k to k + 2, k + 4, …: intakes 0, 1, …, n − 1."""
    return [[D(k + 2 * i) for i in range(length)] for k in range(n)]


def test_no_line_below_30_series():
    assert expected_trajectory(reference(29)) is None
    assert expected_trajectory(reference(30)) is not None


def test_single_ratings_do_not_count_as_reference_series():
    assert expected_trajectory(reference(29) + [[D("20.0")]]) is None


def test_line_from_30_series():
    line = expected_trajectory(reference(30))
    # Intakes 0..29: mean 14.5; lower quartile at position 29 * 0.25 = 7.25 between 7 and 8 -> 7.25.
    # Index 1 is the same plus 2.
    assert line.n_series == 30
    assert [(p.index, p.n_series, p.mean, p.lower_quartile) for p in line.points] == [
        (0, 30, D("14.5"), D("7.25")),
        (1, 30, D("16.5"), D("9.25")),
    ]


def test_line_stops_where_too_few_series_reach():
    ref = reference(20, length=2) + reference(10, length=4)
    line = expected_trajectory(ref)
    assert [p.index for p in line.points] == [0, 1]
    line_10 = expected_trajectory(ref, min_series=10)
    assert [(p.index, p.n_series) for p in line_10.points] == [(0, 30), (1, 30), (2, 10), (3, 10)]


@given(st.lists(st.lists(st.integers(0, 400).map(lambda t: D(t) / 10), min_size=2, max_size=6), min_size=30, max_size=60))
def test_line_agrees_with_the_statistics_module(ref):
    line = expected_trajectory(ref)
    for p in line.points:
        values = [s[p.index] for s in ref if len(s) > p.index]
        assert p.n_series == len(values) >= 30
        assert abs(p.mean - statistics.mean(values)) <= D("0.00005")
        assert abs(p.lower_quartile - statistics.quantiles(values, n=4, method="inclusive")[0]) <= D("0.00005")
        assert p.lower_quartile <= statistics.median(values)


@pytest.fixture
def line() -> Trajectory:
    return expected_trajectory(reference(30))  # lower quartile 7.25 at index 0, 9.25 at index 1


@pytest.mark.parametrize(
    ("totals", "expected"),
    [
        (["8.0", "9.2"], True),  # index 1, below 9.25
        (["8.0", "9.3"], False),
        (["8.0", "9.25"], False),  # at the quartile is not below
        (["5.0"], False),  # a single rating is not a trajectory
        (["8.0", "9.0", "1.0"], False),  # the line does not reach index 2
    ],
)
def test_below_expected(line, totals, expected):
    assert below_expected(points(*totals), line) is expected


def test_below_expected_without_a_line():
    assert below_expected(points("1.0", "1.0"), None) is False


# --- gathering ------------------------------------------------------------------


def test_episode_alerts_gather_every_series():
    ors = series("ORS", 1990, "20.0", "18.0", "17.0", "15.0")  # d = −5.0 and no progress by the 4th
    srs_points = points("38.0", "35.0")
    srs = series("SRS", 1990, "38.0", "35.0")
    ors_points = [RatingPoint(date(2025, 1, 13) + timedelta(weeks=i), i + 1, D(t)) for i, t in enumerate(["20.0", "18.0", "17.0", "15.0"])]
    # A line for ORS intakes 20–24.9 whose lower quartile at index 3 is above 15.0.
    line = expected_trajectory([[D("20.0"), D("21.0"), D("22.0"), D("23.0")]] * 30)
    alerts = episode_alerts([(ors, ors_points), (srs, srs_points)], {("ORS", "20-24.9"): line})
    assert kinds(alerts) == ["deterioration", "no_progress", "below_expected", "alliance_low", "alliance_drop"]
    assert {a.instrument for a in alerts} == {"ORS", "SRS"}
    assert all(a.detail for a in alerts)


def test_lines_are_matched_by_instrument_and_intake_band():
    ors = series("ORS", 1990, "20.0", "21.0")
    ors_points = [RatingPoint(date(2025, 1, 13) + timedelta(weeks=i), i + 1, D(t)) for i, t in enumerate(["20.0", "21.0"])]
    high_line = expected_trajectory([[D("20.0"), D("30.0")]] * 30)
    assert kinds(episode_alerts([(ors, ors_points)], {("ORS", "20-24.9"): high_line})) == ["below_expected"]
    assert episode_alerts([(ors, ors_points)], {("ORS", "15-19.9"): high_line}) == []
    assert episode_alerts([(ors, ors_points)], {("CORS", "20-24.9"): high_line}) == []
    assert episode_alerts([(ors, ors_points)]) == []


def test_series_alerts_for_an_unremarkable_series():
    calm = series("CORS", 2015, "28.0", "31.0", "35.0")
    assert series_alerts(calm, points("28.0", "31.0", "35.0")) == []


def test_alert_kind_is_checked():
    with pytest.raises(ValueError):
        Alert("panic", "no such kind")


def test_alliance_order_does_not_matter():
    base = points("39.0", "38.0", "36.5", "35.5")
    rnd = random.Random(4)
    for _ in range(5):
        shuffled = base[:]
        rnd.shuffle(shuffled)
        assert kinds(alliance_alerts(shuffled)) == ["alliance_low", "alliance_drop"]
