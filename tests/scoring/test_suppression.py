"""Small-number suppression: metrics.md §7."""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fitapp.scoring.indicators import Cell, compute_indicators
from fitapp.scoring.suppression import suppress
from tests.scoring.builders import datasets


def count(group: str, n: int, breakdown: str = "gender", indicator: str = "index_persons") -> Cell:
    return Cell(breakdown, group, indicator, "count", n, None, Decimal(n))


def share(group: str, num: int, den: int, breakdown: str = "gender", indicator: str = "paired") -> Cell:
    return Cell(breakdown, group, indicator, "share", num, den, Decimal(num) / den if den else None)


def mean(group: str, n: int, breakdown: str = "gender", indicator: str = "mean_change") -> Cell:
    return Cell(breakdown, group, indicator, "mean", None, n, Decimal("2.5") if n else None)


def hidden_groups(cells: list[Cell]) -> list[str]:
    return [c.group for c in cells if c.suppressed]


@pytest.mark.parametrize("threshold", [2, 1, 0, -5])
def test_threshold_below_3_is_refused(threshold):
    with pytest.raises(ValueError):
        suppress([count("all", 10, "all")], threshold)


@pytest.mark.parametrize(
    ("cell", "threshold", "hidden"),
    [
        (count("all", 0, "all"), 5, False),  # zero is shown
        (count("all", 1, "all"), 5, True),
        (count("all", 4, "all"), 5, True),
        (count("all", 5, "all"), 5, False),
        (count("all", 2, "all"), 3, True),
        (count("all", 3, "all"), 3, False),
        (count("all", 9, "all"), 10, True),
        (share("all", 0, 10, "all"), 5, False),
        (share("all", 0, 0, "all"), 5, False),
        (share("all", 1, 10, "all"), 5, True),  # numerator 1–4
        (share("all", 4, 100, "all"), 5, True),
        (share("all", 5, 10, "all"), 5, False),
        (share("all", 0, 4, "all"), 5, True),  # denominator 1–4
        (share("all", 4, 4, "all"), 5, True),
        (share("all", 5, 5, "all"), 5, False),
        (share("all", 0, 2, "all"), 3, True),
        (share("all", 3, 3, "all"), 3, False),
        (mean("all", 0, "all"), 5, False),
        (mean("all", 1, "all"), 5, True),
        (mean("all", 4, "all"), 5, True),
        (mean("all", 5, "all"), 5, False),
    ],
)
def test_primary_rule(cell, threshold, hidden):
    (result,) = suppress([cell], threshold)
    assert result.suppressed is hidden
    if hidden:
        assert (result.numerator, result.denominator, result.value) == (None, None, None)
        assert (result.breakdown, result.group, result.indicator, result.kind) == (
            cell.breakdown, cell.group, cell.indicator, cell.kind,
        )
    else:
        assert result == cell


def test_default_threshold_is_5():
    assert [c.suppressed for c in suppress([count("all", 4, "all"), count("all", 5, "all", "episodes_closed")])] == [True, False]


def test_secondary_hides_the_smallest_non_zero_count():
    cells = [count("all", 18, "all"), count("flicka", 3), count("pojke", 9), count("kvinna", 6), count("man", 0)]
    result = suppress(cells)
    assert hidden_groups(result) == ["flicka", "kvinna"]
    assert result[4] == cells[4]  # zero stays shown and is never the one chosen


def test_secondary_tie_goes_to_the_first_group_in_spec_order_not_input_order():
    cells = [count("all", 15, "all"), count("kvinna", 6), count("flicka", 3), count("pojke", 6)]
    assert hidden_groups(suppress(cells)) == ["flicka", "pojke"]


def test_secondary_tie_between_interventions_goes_to_the_first_code():
    cells = [
        count("all", 14, "all", "episodes_closed"),
        count("MST", 6, "intervention", "episodes_closed"),
        count("FFT", 6, "intervention", "episodes_closed"),
        count("ART", 2, "intervention", "episodes_closed"),
    ]
    assert hidden_groups(suppress(cells)) == ["FFT", "ART"]


