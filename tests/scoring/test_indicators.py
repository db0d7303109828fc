"""Indicators and breakdowns: metrics.md §5–§6."""
from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings

from fitapp.scoring.indicators import (
    BREAKDOWNS,
    EPISODE_LEVEL,
    GROUP_ORDER,
    INDICATOR_KINDS,
    INDICATORS,
    PERSON_LEVEL,
    Cell,
    age_band,
    gender_group,
    is_rereferred,
    rereferral_reportable_from,
    rereferral_reported,
)
from fitapp.scoring.figures import compute_indicators
from tests.scoring.builders import datasets, episode, person, series
from tests.scoring.spec_tables import code, only_table, section

D = Decimal
SECTION = " ".join(section(6).split())

# --- the contract's lists ---------------------------------------------------


def test_indicator_ids_follow_the_spec_table():
    assert INDICATORS == tuple(code(row["id"]) for row in only_table(6))


def test_person_and_episode_level_sets_follow_the_spec():
    # "Breakdowns of person-level indicators (`index_persons` … `effect_size`, `not_rereferred_12m`)"
    first, last, extra = re.search(r"person-level indicators \(`(\w+)` … `(\w+)`, `(\w+)`\)", SECTION).groups()
    expected = set(INDICATORS[INDICATORS.index(first) : INDICATORS.index(last) + 1]) | {extra}
    assert PERSON_LEVEL == expected
    assert EPISODE_LEVEL == set(INDICATORS) - expected


def test_group_orders_follow_the_spec():
    gender_text = re.search(r"`gender` \(self-identified.*?(?=- `age_band`)", SECTION)[0]
    assert GROUP_ORDER["gender"] == tuple(dict.fromkeys(re.findall(r"→ `(\w+)`", gender_text)))
    bands = re.search(r"`age_band` at episode start: (.*?)\.", SECTION)[1]
    assert GROUP_ORDER["age_band"] == tuple(re.findall(r"`([\w+-]+)`", bands))


def test_counts_shares_and_means():
    assert {INDICATOR_KINDS[i] for i in ("episodes_closed", "index_persons")} == {"count"}
    assert {INDICATOR_KINDS[i] for i in INDICATORS if i.startswith("mean") or i in ("srs_mean", "effect_size")} == {"mean"}


# --- group functions ----------------------------------------------------------


@pytest.mark.parametrize(
    ("gender", "age", "group"),
    [
        ("female", 0, "flicka"),
        ("female", 17, "flicka"),
        ("female", 18, "kvinna"),
        ("female", None, "flicka"),
        ("male", 17, "pojke"),
        ("male", 18, "man"),
        ("male", 70, "man"),
        ("male", None, "pojke"),
        ("other", 10, "annat"),
        ("other", 30, "annat"),
        ("other", None, "annat"),
        (None, 10, "uppgift_saknas"),
        (None, 30, "uppgift_saknas"),
        (None, None, "uppgift_saknas"),
    ],
)
def test_gender_group(gender, age, group):
    assert gender_group(gender, age) == group


def test_gender_group_refuses_unknown_values():
    with pytest.raises(ValueError):
        gender_group("f", 10)


@pytest.mark.parametrize(
    ("age", "band"),
    [(0, "0-5"), (5, "0-5"), (6, "6-12"), (12, "6-12"), (13, "13-17"), (17, "13-17"), (18, "18+"), (90, "18+"), (None, "okand")],
)
def test_age_band(age, band):
    assert age_band(age) == band


def test_age_band_refuses_negative_age():
    with pytest.raises(ValueError):
        age_band(-1)


END = date(2024, 3, 10)


@pytest.mark.parametrize(
    ("starts", "expected"),
    [
        ([], False),
        ([END], False),  # same day is not "after"
        ([END - timedelta(days=30)], False),
        ([END + timedelta(days=1)], True),
        ([END + timedelta(days=365)], True),
        ([END + timedelta(days=366)], False),
        ([END - timedelta(days=1), END + timedelta(days=400), END + timedelta(days=200)], True),
    ],
)
def test_is_rereferred(starts, expected):
    assert is_rereferred(END, starts) is expected


@pytest.mark.parametrize(("days", "expected"), [(0, False), (364, False), (365, True), (366, True)])
def test_a_period_is_reported_for_rereferral_365_days_after_its_end(days, expected):
    # metrics.md §6: "reported only for a period that ended at least 365 days before the report's as-of date"
    assert rereferral_reported(END, END + timedelta(days=days)) is expected
    assert rereferral_reportable_from(END) == END + timedelta(days=365)


