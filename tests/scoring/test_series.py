"""Series, outcome categories and the index series: metrics.md §3–§5."""
from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fitapp.scoring.instruments import InvalidValue
from fitapp.scoring.norms import CYP_IAPT, PCOMS_2003, NormRow, NormSet
from fitapp.scoring.series import (
    CATEGORIES,
    CATEGORY_LABELS_SV,
    RatingPoint,
    SeriesSummary,
    categorise,
    select_index_series,
    summarise_series,
)
from tests.scoring.spec_tables import code, only_table

D = Decimal
SPEC_ROWS = only_table(4)
# Adult ORS in pcoms-2003 (§2): c = 25.0, RC = 5.0.
C, RC = D("25.0"), D("5.0")


def points(*totals: str, start: date = date(2025, 2, 3)) -> list[RatingPoint]:
    """Weekly ratings with the given totals, session numbers 1, 2, …"""
    return [RatingPoint(start + timedelta(weeks=i), i + 1, D(t)) for i, t in enumerate(totals)]


def test_categories_and_labels_follow_the_spec_table():
    assert CATEGORIES == tuple(code(row["category"]) for row in SPEC_ROWS)
    assert CATEGORY_LABELS_SV == {code(row["category"]): row["sv label"] for row in SPEC_ROWS}


@pytest.mark.parametrize(
    ("instrument", "n", "intake", "last", "expected"),
    [
        # row 1: not scored comes before every other rule, even n = 1
        ("YCORS", 1, "20.0", "20.0", "not_scored"),
        ("YCORS", 5, "10.0", "35.0", "not_scored"),
        # row 2: n = 1
        ("ORS", 1, "10.0", "10.0", "single_rating"),
        ("CORS", 1, "39.0", "39.0", "single_rating"),
        # row 3: d ≥ RC and F < c and L ≥ c; boundaries d = +RC exactly and L = c exactly
        ("ORS", 2, "20.0", "25.0", "recovered"),
        ("ORS", 3, "24.9", "29.9", "recovered"),
        ("ORS", 2, "10.0", "38.0", "recovered"),
        # row 4: d ≥ RC but not recovered: F exactly at c (not clinical), or L below c
        ("ORS", 2, "25.0", "30.0", "improved"),
        ("ORS", 2, "26.0", "40.0", "improved"),
        ("ORS", 2, "19.9", "24.9", "improved"),
        ("ORS", 2, "10.0", "15.0", "improved"),
        # just under +RC is not improvement, even when crossing the cutoff
        ("ORS", 2, "20.1", "25.0", "unchanged"),
        ("ORS", 2, "20.0", "24.9", "unchanged"),
        # row 5: d ≤ −RC, boundary exactly −RC
        ("ORS", 2, "30.0", "25.0", "deteriorated"),
        ("ORS", 2, "20.0", "15.0", "deteriorated"),
        ("ORS", 4, "35.0", "0.0", "deteriorated"),
        ("ORS", 2, "30.0", "25.1", "unchanged"),
        # row 6: otherwise
        ("ORS", 2, "20.0", "20.0", "unchanged"),
        ("ORS", 6, "24.0", "26.0", "unchanged"),
    ],
)
def test_categorise_each_row_and_boundary(instrument, n, intake, last, expected):
    assert categorise(instrument, n, D(intake), D(last), C, RC) == expected


@pytest.mark.parametrize("instrument", ["SRS", "CSRS", "YCSRS", "XYZ"])
def test_only_outcome_instruments_are_categorised(instrument):
    with pytest.raises(ValueError):
        categorise(instrument, 2, D("30"), D("35"), C, RC)


def test_categorise_refuses_empty_series_and_missing_norms():
    with pytest.raises(ValueError):
        categorise("ORS", 0, D("20"), D("20"), C, RC)
    with pytest.raises(ValueError):
        categorise("ORS", 2, D("20"), D("26"), None, RC)
    with pytest.raises(ValueError):
        categorise("ORS", 2, D("20"), D("26"), C, None)


def test_summary_of_an_adult_ors_series():
    summary = summarise_series("ORS", points("18.5", "22.0", "27.3"), 1990, PCOMS_2003)
    assert summary == SeriesSummary(
        instrument="ORS",
        n=3,
        intake_date=date(2025, 2, 3),
        intake_score=D("18.5"),
        last_date=date(2025, 2, 17),
        last_score=D("27.3"),
        change=D("8.8"),  # 27.3 − 18.5
        cutoff=D("25.0"),
        rc=D("5.0"),
        intake_clinical=True,
        category="recovered",
        parameter_set="pcoms-2003",
        age_at_intake=35,  # 2025 − 1990
    )


