"""Norm parameter sets and Jacobson–Truax: metrics.md §2."""
from __future__ import annotations

import math
import re
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fitapp.scoring.instruments import ALL_INSTRUMENTS
from fitapp.scoring.norms import (
    BUILTIN_SETS,
    CYP_IAPT,
    DEFAULT_SET_KEY,
    PCOMS_2003,
    NormRow,
    NormSet,
    age_at,
    clinical_cutoff,
    jacobson_truax_rows,
    reliable_change,
)
from tests.scoring.spec_tables import only_table, section

SECTION = " ".join(section(2).split())  # one line, so sentences wrapped in the file still match
PCOMS_TABLE = only_table(2)

# How each "age at intake" wording of the §2 table reads as (min, max, unknown included),
# and ages inside and outside it to probe lookup with.
AGE_WORDING = {
    "18 and over, or age unknown": ((18, None, True), [18, 19, 64, None], [17, 0]),
    "under 18": ((None, 17, False), [0, 5, 12, 17], [18, None]),
    "any": ((None, None, True), [0, 6, 12, 13, 17, 18, 90, None], []),
}


def cyp_iapt_rc() -> dict[str, Decimal]:
    match = re.search(r"`cyp-iapt`.*?same cutoffs, RC ([\d.]+) for ORS and ([\d.]+) for CORS", SECTION)
    assert match, "metrics.md §2 no longer states the cyp-iapt RC values this test reads"
    return {"ORS": Decimal(match[1]), "CORS": Decimal(match[2])}


def expected_rows(rc_override: dict[str, Decimal] | None = None) -> tuple[NormRow, ...]:
    rows = []
    for row in PCOMS_TABLE:
        (min_age, max_age, unknown), _, _ = AGE_WORDING[row["age at intake"]]
        rc = (rc_override or {}).get(row["instrument"], Decimal(row["RC"]))
        rows.append(NormRow(row["instrument"], min_age, max_age, unknown, Decimal(row["cutoff c"]), rc))
    return tuple(rows)


def test_pcoms_rows_equal_the_spec_table():
    assert PCOMS_2003.key == "pcoms-2003"
    assert PCOMS_2003.rows == expected_rows()


def test_cyp_iapt_rows_are_pcoms_cutoffs_with_their_own_rc():
    assert CYP_IAPT.key == "cyp-iapt"
    assert CYP_IAPT.rows == expected_rows(cyp_iapt_rc())


def test_builtin_sets_and_default():
    assert set(BUILTIN_SETS) == {"pcoms-2003", "cyp-iapt"}
    assert BUILTIN_SETS["pcoms-2003"] is PCOMS_2003 and BUILTIN_SETS["cyp-iapt"] is CYP_IAPT
    default = re.search(r"Default set `([\w-]+)`", SECTION)[1]
    assert DEFAULT_SET_KEY == default


def test_sources_cite_the_publications_in_the_spec():
    pcoms_citations = re.search(r"Default set `pcoms-2003` \((.*?)\):", SECTION)[1]
    for citation in pcoms_citations.split("; "):
        assert citation in PCOMS_2003.source
    assert re.search(r"`cyp-iapt` \((.*?)\)", SECTION)[1] in CYP_IAPT.source


@pytest.mark.parametrize("norm_set", [PCOMS_2003, CYP_IAPT], ids=lambda s: s.key)
@pytest.mark.parametrize("row", PCOMS_TABLE, ids=lambda r: f"{r['instrument']}-{r['age at intake']}")
def test_lookup_at_every_age_of_every_row(norm_set, row):
    _, inside, outside = AGE_WORDING[row["age at intake"]]
    rc = cyp_iapt_rc()[row["instrument"]] if norm_set is CYP_IAPT else Decimal(row["RC"])
    for age in inside:
        found = norm_set.lookup(row["instrument"], age)
        assert (found.cutoff, found.rc) == (Decimal(row["cutoff c"]), rc), age
    for age in outside:
        found = norm_set.lookup(row["instrument"], age)
        assert found is not None and found.cutoff != Decimal(row["cutoff c"]), age


@pytest.mark.parametrize(
    ("age", "cutoff"), [(17, Decimal("28.0")), (18, Decimal("25.0")), (None, Decimal("25.0"))]
)
def test_ors_age_boundary(age, cutoff):
    assert PCOMS_2003.lookup("ORS", age).cutoff == cutoff


@pytest.mark.parametrize("instrument", [i for i in ALL_INSTRUMENTS if i not in ("ORS", "CORS")] + ["XYZ"])
@pytest.mark.parametrize("age", [None, 3, 10, 30])
def test_lookup_is_none_for_unscored_and_alliance_instruments(instrument, age):
    assert PCOMS_2003.lookup(instrument, age) is None
    assert CYP_IAPT.lookup(instrument, age) is None


def test_lookup_is_none_when_no_row_covers_the_age():
    adults_only = NormSet("local", "Local", "own data", (NormRow("ORS", 18, None, False, Decimal("25"), Decimal("5")),))
    assert adults_only.lookup("ORS", 17) is None
    assert adults_only.lookup("ORS", None) is None
    assert adults_only.lookup("ORS", 18).cutoff == Decimal("25")