def test_a_period_not_yet_reported_leaves_not_rereferred_out():
    e1 = episode("E1", "FAMBEH", date(2025, 1, 20), date(2025, 5, 20))
    with_it = compute_indicators([e1], [person(e1, "P1", 2010, "female")], [])
    without = compute_indicators([e1], [person(e1, "P1", 2010, "female")], [], with_rereferral=False)
    assert "not_rereferred_12m" in {c.indicator for c in with_it}
    assert "not_rereferred_12m" not in {c.indicator for c in without}
    assert [c for c in with_it if c.indicator != "not_rereferred_12m"] == without


# --- a hand-built period -------------------------------------------------------
#
# E1 FAMBEH: referral 1 Jan, start 20 Jan (19 days), end 20 May 2025 = 120 days, planned, 10 sessions
# E2 FAMBEH: referral 1 Jan, start 15 Feb (45 days), end 5 Jun 2025 = 110 days, client_dropout, 4 sessions
# E3 MST:    no referral date, start 1 Mar, end 1 Jul 2025 = 122 days, planned, 6 sessions
#
# person episode born gender  age group/band      index series          paired clinical category     rereferred
# P1     E1      2010 female  15  flicka/13-17    ORS 20.0→27.0 c28 RC5  yes    yes      improved     no
# P2     E1      2016 male     9  pojke/6-12      CORS 30.0→33.0 c32 RC6 yes    yes      unchanged    yes
# P3     E2      2005 female  20  kvinna/18+      ORS 15.0→26.0 c25 RC5  yes    yes      recovered    no
# P4     E2      none none     -  uppgift/okand   ORS 22.0 (n = 1)       no     -        single       no
# P5     E3      2008 other   17  annat/13-17     none                   no     -        -            no
# P6     E3      2007 male    18  man/18+         ORS 30.0→24.0 c25 RC5  yes    no       deteriorated no
# P7     E3      2022 female   3  flicka/0-5      YCORS 10→15→20         no     -        not_scored   no
#
# SRS totals: E1 38.0, 35.9, 40.0; E2 36.0; E3 30.0, 39.0


@pytest.fixture(scope="module")
def cells() -> dict[tuple[str, str, str], Cell]:
    e1 = episode("E1", "FAMBEH", date(2025, 1, 20), date(2025, 5, 20), referral=date(2025, 1, 1), sessions=10)
    e2 = episode("E2", "FAMBEH", date(2025, 2, 15), date(2025, 6, 5), referral=date(2025, 1, 1), reason="client_dropout", sessions=4)
    e3 = episode("E3", "MST", date(2025, 3, 1), date(2025, 7, 1), sessions=6)
    persons = [
        person(e1, "P1", 2010, "female", series("ORS", 2010, "20.0", "24.0", "27.0")),
        person(e1, "P2", 2016, "male", series("CORS", 2016, "30.0", "33.0"), rereferred=True),
        person(e2, "P3", 2005, "female", series("ORS", 2005, "15.0", "20.0", "26.0")),
        person(e2, "P4", None, None, series("ORS", None, "22.0")),
        person(e3, "P5", 2008, "other"),
        person(e3, "P6", 2007, "male", series("ORS", 2007, "30.0", "24.0", start=date(2025, 3, 1))),
        person(e3, "P7", 2022, "female", series("YCORS", 2022, "10.0", "15.0", "20.0")),
    ]
    srs = [("E1", "FAMBEH", D(t)) for t in ("38.0", "35.9", "40.0")] + [("E2", "FAMBEH", D("36.0"))]
    srs += [("E3", "MST", D(t)) for t in ("30.0", "39.0")]
    result = compute_indicators([e1, e2, e3], persons, srs)
    by_key = {(c.breakdown, c.group, c.indicator): c for c in result}
    assert len(by_key) == len(result), "one cell per breakdown, group and indicator"
    return by_key


def test_the_dataset_is_what_the_table_says():
    assert series("ORS", 2010, "20.0", "27.0").category == "improved"
    assert series("CORS", 2016, "30.0", "33.0").category == "unchanged"
    assert series("ORS", 2005, "15.0", "26.0").category == "recovered"
    assert series("ORS", 2007, "30.0", "24.0", start=date(2025, 3, 1)).category == "deteriorated"