def test_age_at_intake_uses_the_first_rating_whatever_the_input_order():
    # Born 2007: 17 at the first rating (Dec 2024: youth cutoff 28.0), 18 at the later ones.
    given_points = [
        RatingPoint(date(2025, 1, 20), 3, D("31.0")),
        RatingPoint(date(2024, 12, 16), 1, D("26.0")),
        RatingPoint(date(2025, 1, 7), 2, D("27.0")),
    ]
    summary = summarise_series("ORS", given_points, 2007, PCOMS_2003)
    assert (summary.age_at_intake, summary.cutoff) == (17, D("28.0"))
    assert (summary.intake_score, summary.last_score, summary.change) == (D("26.0"), D("31.0"), D("5.0"))
    # F = 26.0 < 28.0 ≤ L = 31.0 and d = RC: recovered; with the adult cutoff 25.0 it would only be improved.
    assert (summary.intake_clinical, summary.category) == (True, "recovered")
    born_2006 = summarise_series("ORS", given_points, 2006, PCOMS_2003)
    assert (born_2006.cutoff, born_2006.intake_clinical, born_2006.category) == (D("25.0"), False, "improved")


def test_points_on_one_day_are_ordered_by_session_number():
    day = date(2025, 3, 3)
    summary = summarise_series(
        "ORS", [RatingPoint(day, 2, D("30.0")), RatingPoint(day, 1, D("20.0"))], 1990, PCOMS_2003
    )
    assert (summary.intake_score, summary.last_score) == (D("20.0"), D("30.0"))


def test_unknown_birth_year_uses_the_unknown_age_row():
    summary = summarise_series("ORS", points("26.0", "27.0"), None, PCOMS_2003)
    assert (summary.age_at_intake, summary.cutoff, summary.intake_clinical) == (None, D("25.0"), False)


def test_single_rating_has_no_change_but_has_norms():
    summary = summarise_series("CORS", points("20.0"), 2016, PCOMS_2003)
    assert summary.change is None
    assert (summary.category, summary.cutoff, summary.rc, summary.intake_clinical) == ("single_rating", D("32.0"), D("6.0"), True)
    assert summary.intake_date == summary.last_date


def test_other_norm_set_is_named_in_the_summary():
    summary = summarise_series("CORS", points("20.0", "29.0"), 2016, CYP_IAPT)
    # d = 9.0: improved under pcoms-2003 (RC 6.0), unchanged under cyp-iapt (RC 10.0)
    assert (summary.rc, summary.category, summary.parameter_set) == (D("10.0"), "unchanged", "cyp-iapt")
    assert summarise_series("CORS", points("20.0", "29.0"), 2016, PCOMS_2003).category == "improved"


@pytest.mark.parametrize("instrument", ["SRS", "CSRS", "YCSRS"])
def test_alliance_series_have_no_category_or_norms(instrument):
    summary = summarise_series(instrument, points("38.0", "35.5"), 2012, PCOMS_2003)
    assert (summary.category, summary.cutoff, summary.rc, summary.intake_clinical, summary.parameter_set) == (None,) * 5
    assert (summary.n, summary.change) == (2, D("-2.5"))


def test_ycors_is_not_scored_and_has_no_norms():
    summary = summarise_series("YCORS", points("10.0", "30.0"), 2022, PCOMS_2003)
    assert summary.category == "not_scored"
    assert (summary.cutoff, summary.rc, summary.intake_clinical, summary.parameter_set) == (None,) * 4
    assert summary.change == D("20.0")


def test_scored_series_without_a_norm_row_is_not_scored():
    adults_only = NormSet("local", "Local", "own data", (NormRow("ORS", 18, None, False, D("25"), D("5")),))
    summary = summarise_series("ORS", points("10.0", "30.0"), 2010, adults_only)
    assert (summary.category, summary.cutoff, summary.rc, summary.intake_clinical, summary.parameter_set) == (
        "not_scored", None, None, None, None,
    )


def test_summarise_refuses_bad_series():
    with pytest.raises(ValueError):
        summarise_series("ORS", [], 1990, PCOMS_2003)
    with pytest.raises(ValueError):
        summarise_series("OQ45", points("20.0"), 1990, PCOMS_2003)
    with pytest.raises(ValueError):
        same = RatingPoint(date(2025, 1, 1), 1, D("20.0"))
        summarise_series("ORS", [same, dataclasses.replace(same, total=D("21.0"))], 1990, PCOMS_2003)
    with pytest.raises(InvalidValue):
        summarise_series("ORS", points("20.0", "40.5"), 1990, PCOMS_2003)


def test_paired_means_scored_outcome_with_two_ratings():
    assert summarise_series("ORS", points("20", "21"), 1990, PCOMS_2003).paired
    assert summarise_series("CORS", points("20", "21"), 2015, PCOMS_2003).paired
    assert not summarise_series("ORS", points("20"), 1990, PCOMS_2003).paired
    assert not summarise_series("YCORS", points("20", "21"), 2022, PCOMS_2003).paired
    assert not summarise_series("SRS", points("20", "21"), 1990, PCOMS_2003).paired