def test_secondary_for_shares_uses_the_denominator():
    # A is hidden by its denominator 3; B (12) and C (7) are shown; C has the smaller denominator.
    cells = [share("all", 11, 22, "all"), share("A", 0, 3, "age_band"), share("B", 5, 12, "age_band"), share("C", 6, 7, "age_band")]
    assert hidden_groups(suppress(cells)) == ["A", "C"]


def test_secondary_for_means_uses_n():
    cells = [mean("all", 30, "all"), mean("0-5", 2, "age_band"), mean("6-12", 20, "age_band"), mean("13-17", 8, "age_band")]
    assert hidden_groups(suppress(cells)) == ["0-5", "13-17"]


def test_no_secondary_when_the_all_cell_is_hidden():
    cells = [share("all", 3, 20, "all"), share("flicka", 3, 10), share("pojke", 0, 10)]
    assert hidden_groups(suppress(cells)) == ["all", "flicka"]


def test_secondary_applies_when_the_all_cell_is_absent():
    cells = [count("flicka", 3), count("pojke", 9), count("kvinna", 6)]
    assert hidden_groups(suppress(cells)) == ["flicka", "kvinna"]


def test_no_secondary_when_two_groups_are_already_hidden():
    cells = [count("all", 20, "all"), count("flicka", 3), count("pojke", 2), count("kvinna", 15)]
    assert hidden_groups(suppress(cells)) == ["flicka", "pojke"]


def test_no_secondary_when_nothing_is_hidden():
    cells = [count("all", 20, "all"), count("flicka", 5), count("pojke", 15)]
    assert suppress(cells) == cells


def test_secondary_works_per_indicator_and_breakdown():
    cells = [
        count("all", 12, "all"),
        count("flicka", 3),
        count("pojke", 9),
        count("13-17", 6, "age_band"),
        count("18+", 6, "age_band"),
        count("all", 12, "all", "episodes_closed"),
        count("FFT", 7, "intervention", "episodes_closed"),
        count("MST", 5, "intervention", "episodes_closed"),
    ]
    result = suppress(cells)
    assert [(c.breakdown, c.group, c.indicator) for c in result if c.suppressed] == [
        ("gender", "flicka", "index_persons"),
        ("gender", "pojke", "index_persons"),
    ]


def test_secondary_leaves_zero_groups_alone_when_nothing_else_is_left():
    cells = [count("all", 10, "all"), count("flicka", 3), count("pojke", 0)]
    assert hidden_groups(suppress(cells)) == ["flicka"]


def test_input_is_not_changed_and_order_is_kept():
    cells = [count("all", 18, "all"), count("flicka", 3), count("pojke", 15)]
    before = list(cells)
    result = suppress(cells)
    assert cells == before
    assert [(c.breakdown, c.group) for c in result] == [(c.breakdown, c.group) for c in cells]


def test_already_suppressed_cells_stay_suppressed():
    (result,) = suppress([Cell("all", "all", "paired", "share", None, None, None, suppressed=True)])
    assert result.suppressed


@settings(max_examples=80, deadline=None)
@given(datasets(), st.sampled_from([3, 5, 10]))
def test_invariants_on_computed_reports(data, threshold):
    cells = suppress(compute_indicators(*data), threshold)
    for c in cells:
        for number in (c.numerator, c.denominator):
            assert number is None or number == 0 or number >= threshold, c
        if c.suppressed:
            assert (c.numerator, c.denominator, c.value) == (None, None, None)
    all_hidden = {c.indicator: c.suppressed for c in cells if c.breakdown == "all"}
    hidden = defaultdict(int)
    for c in cells:
        if c.breakdown != "all":
            hidden[c.indicator, c.breakdown] += c.suppressed
    for (indicator, _), n in hidden.items():
        if not all_hidden[indicator]:
            assert n != 1