N = None
EXPECTED = [
    # all: 3 episodes, 7 index persons
    ("all", "all", "episodes_closed", 3, N, "3"),
    ("all", "all", "index_persons", 7, N, "7"),
    ("all", "all", "coverage", 6, 7, "0.8571"),  # everyone but P5; 6/7 = 0.857142…
    ("all", "all", "paired", 4, 7, "0.5714"),  # P1, P2, P3, P6; 4/7 = 0.571428…
    ("all", "all", "reliable_improvement", 2, 4, "0.5000"),  # P1 (+7), P3 (+11)
    ("all", "all", "recovered", 1, 3, "0.3333"),  # P3 of the clinical P1, P2, P3
    ("all", "all", "deteriorated", 1, 4, "0.2500"),  # P6 (−6)
    ("all", "all", "mean_intake", N, 4, "23.7500"),  # (20 + 30 + 15 + 30) / 4 = 95 / 4
    ("all", "all", "mean_change", N, 4, "3.7500"),  # (7 + 3 + 11 − 6) / 4 = 15 / 4
    # F deviations from 23.75: −3.75, 6.25, −8.75, 6.25; squares sum 168.75; / 3 = 56.25; SD 7.5; 3.75 / 7.5
    ("all", "all", "effect_size", N, 4, "0.5000"),
    ("all", "all", "mean_sessions", N, 3, "6.6667"),  # 20 / 3
    ("all", "all", "mean_days", N, 3, "117.3333"),  # (120 + 110 + 122) / 3 = 352 / 3
    ("all", "all", "dropout", 1, 3, "0.3333"),
    ("all", "all", "started_within_30d", 1, 2, "0.5000"),  # E1 19 days, E2 45 days, E3 no referral
    ("all", "all", "not_rereferred_12m", 6, 7, "0.8571"),  # every index person; P2 came back
    ("all", "all", "srs_mean", N, 6, "36.4833"),  # 218.9 / 6 = 36.48333…
    ("all", "all", "srs_below_36", 2, 6, "0.3333"),  # 35.9 and 30.0; 36.0 is not below
    # gender: flicka = P1 and P7 (P7 unpaired YCORS)
    ("gender", "flicka", "index_persons", 2, N, "2"),
    ("gender", "flicka", "coverage", 2, 2, "1.0000"),
    ("gender", "flicka", "paired", 1, 2, "0.5000"),
    ("gender", "flicka", "reliable_improvement", 1, 1, "1.0000"),
    ("gender", "flicka", "recovered", 0, 1, "0.0000"),
    ("gender", "flicka", "mean_intake", N, 1, "20.0000"),
    ("gender", "flicka", "effect_size", N, 1, N),  # one paired series: no SD
    ("gender", "flicka", "not_rereferred_12m", 2, 2, "1.0000"),
    ("gender", "pojke", "not_rereferred_12m", 0, 1, "0.0000"),
    ("gender", "annat", "coverage", 0, 1, "0.0000"),
    ("gender", "annat", "paired", 0, 1, "0.0000"),
    ("gender", "annat", "reliable_improvement", 0, 0, N),
    ("gender", "annat", "mean_intake", N, 0, N),
    ("gender", "annat", "not_rereferred_12m", 1, 1, "1.0000"),
    ("gender", "uppgift_saknas", "paired", 0, 1, "0.0000"),  # P4 has one rating only
    ("gender", "uppgift_saknas", "coverage", 1, 1, "1.0000"),
    ("gender", "man", "deteriorated", 1, 1, "1.0000"),
    ("gender", "kvinna", "recovered", 1, 1, "1.0000"),
    # age band 18+: P3 (15 → 26) and P6 (30 → 24)
    ("age_band", "18+", "index_persons", 2, N, "2"),
    ("age_band", "18+", "recovered", 1, 1, "1.0000"),  # only P3 started below its cutoff
    ("age_band", "18+", "mean_intake", N, 2, "22.5000"),  # (15 + 30) / 2
    ("age_band", "18+", "mean_change", N, 2, "2.5000"),  # (11 − 6) / 2
    # SD of 15, 30 = sqrt(112.5) = 10.6066…; 2.5 / 10.6066 = 0.235702…
    ("age_band", "18+", "effect_size", N, 2, "0.2357"),
    ("age_band", "13-17", "index_persons", 2, N, "2"),  # P1 and P5
    ("age_band", "0-5", "paired", 0, 1, "0.0000"),  # YCORS is not scored
    ("age_band", "okand", "index_persons", 1, N, "1"),
    # intervention FAMBEH: E1, E2, P1–P4
    ("intervention", "FAMBEH", "episodes_closed", 2, N, "2"),
    ("intervention", "FAMBEH", "index_persons", 4, N, "4"),
    ("intervention", "FAMBEH", "paired", 3, 4, "0.7500"),
    ("intervention", "FAMBEH", "reliable_improvement", 2, 3, "0.6667"),
    ("intervention", "FAMBEH", "recovered", 1, 3, "0.3333"),
    ("intervention", "FAMBEH", "deteriorated", 0, 3, "0.0000"),
    ("intervention", "FAMBEH", "mean_intake", N, 3, "21.6667"),  # 65 / 3
    ("intervention", "FAMBEH", "mean_change", N, 3, "7.0000"),  # 21 / 3
    # F 20, 30, 15: squares about the mean 65/3 sum to 350/3; / 2 = 175/3; SD 7.6376…; 7 / 7.6376 = 0.91651…
    ("intervention", "FAMBEH", "effect_size", N, 3, "0.9165"),
    ("intervention", "FAMBEH", "not_rereferred_12m", 3, 4, "0.7500"),  # P1, P3, P4 of P1–P4
    ("intervention", "FAMBEH", "mean_sessions", N, 2, "7.0000"),
    ("intervention", "FAMBEH", "mean_days", N, 2, "115.0000"),
    ("intervention", "FAMBEH", "dropout", 1, 2, "0.5000"),
    ("intervention", "FAMBEH", "started_within_30d", 1, 2, "0.5000"),
    ("intervention", "FAMBEH", "srs_mean", N, 4, "37.4750"),  # 149.9 / 4
    ("intervention", "FAMBEH", "srs_below_36", 1, 4, "0.2500"),
    # intervention MST: E3, P5–P7
    ("intervention", "MST", "coverage", 2, 3, "0.6667"),
    ("intervention", "MST", "recovered", 0, 0, N),  # P6 started above the cutoff
    ("intervention", "MST", "mean_change", N, 1, "-6.0000"),
    ("intervention", "MST", "effect_size", N, 1, N),
    ("intervention", "MST", "started_within_30d", 0, 0, N),
    ("intervention", "MST", "mean_days", N, 1, "122.0000"),
    ("intervention", "MST", "srs_mean", N, 2, "34.5000"),
    ("intervention", "MST", "srs_below_36", 1, 2, "0.5000"),
]