# --- invariants -------------------------------------------------------------

totals = st.integers(min_value=0, max_value=400).map(lambda t: D(t) / 10)


@st.composite
def series_points(draw, min_size=1):
    keys = draw(
        st.lists(
            st.tuples(st.dates(date(2020, 1, 1), date(2026, 12, 31)), st.integers(1, 40)),
            min_size=min_size,
            max_size=8,
            unique=True,
        )
    )
    return [RatingPoint(day, no, draw(totals)) for day, no in keys]


@given(
    st.sampled_from(["ORS", "CORS"]),
    series_points(),
    st.one_of(st.none(), st.integers(1950, 2022)),
    st.sampled_from([PCOMS_2003, CYP_IAPT]),
    st.randoms(use_true_random=False),
)
def test_summary_invariants(instrument, given_points, birth_year, norm_set, rnd):
    summary = summarise_series(instrument, given_points, birth_year, norm_set)
    shuffled = list(given_points)
    rnd.shuffle(shuffled)
    assert summarise_series(instrument, shuffled, birth_year, norm_set) == summary

    ordered = sorted(given_points, key=lambda p: (p.session_date, p.session_no))
    assert summary.n == len(given_points)
    assert (summary.intake_score, summary.last_score) == (ordered[0].total, ordered[-1].total)
    assert summary.intake_clinical == (summary.intake_score < summary.cutoff)
    assert summary.parameter_set == norm_set.key
    if summary.n == 1:
        assert summary.change is None and summary.category == "single_rating"
        return
    assert summary.change == summary.last_score - summary.intake_score
    assert summary.change.as_tuple().exponent == -1
    category, d, rc = summary.category, summary.change, summary.rc
    if category == "recovered":
        assert summary.intake_clinical and summary.last_score >= summary.cutoff
    if category in ("recovered", "improved"):
        assert d >= rc
    if category == "improved":
        assert not (summary.intake_clinical and summary.last_score >= summary.cutoff)
    if category == "deteriorated":
        assert d <= -rc
    if category == "unchanged":
        assert -rc < d < rc
    assert category in ("recovered", "improved", "deteriorated", "unchanged")


@given(st.sampled_from(["ORS", "CORS", "YCORS"]), st.integers(1, 10), totals, totals)
def test_categorise_returns_a_listed_category(instrument, n, intake, last):
    assert categorise(instrument, n, intake, last, C, RC) in CATEGORIES


# --- index series (§5) ------------------------------------------------------

def summary(instrument: str, n: int, intake: date, last: date | None = None) -> SeriesSummary:
    """A series of n ratings from ``intake``; the last on ``last`` (default: weekly)."""
    days = [intake + timedelta(weeks=i) for i in range(n)]
    if last is not None and n > 1:
        days[-1] = last
    return summarise_series(
        instrument, [RatingPoint(d, i + 1, D("20.0")) for i, d in enumerate(days)], 2010, PCOMS_2003
    )


def test_no_outcome_series_gives_no_index_series():
    assert select_index_series([]) is None
    assert select_index_series([summary("SRS", 6, date(2025, 1, 1))]) is None


def test_most_ratings_wins():
    ors, cors = summary("ORS", 3, date(2025, 1, 1)), summary("CORS", 5, date(2025, 2, 1))
    assert select_index_series([ors, cors]) is cors
    assert select_index_series([cors, ors]) is cors


def test_alliance_series_never_win_even_with_more_ratings():
    ors, srs = summary("ORS", 2, date(2025, 1, 1)), summary("SRS", 9, date(2025, 1, 1))
    assert select_index_series([srs, ors]) is ors


def test_tie_goes_to_the_later_first_rating():
    early, late = summary("CORS", 4, date(2025, 1, 6)), summary("ORS", 4, date(2025, 1, 13))
    assert select_index_series([early, late]) is late
    assert select_index_series([late, early]) is late


def test_full_tie_on_dates_prefers_later_last_rating():
    shorter = summary("ORS", 3, date(2025, 1, 6), last=date(2025, 2, 1))
    longer = summary("CORS", 3, date(2025, 1, 6), last=date(2025, 3, 1))
    assert select_index_series([longer, shorter]) is longer
    assert select_index_series([shorter, longer]) is longer


def test_full_tie_prefers_ors_then_cors_then_ycors_whatever_the_order():
    ors, cors, ycors = (summary(i, 3, date(2025, 1, 6)) for i in ("ORS", "CORS", "YCORS"))
    for order in ([ors, cors, ycors], [ycors, cors, ors], [cors, ycors, ors]):
        assert select_index_series(order) is ors
    assert select_index_series([ycors, cors]) is cors
