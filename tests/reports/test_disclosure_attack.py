"""Attacking the published figures as a reader of every file would (metrics.md §7, issue "cell-key method").

The demo city is reported the way a quality group can download it: every
unit with ALL (the whole organisation, a cell of its own), each tertial and
each year to date, and every pair of units with its chosen total. The
attacker knows the perturbation table, every published figure, that ALL is
the sum of the units and a year to date the sum of its tertials, that the
groups of a breakdown add up to `all`, that a group is listed only when it
has members, and how the counts of one group nest (paired ≤ covered ≤
persons, …). For every true count of 1–4, an integer linear programme
(scipy ``linprog`` with HiGHS) finds the smallest and largest true value
consistent with all of that: it must never be a single value.
"""
from __future__ import annotations

import math
from collections import defaultdict
from datetime import date
from itertools import combinations

import numpy as np
import pytest
from scipy.optimize import linprog
from scipy.sparse import lil_matrix

from fitapp.demo.generator import fill_demo
from fitapp.disclosure import ptable_in_force
from fitapp.reports.services import ALL_UNITS, build_report, resolve_units
from fitapp.scoring.ckm import PTableEntry

TODAY = date(2026, 3, 15)
YEAR = 2025
AS_OF = TODAY
THRESHOLD = 5

# What each report row says about the underlying counts: (numerator count, denominator count).
# Counts are named by what they count; a share's numerator and denominator are two counts.
ROW_COUNTS = {
    "episodes_closed": ("episodes", None),
    "index_persons": ("persons", None),
    "coverage": ("covered", "persons"),
    "paired": ("paired", "persons"),
    "reliable_improvement": ("improved", "paired"),
    "recovered": ("recovered", "clinical"),
    "deteriorated": ("deteriorated", "paired"),
    "mean_intake": (None, "paired"),
    "mean_change": (None, "paired"),
    "effect_size": (None, "paired"),
    "mean_sessions": (None, "episodes"),
    "mean_days": (None, "episodes"),
    "dropout": ("dropouts", "episodes"),
    "started_within_30d": ("within", "referred"),
    "not_rereferred_12m": ("kept", "persons"),
    "srs_mean": (None, "srs"),
    "srs_below_36": ("below", "srs"),
}
# Nesting the attacker knows: smaller <= larger within one group, unit and tertial.
NESTED = [("covered", "persons"), ("paired", "covered"), ("improved", "paired"), ("clinical", "paired"),
          ("recovered", "clinical"), ("deteriorated", "paired"), ("kept", "persons"), ("dropouts", "episodes"),
          ("referred", "episodes"), ("within", "referred"), ("below", "srs")]
PERSON_COUNTS = {"persons", "covered", "paired", "improved", "clinical", "recovered", "deteriorated", "kept"}


def preimages(table, largest: int) -> dict[int, set[int]]:
    """protected value -> the true counts 0..largest that can give it (the table's support)."""
    pre: dict[int, set[int]] = defaultdict(set)
    for n in range(largest + 1):
        row = table.rows[min(n, table.m)]
        for entry in row:
            if entry.p > 0:
                pre[entry.j if n < table.m else n + entry.j - table.m].add(n)
    return pre


def published(rows) -> dict[tuple, tuple[str, object]]:
    """(unit, breakdown, group, count) -> ("value", n') | ("hidden", None) | ("at_least", n'), from report rows.

    A share's numerator equal to its denominator may have been lowered to it (§7.4): then only
    "at least" is known.
    """
    facts: dict[tuple, tuple[str, object]] = {}
    for row in rows:
        numerator_count, denominator_count = ROW_COUNTS[row.indicator]
        where = (row.unit, row.breakdown, row.group)
        if row.suppressed:
            if row.kind == "count":
                facts.setdefault((*where, numerator_count), ("hidden", None))
            continue
        if row.kind == "count":
            facts[(*where, numerator_count)] = ("value", row.numerator)
            continue
        facts[(*where, denominator_count)] = ("value", row.denominator)
        if numerator_count is not None:
            lowered = row.numerator == row.denominator
            key = (*where, numerator_count)
            if not lowered or facts.get(key, ("at_least",))[0] == "at_least":
                facts[key] = ("at_least", row.numerator) if lowered else ("value", row.numerator)
    return facts