@pytest.mark.parametrize(("breakdown", "group", "indicator", "numerator", "denominator", "value"), EXPECTED)
def test_hand_computed_cell(cells, breakdown, group, indicator, numerator, denominator, value):
    cell = cells[(breakdown, group, indicator)]
    assert (cell.numerator, cell.denominator) == (numerator, denominator)
    assert cell.value == (None if value is None else D(value))
    if value is not None:
        assert str(cell.value) == value  # counts exact, shares and means with 4 decimals
    assert cell.kind == INDICATOR_KINDS[indicator]
    assert not cell.suppressed


def test_groups_and_breakdowns_present(cells):
    groups = defaultdict(set)
    for breakdown, group, indicator in cells:
        groups[breakdown, indicator].add(group)
    for indicator in INDICATORS:
        assert groups["all", indicator] == {"all"}
        assert groups["intervention", indicator] == {"FAMBEH", "MST"}
    for indicator in PERSON_LEVEL:
        assert groups["gender", indicator] == set(GROUP_ORDER["gender"])
        assert groups["age_band", indicator] == set(GROUP_ORDER["age_band"])
    for indicator in EPISODE_LEVEL:
        assert ("gender", indicator) not in groups and ("age_band", indicator) not in groups


def test_cell_order_is_breakdown_then_group_then_indicator(cells):
    keys = list(cells)
    rank = {
        "all": {"all": 0},
        "gender": {g: i for i, g in enumerate(GROUP_ORDER["gender"])},
        "age_band": {g: i for i, g in enumerate(GROUP_ORDER["age_band"])},
        "intervention": {"FAMBEH": 0, "MST": 1},
    }
    sort_key = [(BREAKDOWNS.index(b), rank[b][g], INDICATORS.index(i)) for b, g, i in keys]
    assert sort_key == sorted(sort_key)


def test_groups_without_index_persons_are_left_out():
    only = episode("E1", "MST", date(2025, 1, 1), date(2025, 2, 1))
    art = episode("E2", "ART", date(2025, 1, 1), date(2025, 2, 1))
    result = compute_indicators([only, art], [person(only, "P1", 2012, "male")], [])
    present = {(c.breakdown, c.group) for c in result}
    assert ("gender", "pojke") in present and ("gender", "flicka") not in present
    assert ("age_band", "13-17") in present and ("age_band", "6-12") not in present
    # ART has a closed episode but no index person: episode-level indicators only, and listed first by code
    art_indicators = {c.indicator for c in result if c.group == "ART"}
    assert art_indicators == set(EPISODE_LEVEL)
    assert [c.group for c in result if c.breakdown == "intervention"][0] == "ART"


