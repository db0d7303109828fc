"""Group totals: the figures from summed facts equal the figures worked out person by person (metrics.md §6).

``indicator_figures`` sums integer facts per group and works every mean and
the effect size out of the sums. These tests recompute the figures the plain
way, from the lists of values with exact fractions, and check that ALL made
by adding up units' totals equals ALL computed from everyone.
"""
from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Context, Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fitapp.scoring.figures import block_figures, compute_indicators, indicator_figures
from fitapp.scoring.indicators import (
    ALL_GROUP,
    age_band,
    alliance_tallies,
    block_entries,
    block_totals,
    gender_group,
    merged_totals,
)
from fitapp.scoring.protection import shown_totals
from fitapp.scoring.norms import age_at
from tests.scoring.builders import datasets

WIDE = Context(prec=80)


def rounded(value: Fraction | Decimal) -> Decimal:
    """Half-up to four decimals, from an exact fraction (or a Decimal carried at 80 digits)."""
    if isinstance(value, Fraction):
        value = WIDE.divide(Decimal(value.numerator), Decimal(value.denominator))
    return value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP, context=WIDE)


def groups_of(person) -> list[tuple[str, str]]:
    age = age_at(person.episode_start, person.birth_year)
    return [(ALL_GROUP, ALL_GROUP), ("gender", gender_group(person.gender, age)), ("age_band", age_band(age)),
            ("intervention", person.intervention)]


def reference_means(persons) -> dict[tuple[str, str], tuple]:
    """(mean F, mean d, effect size) of each group from the lists of paired values, exactly."""
    values = defaultdict(lambda: ([], []))
    for person in persons:
        series = person.index_series
        for key in groups_of(person):
            intakes, changes = values[key]
            if series is not None and series.paired:
                intakes.append(Fraction(series.intake_score))
                changes.append(Fraction(series.change))
    result = {}
    for key, (intakes, changes) in values.items():
        n = len(intakes)
        mean_f = sum(intakes) / n if n else None
        mean_d = sum(changes) / n if n else None
        effect = None
        if n >= 2:
            variance = sum((f - mean_f) ** 2 for f in intakes) / (n - 1)
            if variance:
                sd = WIDE.sqrt(WIDE.divide(Decimal(variance.numerator), Decimal(variance.denominator)))
                effect = rounded(WIDE.divide(WIDE.divide(Decimal(mean_d.numerator), Decimal(mean_d.denominator)), sd))
        result[key] = (None if mean_f is None else rounded(mean_f), None if mean_d is None else rounded(mean_d),
                       effect)
    return result


@settings(max_examples=80, deadline=None)
@given(datasets())
def test_means_and_effect_size_from_sums_equal_those_from_the_values(data):
    episodes, persons, srs = data
    cells = {(c.breakdown, c.group, c.indicator): c for c in compute_indicators(episodes, persons, srs)}
    for (breakdown, group), (mean_f, mean_d, effect) in reference_means(persons).items():
        assert cells[breakdown, group, "mean_intake"].value == mean_f
        assert cells[breakdown, group, "mean_change"].value == mean_d
        assert cells[breakdown, group, "effect_size"].value == effect


@settings(max_examples=60, deadline=None)
@given(datasets(), st.integers(1, 4))
def test_all_from_the_units_totals_equals_all_from_everyone(data, units):
    episodes, persons, srs = data
    alliance = alliance_tallies(srs)
    everyone = indicator_figures(episodes, persons, alliance)
    unit_of = {e.episode_id: i % units for i, e in enumerate(episodes)}
    blocks = [
        block_totals(*block_entries([e for e in episodes if unit_of[e.episode_id] == unit],
                                    [p for p in persons if unit_of[p.episode_id] == unit],
                                    [a for a in alliance if unit_of[a.episode_id] == unit]))
        for unit in range(units)
    ]
    assert block_figures(shown_totals(merged_totals(blocks), None), None) == everyone
    # Exact shown totals add up as well: the sum of the units' exact figures is the exact ALL.
    assert block_figures(merged_totals([shown_totals(b, None) for b in blocks]), None) == everyone


@settings(max_examples=60, deadline=None)
@given(datasets(), st.integers(3, 8))
def test_a_threshold_hides_exactly_the_small_figures(data, threshold):
    episodes, persons, srs = data
    totals = shown_totals(block_totals(*block_entries(episodes, persons, alliance_tallies(srs))), None)
    full, published = block_figures(totals, None), block_figures(totals, threshold)
    assert [f[:4] for f in published] == [f[:4] for f in full]
    for shown, hidden_or_not in zip(full, published):
        small = any(number is not None and 0 < number < threshold for number in shown[4:6])
        assert hidden_or_not[7] is small
        assert hidden_or_not[4:7] == ((None, None, None) if small else shown[4:7])


def test_scores_and_thresholds_become_whole_tenths_and_hundredths_exactly():
    from fitapp.scoring.numbers import hundredths, tenths

    assert (tenths(Decimal("-8.0")), tenths(Decimal("36")), tenths(None)) == (-80, 360, None)
    assert (hundredths(Decimal("4.99")), hundredths(Decimal("21.0")), hundredths(None)) == (499, 2100, None)
    for finer, convert in ((Decimal("7.25"), tenths), (Decimal("4.995"), hundredths)):
        with pytest.raises(ValueError, match="more than"):
            convert(finer)


@settings(max_examples=60, deadline=None)
@given(datasets())
def test_protected_counts_are_the_table_lookups_of_the_exact_ones_with_their_cell_keys(data):
    from fitapp.scoring.ckm import KEY_MODULUS, default_ptable
    from fitapp.scoring.protection import Protection

    episodes, persons, srs = data
    table = default_ptable()
    exact = {(c.breakdown, c.group, c.indicator): c for c in compute_indicators(episodes, persons, srs)}
    protected = compute_indicators(episodes, persons, srs, Protection(table, 5))
    for cell in protected:
        if cell.indicator == "episodes_closed" and cell.breakdown == ALL_GROUP:
            n = exact[(cell.breakdown, cell.group, cell.indicator)].numerator
            shown = table.perturb(n, sum(e.record_key for e in episodes) % KEY_MODULUS)
            assert cell.suppressed == (0 < shown < 5)
            assert cell.suppressed or cell.numerator == shown
        if cell.indicator == "index_persons" and cell.breakdown == ALL_GROUP:
            shown = table.perturb(len(persons), sum(p.record_key for p in persons) % KEY_MODULUS)
            assert cell.suppressed or cell.numerator == shown
        if not cell.suppressed:  # nothing shown is 1..4, and a share never exceeds 1
            assert not any(v is not None and 0 < v < 5 for v in (cell.numerator, cell.denominator))
            assert cell.kind != "share" or cell.value is None or cell.value <= 1