class Attack:
    """The attacker's integer programme over the true counts of (unit, tertial, breakdown, group, count)."""

    def __init__(self, table, units: list[str], largest: int) -> None:
        self.pre = preimages(table, largest)
        self.largest = largest
        self.units = units
        self.index: dict[tuple, int] = {}
        self.upper_rows: list[tuple[dict[int, int], int]] = []  # Σ coef·x <= bound
        self.equal_rows: list[tuple[dict[int, int], int]] = []
        self.bounds: dict[int, list[int]] = {}

    def var(self, unit: str, tertial: int, breakdown: str, group: str, count: str) -> int:
        key = (unit, tertial, breakdown, group, count)
        if key not in self.index:
            self.index[key] = len(self.index)
            self.bounds[self.index[key]] = [0, self.largest]
        return self.index[key]

    def between(self, variables: list[int], low: int, high: int | None) -> None:
        if len(variables) == 1:
            bound = self.bounds[variables[0]]
            bound[0] = max(bound[0], low)
            if high is not None:
                bound[1] = min(bound[1], high)
            return
        self.upper_rows.append(({v: -1 for v in variables}, -low))
        if high is not None:
            self.upper_rows.append(({v: 1 for v in variables}, high))

    def observe(self, variables: list[int], possible_values: set[int], at_least: bool = False) -> None:
        """The sum of ``variables`` was published as one of ``possible_values`` (protected), or, with
        ``at_least``, as a value of at least the one given."""
        if at_least:
            possible_values = set(range(min(possible_values), max(self.pre) + 1))
        support = set().union(*(self.pre.get(v, set()) for v in possible_values))
        low, high = min(support), max(support)
        # The relaxation to [low, high] is exact only if the support has no holes: check it.
        assert support == set(range(low, high + 1)), (possible_values, sorted(support))
        self.between(variables, low, None if at_least else high)

    def sums_to(self, parts: list[int], whole: int) -> None:
        row = {v: 1 for v in parts}
        row[whole] = row.get(whole, 0) - 1
        self.equal_rows.append((row, 0))

    def at_most(self, smaller: int, larger: int) -> None:
        self.upper_rows.append(({smaller: 1, larger: -1}, 0))

    def range_of(self, variable: int, *, integral: bool) -> tuple[float, float]:
        """The smallest and largest value of ``variable`` over every solution (integers if ``integral``)."""
        if not hasattr(self, "_problem"):
            size = len(self.index)
            a_ub, b_ub = self._matrix(self.upper_rows, size)
            a_eq, b_eq = self._matrix(self.equal_rows, size)
            self._problem = dict(A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq,
                                 bounds=[tuple(self.bounds[i]) for i in range(size)], method="highs")
        size = len(self.index)
        ends = []
        for sign in (1, -1):
            cost = np.zeros(size)
            cost[variable] = sign
            result = linprog(cost, integrality=np.ones(size) if integral else None, **self._problem)
            assert result.status == 0, result.message
            ends.append(sign * result.fun)
        return ends[0], ends[1]

    def sample_solutions(self, count: int, seed: int) -> np.ndarray:
        """Integer solutions of the programme for ``count`` random objectives, one row each."""
        self.range_of(0, integral=False)  # builds the problem
        rng = np.random.default_rng(seed)
        size = len(self.index)
        solutions = []
        for _ in range(count):
            result = linprog(rng.integers(-1, 2, size=size), integrality=np.ones(size), **self._problem)
            assert result.status == 0, result.message
            solutions.append(result.x)
        return np.array(solutions)

    def pushed(self, columns: list[int]) -> np.ndarray:
        """Two integer solutions: the sum of ``columns`` as small and as large as it can be."""
        size = len(self.index)
        solutions = []
        for sign in (1, -1):
            cost = np.zeros(size)
            cost[columns] = sign
            result = linprog(cost, integrality=np.ones(size), **self._problem)
            assert result.status == 0, result.message
            solutions.append(result.x)
        return np.array(solutions)

    @staticmethod
    def _matrix(rows, size):
        if not rows:
            return None, None
        matrix = lil_matrix((len(rows), size))
        for r, (coefficients, _) in enumerate(rows):
            for column, value in coefficients.items():
                matrix[r, column] = value
        return matrix.tocsr(), np.array([bound for _, bound in rows], dtype=float)