def test_age_for_breakdowns_is_taken_at_episode_start():
    # Born 2007, episode starts Dec 2024 (17) although every rating is in 2025 (18).
    started = episode("E1", "FFT", date(2024, 12, 2), date(2025, 3, 1))
    p = person(started, "P1", 2007, "female", series("ORS", 2007, "20.0", "26.0", start=date(2025, 1, 8)))
    groups = {(c.breakdown, c.group) for c in compute_indicators([started], [p], [])}
    assert {("gender", "flicka"), ("age_band", "13-17")} <= groups
    assert ("gender", "kvinna") not in groups


def test_a_birth_year_after_the_start_counts_as_unknown_age():
    # Born 2025, episode starts Dec 2024: no age at episode start, so `okand` and, as for unknown age, pojke.
    started = episode("E1", "FFT", date(2024, 12, 2), date(2025, 3, 1))
    p = person(started, "P1", 2025, "male")
    groups = {(c.breakdown, c.group) for c in compute_indicators([started], [p], [])}
    assert {("gender", "pojke"), ("age_band", "okand")} <= groups


def test_empty_period_has_only_the_all_row_with_zeros():
    result = compute_indicators([], [], [])
    assert [c.indicator for c in result] == list(INDICATORS)
    for c in result:
        assert c.breakdown == "all"
        if c.kind == "count":
            assert (c.numerator, c.value) == (0, D(0))
        else:
            assert (c.denominator, c.value) == (0, None)


def test_effect_size_is_none_when_intakes_do_not_vary():
    e = episode("E1", "FFT", date(2025, 1, 1), date(2025, 4, 1))
    persons = [
        person(e, "P1", 2010, "female", series("ORS", 2010, "20.0", "26.0")),
        person(e, "P2", 2012, "male", series("ORS", 2012, "20.0", "22.0")),
    ]
    effect = next(c for c in compute_indicators([e], persons, []) if c.indicator == "effect_size")
    assert (effect.denominator, effect.value) == (2, None)


def test_shares_round_half_up():
    # 1 dropout of 32 episodes: 1 / 32 = 0.03125 -> 0.0313 (half-even would give 0.0312)
    episodes = [
        episode(f"E{k}", "FFT", date(2025, 1, 1), date(2025, 3, 1), reason="client_dropout" if k == 0 else "planned")
        for k in range(32)
    ]
    dropout = next(c for c in compute_indicators(episodes, [], []) if c.indicator == "dropout")
    assert (dropout.numerator, dropout.denominator, dropout.value) == (1, 32, D("0.0313"))


def test_inconsistent_input_is_refused():
    e = episode("E1", "FFT", date(2025, 1, 1), date(2025, 3, 1))
    other = episode("E9", "MST", date(2025, 1, 1), date(2025, 3, 1))
    p = person(e, "P1", 2010, "male")
    with pytest.raises(ValueError, match="twice"):
        compute_indicators([e, e], [], [])
    with pytest.raises(ValueError, match="twice"):
        compute_indicators([e], [p, p], [])
    with pytest.raises(ValueError):
        compute_indicators([e], [person(other, "P2", 2010, "male")], [])
    with pytest.raises(ValueError):
        compute_indicators([e], [], [("E1", "MST", D("38.0"))])
    with pytest.raises(ValueError):
        compute_indicators([e], [], [("E9", "MST", D("38.0"))])


def test_cell_kind_is_checked():
    with pytest.raises(ValueError):
        Cell("all", "all", "paired", "ratio", 1, 2, D("0.5"))


@settings(max_examples=60, deadline=None)
@given(datasets())
def test_breakdowns_partition_the_all_row(data):
    episodes, persons, srs = data
    result = compute_indicators(episodes, persons, srs)
    totals = {c.indicator: c for c in result if c.breakdown == "all"}
    sums = defaultdict(lambda: [0, 0])
    for c in result:
        if c.breakdown != "all":
            sums[c.breakdown, c.indicator][0] += c.numerator or 0
            sums[c.breakdown, c.indicator][1] += c.denominator or 0
        if c.kind == "share" and c.value is not None:
            assert 0 <= c.value <= 1 and c.value.as_tuple().exponent == -4
            assert c.numerator <= c.denominator
    breakdowns = {"gender", "age_band", "intervention"}
    for indicator, total in totals.items():
        for breakdown in breakdowns if indicator in PERSON_LEVEL else {"intervention"}:
            expected = [total.numerator or 0, total.denominator or 0]
            assert sums.get((breakdown, indicator), [0, 0]) == expected, (breakdown, indicator)
    assert totals["index_persons"].numerator == len(persons)
    assert totals["episodes_closed"].numerator == len(episodes)
    assert totals["paired"].numerator == sum(p.index_series is not None and p.index_series.paired for p in persons)
