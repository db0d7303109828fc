"""Intervals and tests of change (issue 15 item 3) against values worked by hand, without SciPy.

The reference values come from the textbook formulas of
tests/scoring/hand_stats.py, written with the standard library only, so the
SciPy-based code is checked against an independent computation.
"""
import math

import pytest

from fitapp.scoring.uncertainty import (
    FISHER,
    NOT_TESTABLE,
    REAL_CHANGE,
    WELCH,
    WITHIN_CHANCE,
    Z_TEST,
    expected_cells,
    percentage_points,
    t_interval,
    two_proportion_test,
    verdict,
    welch_test,
    wilson_interval,
)
from tests.scoring.hand_stats import hand_fisher, hand_t_two_sided_p, hand_wilson, hand_z_p


# ---------------------------------------------------------------- Wilson


def test_wilson_45_of_50_is_the_worked_value():
    interval = wilson_interval(45, 50)
    assert round(interval.low, 4) == 0.7864
    assert round(interval.high, 4) == 0.9565
    assert (interval.low, interval.high) == pytest.approx(hand_wilson(45, 50), abs=1e-12)


@pytest.mark.parametrize("x,n", [(1, 5), (3, 7), (12, 40), (250, 1000), (5, 5)])
def test_wilson_matches_the_formula(x, n):
    interval = wilson_interval(x, n)
    assert (interval.low, interval.high) == pytest.approx(hand_wilson(x, n), abs=1e-12)


def test_wilson_at_the_ends_touches_0_and_100_per_cent():
    none, every = wilson_interval(0, 20), wilson_interval(20, 20)
    assert none.low == 0.0 and none.high == pytest.approx(hand_wilson(0, 20)[1])
    assert every.high == 1.0 and every.low == pytest.approx(hand_wilson(20, 20)[0])
    assert round(none.high, 4) == 0.1611  # the classic "rule of three"-like bound for 0/20


def test_wilson_without_a_denominator_has_no_interval():
    assert wilson_interval(0, 0) is None


def test_wilson_refuses_a_numerator_above_its_denominator():
    with pytest.raises(ValueError):
        wilson_interval(6, 5)


# ---------------------------------------------------------------- t interval


def test_t_interval_is_the_worked_value():
    # mean 10, SD 2, n = 20: t(0.975, 19) = 2.093024 (tables); half-width 2.093024 · 2 / √20 = 0.93603.
    interval = t_interval(10.0, 2.0, 20)
    assert interval.low == pytest.approx(10 - 2.093024 * 2 / math.sqrt(20), abs=1e-5)
    assert interval.high == pytest.approx(10 + 2.093024 * 2 / math.sqrt(20), abs=1e-5)


@pytest.mark.parametrize("sd,n", [(None, 30), (2.0, 1), (2.0, 0)])
def test_t_interval_without_an_sd_or_with_one_value_is_not_computable(sd, n):
    assert t_interval(10.0, sd, n) is None


# ---------------------------------------------------------------- two shares: Fisher or z


def test_small_groups_fail_cochrans_rule_and_get_fishers_exact_test():
    # 3/10 against 9/10: expected cells 6, 4, 6, 4 -> a cell below 5 -> Fisher.
    assert min(expected_cells(3, 10, 9, 10)) == pytest.approx(4.0)
    result = two_proportion_test(3, 10, 9, 10)
    assert result.test == FISHER
    assert result.p_value == pytest.approx(hand_fisher(3, 10, 9, 10), rel=1e-9)
    assert round(result.p_value, 4) == 0.0198
    assert result.verdict == REAL_CHANGE


def test_the_citys_own_example_47_to_59_per_cent_in_small_groups_is_within_chance():
    # "2021 T1 47 % till 2022 T1 59 %": with 17 and 17 children that is 8/17 against 10/17.
    result = two_proportion_test(10, 17, 8, 17)
    assert result.test == Z_TEST  # expected cells 9, 8, 9, 8: all ≥ 5
    assert result.p_value == pytest.approx(hand_z_p(10, 17, 8, 17), rel=1e-9)
    assert result.verdict == WITHIN_CHANCE
    assert percentage_points(10 / 17, 8 / 17) == pytest.approx(11.7647, abs=1e-4)


def test_large_groups_get_the_z_test():
    result = two_proportion_test(590, 1000, 470, 1000)
    assert result.test == Z_TEST
    assert result.p_value == pytest.approx(hand_z_p(590, 1000, 470, 1000), rel=1e-9)
    assert result.verdict == REAL_CHANGE


def test_an_expected_cell_of_exactly_5_is_enough_for_the_z_test():
    # 5/10 and 5/10 -> expected 5, 5, 5, 5: Cochran's rule asks for at least 5.
    assert two_proportion_test(5, 10, 5, 10).test == Z_TEST
    assert two_proportion_test(4, 9, 5, 10).test == FISHER  # expected 4.26 for the first period


def test_fisher_when_every_child_succeeded_in_both_periods_says_no_change():
    result = two_proportion_test(12, 12, 30, 30)
    assert result.test == FISHER and result.p_value == pytest.approx(1.0)
    assert result.verdict == WITHIN_CHANCE


def test_no_denominator_means_no_test():
    assert two_proportion_test(0, 0, 5, 10) is None
    assert verdict(None) == NOT_TESTABLE


# ---------------------------------------------------------------- two means: Welch


def test_welch_matches_the_hand_computed_statistic_and_degrees_of_freedom():
    # mean 10 (SD 2, n 20) against 12 (SD 3, n 25).
    v1, v2 = 2.0**2 / 20, 3.0**2 / 25
    t = (10 - 12) / math.sqrt(v1 + v2)
    df = (v1 + v2) ** 2 / (v1**2 / 19 + v2**2 / 24)
    assert df == pytest.approx(41.8, abs=0.1)
    result = welch_test(10.0, 2.0, 20, 12.0, 3.0, 25)
    assert result.test == WELCH
    assert result.p_value == pytest.approx(hand_t_two_sided_p(t, df), abs=1e-6)
    assert result.verdict == REAL_CHANGE


def test_welch_with_close_means_is_within_chance():
    result = welch_test(20.0, 6.0, 15, 21.0, 6.5, 14)
    assert result.verdict == WITHIN_CHANCE


def test_welch_without_an_sd_is_not_testable():
    assert welch_test(10.0, None, 20, 12.0, 3.0, 25) is None
    assert verdict(welch_test(10.0, 2.0, 1, 12.0, 3.0, 25)) == NOT_TESTABLE