@pytest.fixture
def backend():
    """SQLite only: the attack is on the published figures, which the same records make alike on both
    databases (the report query itself runs on PostgreSQL in the other report tests)."""
    return "sqlite"


@pytest.fixture
def demo_city(app):
    fill_demo(seed=11, today=TODAY, if_empty=False, scale=0.5)
    return [code for _, code in resolve_units([])]


def quality_group_files(units: list[str], *, exact: bool = False) -> dict[tuple, list]:
    """Every file a quality group of the whole city can download for the year: (which, tertial, ytd) -> rows."""
    files = {}
    for tertial in (1, 2, 3):
        files[("city", tertial, False)] = build_report(YEAR, tertial, False, [], AS_OF, exact=exact)
        files[("city", tertial, True)] = build_report(YEAR, tertial, True, [], AS_OF, exact=exact)
    for pair in combinations(units, 2):
        for tertial in (1, 2, 3):
            files[(pair, tertial, False)] = build_report(YEAR, tertial, False, list(pair), AS_OF, exact=exact)
    return files


def attack_on(files: dict[tuple, list], units: list[str], table) -> tuple[Attack, list[tuple[tuple, int]]]:
    """The attacker's programme over the files, and the targets: the true counts of 1–4 with their values."""
    exact = {tertial: build_report(YEAR, tertial, False, [], AS_OF, exact=True) for tertial in (1, 2, 3)}
    true = defaultdict(int)
    for tertial, rows in exact.items():
        for row in rows:
            if row.unit == ALL_UNITS or row.kind == "mean":
                continue
            numerator_count, denominator_count = ROW_COUNTS[row.indicator]
            true[(row.unit, tertial, row.breakdown, row.group, numerator_count)] = row.numerator
            if denominator_count is not None:
                true[(row.unit, tertial, row.breakdown, row.group, denominator_count)] = row.denominator
    # No true count exceeds the largest published figure plus the table's largest deviation.
    largest = max(max(r.numerator or 0, r.denominator or 0) for rows in files.values() for r in rows) + table.d
    attack = Attack(table, units, largest)
    groups = defaultdict(set)  # (unit, tertial, breakdown, count) -> groups listed
    for (unit, tertial, breakdown, group, count) in true:
        attack.var(unit, tertial, breakdown, group, count)
        groups[(unit, tertial, breakdown, count)].add(group)
    # Structure: breakdowns partition `all`; listed groups have members; counts nest.
    for (unit, tertial, breakdown, count), listed in groups.items():
        if breakdown == "all":
            continue
        whole = attack.var(unit, tertial, "all", "all", count)
        attack.sums_to([attack.var(unit, tertial, breakdown, g, count) for g in listed], whole)
        for g in listed:
            member = "persons" if count in PERSON_COUNTS else "episodes"
            attack.between([attack.var(unit, tertial, breakdown, g, member)], 1, None)
    for (unit, tertial, breakdown, group, count) in list(true):
        for smaller, larger in NESTED:
            if count == smaller and (unit, tertial, breakdown, group, larger) in true:
                attack.at_most(attack.var(unit, tertial, breakdown, group, smaller),
                               attack.var(unit, tertial, breakdown, group, larger))
    # What the files publish.
    small = set(range(1, THRESHOLD))
    hidden_values = {v for v in small if v in attack.pre}

    def cells_of(block_units, tertials, breakdown, group, count):
        return [attack.index[(u, t, breakdown, group, count)] for u in block_units for t in tertials
                if (u, t, breakdown, group, count) in attack.index]

    for (which, tertial, ytd), rows in files.items():
        tertials = list(range(1, tertial + 1)) if ytd else [tertial]
        facts = published(rows)
        for (unit, breakdown, group, count), (what, value) in facts.items():
            if which != "city" and unit == ALL_UNITS:
                continue  # a chosen total is the sum of published unit figures: handled below
            block_units = units if unit == ALL_UNITS else [unit]
            variables = cells_of(block_units, tertials, breakdown, group, count)
            if not variables:
                assert what != "value" or value == 0
                continue
            if what == "hidden":
                attack.observe(variables, hidden_values)
            else:
                attack.observe(variables, {value}, at_least=what == "at_least")
        if which != "city":
            # The pair's total is the sum of its two units' protected figures: where one unit's figure
            # is hidden, the total narrows down which protected value it was.
            unit_facts = published(files[("city", tertial, False)])
            for (unit, breakdown, group, count), (what, value) in facts.items():
                if unit != ALL_UNITS or what != "value":
                    continue
                parts = [unit_facts.get((u, breakdown, group, count), ("value", 0)) for u in which]
                hidden = [u for u, part in zip(which, parts) if part[0] == "hidden"]
                if len(hidden) == 1 and all(part[0] != "at_least" for part in parts):
                    known = sum(part[1] for part in parts if part[0] == "value")
                    variables = cells_of(hidden, [tertial], breakdown, group, count)
                    if variables and value - known in hidden_values:
                        attack.observe(variables, {value - known})

    targets = [(key, n) for key, n in true.items() if 1 <= n <= 4]
    return attack, targets