@pytest.mark.parametrize(
    ("row", "instrument", "age", "expected"),
    [
        (NormRow("ORS", 13, 17, False, Decimal(28), Decimal(5)), "ORS", 12, False),
        (NormRow("ORS", 13, 17, False, Decimal(28), Decimal(5)), "ORS", 13, True),
        (NormRow("ORS", 13, 17, False, Decimal(28), Decimal(5)), "ORS", 17, True),
        (NormRow("ORS", 13, 17, False, Decimal(28), Decimal(5)), "ORS", 18, False),
        (NormRow("ORS", 13, 17, False, Decimal(28), Decimal(5)), "ORS", None, False),
        (NormRow("ORS", 13, 17, True, Decimal(28), Decimal(5)), "ORS", None, True),
        (NormRow("ORS", 13, 17, True, Decimal(28), Decimal(5)), "CORS", 15, False),
    ],
)
def test_norm_row_matches(row, instrument, age, expected):
    assert row.matches(instrument, age) is expected


@pytest.mark.parametrize(
    "args",
    [
        ("SRS", None, None, True, Decimal(36), Decimal(1)),
        ("YCORS", None, None, True, Decimal(30), Decimal(5)),
        ("ORS", None, None, True, Decimal(25), Decimal(0)),
        ("ORS", 18, 17, True, Decimal(25), Decimal(5)),
    ],
)
def test_norm_row_refuses_nonsense(args):
    with pytest.raises(ValueError):
        NormRow(*args)


def test_spec_check_value_for_rc():
    sd1, r, rc = re.search(r"SD1 = ([\d.]+), r = ([\d.]+) gives RC = ([\d.]+)", SECTION).groups()
    assert reliable_change(Decimal(sd1), Decimal(r)) == Decimal(rc)
    assert reliable_change(float(sd1), float(r)) == Decimal(rc)
    assert reliable_change(sd1, r) == Decimal(rc)


def test_spec_check_value_for_cutoff():
    m1, sd1, m0, sd0, c = re.search(
        r"M1 = ([\d.]+), SD1 = ([\d.]+), M0 = ([\d.]+), SD0 = ([\d.]+) gives c = ([\d.]+)", SECTION
    ).groups()
    assert clinical_cutoff(Decimal(m1), Decimal(sd1), Decimal(m0), Decimal(sd0)) == Decimal(c)


def test_cutoff_rounds_half_up():
    # SD1 = SD0 = 1 makes c the midpoint: (0 + 0.25) / 2 = 0.125 -> 0.13 (half-even would give 0.12).
    assert clinical_cutoff("0.25", 1, 0, 1) == Decimal("0.13")


def test_rc_with_zero_reliability():
    # r = 0, SD1 = 1: RC = 1.96 * sqrt(2) = 1.96 * 1.41421356 = 2.77186 -> 2.77
    assert reliable_change(1, 0) == Decimal("2.77")


@given(
    st.decimals(min_value="0.1", max_value="30", places=2),
    st.decimals(min_value="0", max_value="0.99", places=2),
)
def test_rc_agrees_with_the_formula_in_floating_point(sd1, r):
    expected = 1.96 * math.sqrt(2) * float(sd1) * math.sqrt(1 - float(r))
    result = reliable_change(sd1, r)
    assert result.as_tuple().exponent == -2
    assert abs(float(result) - expected) <= 0.005 + 1e-9


@given(
    st.decimals(min_value="-50", max_value="50", places=2),
    st.decimals(min_value="0.1", max_value="20", places=2),
    st.decimals(min_value="-50", max_value="50", places=2),
    st.decimals(min_value="0.1", max_value="20", places=2),
)
def test_cutoff_is_symmetric_and_between_the_means(m1, sd1, m0, sd0):
    c = clinical_cutoff(m1, sd1, m0, sd0)
    assert c == clinical_cutoff(m0, sd0, m1, sd1)
    assert min(m0, m1) - Decimal("0.005") <= c <= max(m0, m1) + Decimal("0.005")
    expected = (float(sd1) * float(m0) + float(sd0) * float(m1)) / (float(sd1) + float(sd0))
    assert abs(float(c) - expected) <= 0.005 + 1e-9


@pytest.mark.parametrize(("sd1", "r"), [(0, "0.9"), (-1, "0.9"), (5, "1"), (5, "1.2"), (5, "-0.1"), ("nan", "0.9"), ("abc", "0.9"), (5, "inf")])
def test_rc_validates_inputs(sd1, r):
    with pytest.raises(ValueError):
        reliable_change(sd1, r)


@pytest.mark.parametrize("sds", [(0, 5), (5, 0), (-2, 5), (5, -2)])
def test_cutoff_validates_sds(sds):
    with pytest.raises(ValueError):
        clinical_cutoff(30, sds[0], 10, sds[1])


def test_jacobson_truax_row_uses_both_formulas():
    row = jacobson_truax_rows("ORS", "35.48", "8.16", "7.69", "7.52", "0.93", min_age=18)
    assert row == NormRow(
        "ORS", 18, None, True, clinical_cutoff("35.48", "8.16", "7.69", "7.52"), reliable_change("8.16", "0.93")
    )
    computed = NormSet("local-2024", "Local 2024", "own sample, 2024", (row,))
    assert computed.lookup("ORS", 30) is row
    assert computed.lookup("ORS", 17) is None


def test_jacobson_truax_row_refuses_alliance_instruments():
    with pytest.raises(ValueError):
        jacobson_truax_rows("SRS", 30, 5, 20, 5, "0.8")


@pytest.mark.parametrize(
    ("on", "birth_year", "expected"),
    [
        (date(2025, 1, 1), 2007, 18),
        (date(2025, 12, 31), 2007, 18),
        (date(2024, 12, 31), 2007, 17),
        (date(2025, 6, 1), 2025, 0),
        (date(2025, 6, 1), None, None),
    ],
)
def test_age_at_is_the_year_difference(on, birth_year, expected):
    assert age_at(on, birth_year) == expected
