"""Instruments, items and totals: metrics.md §1."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fitapp.scoring.instruments import (
    ALL_INSTRUMENTS,
    ALLIANCE_INSTRUMENTS,
    INSTRUMENTS,
    OUTCOME_INSTRUMENTS,
    SCORED_INSTRUMENTS,
    InvalidValue,
    default_instrument,
    is_alliance,
    is_outcome,
    is_scored,
    parse_item,
    parse_total,
    total,
)
from tests.scoring.spec_tables import only_table

SPEC_ROWS = only_table(1)
tenths = st.integers(min_value=0, max_value=100).map(lambda t: Decimal(t) / 10)


def test_spec_table_lists_six_instruments():
    assert [row["code"] for row in SPEC_ROWS] == list(ALL_INSTRUMENTS)


@pytest.mark.parametrize("row", SPEC_ROWS, ids=lambda row: row["code"])
def test_instrument_matches_spec_row(row):
    instrument = INSTRUMENTS[row["code"]]
    low, high = row["item range"].split("–")
    assert instrument.name == row["name (neutral, configurable label)"]
    assert instrument.scale == row["used for"]
    assert instrument.items == int(row["items"])
    assert (instrument.item_min, instrument.item_max) == (Decimal(low), Decimal(high))
    scored = row["scored"].startswith("yes")
    assert instrument.scored is scored
    assert is_scored(row["code"]) is scored
    assert (row["code"] in SCORED_INSTRUMENTS) is scored
    assert is_outcome(row["code"]) is (row["used for"] == "outcome")
    assert is_alliance(row["code"]) is (row["used for"] == "alliance")


def test_instrument_groups_follow_table_order():
    assert OUTCOME_INSTRUMENTS == tuple(r["code"] for r in SPEC_ROWS if r["used for"] == "outcome")
    assert ALLIANCE_INSTRUMENTS == tuple(r["code"] for r in SPEC_ROWS if r["used for"] == "alliance")
    assert ALL_INSTRUMENTS == OUTCOME_INSTRUMENTS + ALLIANCE_INSTRUMENTS


@pytest.mark.parametrize("code", ["", "ors", "SRS2", "CORE"])
def test_unknown_codes_are_neither_outcome_alliance_nor_scored(code):
    assert not (is_outcome(code) or is_alliance(code) or is_scored(code))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7", "7.0"),
        ("7.0", "7.0"),
        ("7,0", "7.0"),
        (" 7.5 ", "7.5"),
        ("\t3,2\n", "3.2"),
        ("0", "0.0"),
        ("0.0", "0.0"),
        ("-0", "0.0"),
        ("10", "10.0"),
        ("10.0", "10.0"),
        ("+4", "4.0"),
        ("7.50", "7.5"),  # trailing zero adds no precision
        (7, "7.0"),
        (0, "0.0"),
        (10, "10.0"),
        (Decimal("7.5"), "7.5"),
        (Decimal("7.50"), "7.5"),
    ],
)
def test_parse_item_accepts(text, expected):
    value = parse_item(text)
    assert isinstance(value, Decimal)
    assert str(value) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("7.25", "too_many_decimals"),
        ("7,25", "too_many_decimals"),
        ("0.05", "too_many_decimals"),
        (Decimal("7.25"), "too_many_decimals"),
        ("11", "out_of_range"),
        ("10.1", "out_of_range"),
        ("-1", "out_of_range"),
        ("-0.1", "out_of_range"),
        (11, "out_of_range"),
        (-1, "out_of_range"),
        ("abc", "not_a_number"),
        ("nan", "not_a_number"),
        ("NaN", "not_a_number"),
        ("inf", "not_a_number"),
        ("-Infinity", "not_a_number"),
        ("1e1", "not_a_number"),
        ("7.", "not_a_number"),
        (".5", "not_a_number"),
        ("7,0,0", "not_a_number"),
        ("7.0,5", "not_a_number"),
        ("7 5", "not_a_number"),
        ("٧", "not_a_number"),  # Arabic-Indic seven: only ASCII digits are numbers here
        ("0x7", "not_a_number"),
        (Decimal("NaN"), "not_a_number"),
        (Decimal("Infinity"), "not_a_number"),
        (True, "not_a_number"),
        ("", "empty"),
        ("   ", "empty"),
    ],
)
def test_parse_item_rejects_with_code(text, code):
    with pytest.raises(InvalidValue) as caught:
        parse_item(text)
    assert caught.value.code == code
    assert str(caught.value)  # an English message for the import report


def test_invalid_value_is_a_value_error_with_known_codes():
    assert issubclass(InvalidValue, ValueError)
    with pytest.raises(ValueError):
        InvalidValue("silly", "no such code")


def test_parse_item_refuses_floats():
    with pytest.raises(TypeError):
        parse_item(7.5)


@given(tenths, st.booleans())
def test_parse_item_round_trips_every_valid_value(value, comma):
    text = str(value).replace(".", ",") if comma else str(value)
    parsed = parse_item(text)
    assert parsed == value
    assert parsed.as_tuple().exponent == -1


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0", "0.0"), ("40", "40.0"), ("40.0", "40.0"), ("35,9", "35.9"), (" 36 ", "36.0"), (Decimal("12.3"), "12.3")],
)
def test_parse_total_accepts(text, expected):
    assert str(parse_total(text)) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [("40.1", "out_of_range"), ("-0.1", "out_of_range"), ("41", "out_of_range"), ("39.95", "too_many_decimals"), ("x", "not_a_number"), ("", "empty")],
)
def test_parse_total_rejects(text, code):
    with pytest.raises(InvalidValue) as caught:
        parse_total(text)
    assert caught.value.code == code


def test_total_of_four_items():
    # 7.0 + 8.5 + 6.2 + 9.9 = 31.6
    assert str(total([Decimal("7"), Decimal("8.5"), Decimal("6.2"), Decimal("9.9")])) == "31.6"
    assert str(total([Decimal(0)] * 4)) == "0.0"
    assert str(total([Decimal(10)] * 4)) == "40.0"


@pytest.mark.parametrize("count", [0, 1, 3, 5])
def test_total_needs_exactly_four_items(count):
    with pytest.raises(ValueError):
        total([Decimal("5.0")] * count)


@pytest.mark.parametrize("bad", [Decimal("10.1"), Decimal("2.25"), Decimal("-1")])
def test_total_refuses_invalid_items(bad):
    with pytest.raises(InvalidValue):
        total([Decimal("5.0"), Decimal("5.0"), Decimal("5.0"), bad])


@given(st.lists(st.integers(min_value=0, max_value=100), min_size=4, max_size=4))
def test_total_is_the_exact_sum_with_one_decimal(item_tenths):
    items = [Decimal(t) / 10 for t in item_tenths]
    result = total(items)
    assert result == Decimal(sum(item_tenths)) / 10
    assert result.as_tuple().exponent == -1
    assert Decimal(0) <= result <= Decimal(40)


@pytest.mark.parametrize(
    ("age", "outcome", "alliance"),
    [
        (0, "YCORS", "YCSRS"),
        (5, "YCORS", "YCSRS"),
        (6, "CORS", "CSRS"),
        (12, "CORS", "CSRS"),
        (13, "ORS", "SRS"),
        (17, "ORS", "SRS"),
        (18, "ORS", "SRS"),
        (45, "ORS", "SRS"),
        (None, "ORS", "SRS"),
    ],
)
def test_default_instrument_by_age(age, outcome, alliance):
    assert default_instrument(age, "outcome") == outcome
    assert default_instrument(age, "alliance") == alliance


def test_default_instrument_refuses_unknown_scale():
    with pytest.raises(ValueError):
        default_instrument(10, "session")