def pinned_down(attack: Attack, targets: list[tuple[tuple, int]]) -> list[tuple[tuple, int]]:
    """The targets whose true value is the only one consistent with everything published."""
    # Solutions of the attacker's programme: a target that takes two values among them is not pinned
    # down. First for a few random objectives, then pushing all still undecided targets up and down
    # together; only what is left gets a programme of its own.
    values = attack.sample_solutions(8, seed=3)
    undecided = [(key, n) for key, n in targets if np.ptp(values[:, attack.index[key]]) < 0.5]
    while undecided:
        columns = [attack.index[key] for key, _ in undecided]
        values = np.vstack([values, attack.pushed(columns)])
        left = [(key, n) for key, n in undecided if np.ptp(values[:, attack.index[key]]) < 0.5]
        if len(left) == len(undecided):
            break
        undecided = left
    pinned = []
    for key, n in undecided:
        low, high = attack.range_of(attack.index[key], integral=True)
        assert low - 1e-6 <= n <= high + 1e-6, (key, n, low, high)
        if round(high) == round(low):
            pinned.append((key, n))
    return pinned


def test_no_true_count_of_1_to_4_is_pinned_down_by_every_file_together(demo_city):
    files = quality_group_files(demo_city)
    # A unit's row is the same figure in every file it appears in (same records, same cell keys).
    by_unit: dict[tuple, object] = {}
    for (which, tertial, ytd), rows in files.items():
        for row in rows:
            if row.unit != ALL_UNITS:
                key = (tertial, ytd, row.unit, row.breakdown, row.group, row.indicator)
                assert by_unit.setdefault(key, row) == row, key
    attack, targets = attack_on(files, demo_city, ptable_in_force())
    assert len(targets) > 50, "the demo city should have many small counts to attack"
    assert pinned_down(attack, targets) == []


class _NoNoise:
    """A table that changes nothing: what publishing exact figures amounts to."""

    m, d = 1, 0
    rows = {0: (PTableEntry(0, 0, 1.0, 0.0, 1.0),), 1: (PTableEntry(1, 1, 1.0, 0.0, 1.0),)}


def test_the_same_attack_pins_small_counts_down_in_exact_figures(demo_city):
    # The control: the programme above is strong enough to find what exact files give away.
    files = quality_group_files(demo_city[:2], exact=True)
    files = {key: rows for key, rows in files.items() if key[0] == "city" or key[0] == tuple(demo_city[:2])}
    attack, targets = attack_on(files, demo_city, _NoNoise())
    some = targets[:10]
    assert len(some) == 10
    for key, n in some:
        assert attack.range_of(attack.index[key], integral=False) == pytest.approx((n, n)), key
