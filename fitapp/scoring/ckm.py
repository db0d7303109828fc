"""The cell-key method (metrics.md §7.2–7.4): perturbation tables and perturbed counts.

A :class:`PTable` perturbs a count with the cell key of its records
(:meth:`PTable.perturb`) and gives the noise of a protected sum
(:meth:`PTable.deviation`). :func:`generate_ptable` makes a table by the
maximum-entropy rule of §7.3, :func:`parse_ptable` and :func:`ptable_text`
read and write interchange.md's "Perturbation table file", and
:func:`default_ptable` is the table the app ships.

Decisions the spec leaves open:

- **Key units.** Record and cell keys are integers in [0, 10^9) standing for
  k = key / 10^9. An entry with interval [lb, ub) holds a key iff
  ``ceil(lb·10^9) <= key < ceil(ub·10^9)``, which is exactly lb <= k < ub.
  Only the upper bounds are used: an entry starts where the one before it
  ends, the first at 0 and the last ends at 10^9, so a row covers every key
  even where a file's bounds are off by its 10^-8 tolerance.
- **D, V and js of a file** (its id, ``ckm-d{D}-v{V}-js{js}``) come from the
  table itself: D is the largest |j − m| of the symmetric row m, V that row's
  variance rounded to 4 decimals, and js = m − D − 1 (§7.3: m = D + js + 1).
  js is thus declared by the file's shape, so "reaches a value 1..js" is a
  real check; js = 0 (no value blocked, m = D + 1) is allowed, a last row
  below D + 1 is refused. Besides the rules of interchange.md, a file is
  refused for a negative j, a row that deviates by more than D, or a
  symmetric row without noise (D = 0).
- **Shuffled** means some row's entries are not in strictly increasing j
  (split intervals repeat a j); its id ends in the first 8 hex digits of the
  SHA-256 of its text as :func:`ptable_text` writes it.
- **Generated probabilities** are rounded to 8 decimals as whole units of
  10^-8; each outcome keeps at least one unit (sdcTools's lower bound
  10^-8), the monotone part of a row stays monotone, and the largest entry
  takes what makes the row sum to exactly 1. The rounding moves a row's mean
  and variance by some 10^-8 per entry (less than 10^-6 in the default table).
"""
from __future__ import annotations

import hashlib
import math
import random
import re
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from itertools import pairwise
from typing import Any

KEY_MODULUS = 10**9
HALF_KEY = KEY_MODULUS // 2
HEADER = "i;j;p;p_int_lb;p_int_ub"
DEFAULT_TABLE_FILE = "data/ptable-ckm-d5-v3-js2.csv"  # inside the fitapp.scoring package

MAX_BIAS = Decimal("0.001")  # interchange.md: a row with |Σp·(j − i)| above this is refused
BOUND_TOLERANCE = Decimal("1e-8")
SYMMETRY_TOLERANCE = 1e-6
MIN_DECIMALS = 8

PROBABILITY_UNITS = 10**8  # generated probabilities are whole units of 10^-8
# modify_cnt_ptable's default threshold: no interval of a shuffled table is wider than 0.2.
SHUFFLE_MAX_UNITS = PROBABILITY_UNITS // 5


class PTableError(ValueError):
    """A perturbation table that breaks the rules of interchange.md, or parameters no table satisfies."""


def cell_key(key_sum: int) -> int:
    """The cell key of records whose record keys add up to ``key_sum`` (metrics.md §7.2)."""
    return key_sum % KEY_MODULUS


@dataclass(frozen=True)
class PTableEntry:
    """Row ``i``'s outcome ``j`` with probability ``p`` on the interval [``lb``, ``ub``) (metrics.md §7.3)."""

    i: int
    j: int
    p: float
    lb: float
    ub: float


class PTable:
    """A perturbation table: rows 0..m of entries in interval order, m the symmetric row (metrics.md §7.3).

    ``rows`` maps i to its entries; ``d``, ``v``, ``js`` and ``id`` are
    derived from them as the module docstring says, ``shuffled`` tells
    whether some row is not in increasing j.
    """

    def __init__(self, rows: Mapping[int, Sequence[PTableEntry]]) -> None:
        self.rows: dict[int, tuple[PTableEntry, ...]] = {i: tuple(rows[i]) for i in sorted(rows)}
        self.m = max(self.rows)
        symmetric = self.rows[self.m]
        self.d = max(abs(e.j - self.m) for e in symmetric)
        self.js = self.m - self.d - 1
        self.v = round(sum(e.p * (e.j - self.m) ** 2 for e in symmetric), 4)
        self.shuffled = any(any(a.j >= b.j for a, b in pairwise(row)) for row in self.rows.values())
        self.id = f"ckm-d{self.d}-v{self.v:g}-js{self.js}"
        if self.shuffled:
            self.id += "-" + hashlib.sha256(ptable_text(self).encode("utf-8")).hexdigest()[:8]
        # The fast path: per row, the entries' upper bounds in key units and their outcomes.
        self._upper_keys = [_upper_keys(self.rows[i]) for i in range(self.m + 1)]
        self._outcomes = [[e.j for e in self.rows[i]] for i in range(self.m + 1)]
        self._deviations = [j - self.m for j in self._outcomes[self.m]]

    def __repr__(self) -> str:
        return f"PTable({self.id!r})"

    def perturb(self, n: int, key: int) -> int:
        """The protected count of a true count ``n`` with cell key ``key`` in [0, 10^9) (metrics.md §7.3).

        Zero stays zero; n < m takes the outcome j of row n whose interval
        holds the key, n >= m becomes n + (j − m) with row m.
        """
        if n <= 0:
            if n == 0:
                return 0
            raise ValueError(f"a count is never negative, got {n}")
        if n < self.m:
            return self._outcomes[n][bisect_right(self._upper_keys[n], key)]
        return n + self._deviations[bisect_right(self._upper_keys[self.m], key)]

    def deviation(self, key: int) -> int:
        """The noise j − m of a protected sum with cell key ``key`` (metrics.md §7.4).

        Looked up in the symmetric row m with the cell key k + 0.5 (mod 1), so
        a mean's sum and its count do not move together.
        """
        return self._deviations[bisect_right(self._upper_keys[self.m], (key + HALF_KEY) % KEY_MODULUS)]


def _upper_keys(row: Sequence[PTableEntry]) -> list[int]:
    # repr() gives the shortest decimal that reads back as the same float: for
    # a bound read from a file, the file's own digits, so ceil(...) is exact.
    keys = [math.ceil(Decimal(repr(e.ub)) * KEY_MODULUS) for e in row]
    keys[-1] = KEY_MODULUS
    return keys


# ---------------------------------------------------------------- the file


def ptable_text(table: PTable) -> str:
    """``table`` as interchange.md's "Perturbation table file": 8 decimals, ``\\n`` line ends, no BOM."""
    lines = [HEADER] + [f"{e.i};{e.j};{e.p:.8f};{e.lb:.8f};{e.ub:.8f}"
                        for row in table.rows.values() for e in row]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class _Line:
    number: int
    i: int
    j: int
    p: Decimal
    lb: Decimal
    ub: Decimal


_WHOLE = re.compile(r"-?[0-9]+")
_DECIMAL = {";": re.compile(r"[0-9]+[.,]([0-9]+)"), ",": re.compile(r"[0-9]+\.([0-9]+)")}


def parse_ptable(text: str) -> PTable:
    """Read a perturbation table file (interchange.md); :class:`PTableError` names the line of the first fault.

    Accepts a byte-order mark, CRLF line ends, a ``,``-delimited file and
    decimal commas in a ``;`` file.
    """
    lines = text.removeprefix("\ufeff").splitlines()
    header = lines[0].strip() if lines else ""
    if header not in (HEADER, HEADER.replace(";", ",")):
        raise PTableError(f"line 1: the header must be {HEADER!r}, found {header!r}")
    delimiter = header[1]
    parsed = [_parse_line(number, line, delimiter)
              for number, line in enumerate(lines[1:], start=2) if line.strip()]
    rows = _rows(parsed, end=len(lines) + 1)
    _check_row_zero(rows[0])
    _check_outcomes(rows, _check_symmetric(rows[-1]))
    for row in rows[1:]:
        _check_intervals(row)
        _check_bias(row)
    return PTable({row[0].i: [PTableEntry(e.i, e.j, float(e.p), float(e.lb), float(e.ub)) for e in row]
                   for row in rows})


def _parse_line(number: int, line: str, delimiter: str) -> _Line:
    fields = [field.strip() for field in line.split(delimiter)]
    if len(fields) != 5:
        raise PTableError(f"line {number}: expected 5 fields ({HEADER}), found {len(fields)}")
    whole = [_whole(number, name, value) for name, value in zip(("i", "j"), fields[:2])]
    decimals = [_decimal(number, name, value, delimiter) for name, value in zip(("p", "p_int_lb", "p_int_ub"),
                                                                                 fields[2:])]
    return _Line(number, whole[0], whole[1], decimals[0], decimals[1], decimals[2])


def _whole(number: int, name: str, value: str) -> int:
    if not _WHOLE.fullmatch(value):
        raise PTableError(f"line {number}: {name} must be a whole number, found {value!r}")
    return int(value)


def _decimal(number: int, name: str, value: str, delimiter: str) -> Decimal:
    match = _DECIMAL[delimiter].fullmatch(value)
    if match is None or len(match.group(1)) < MIN_DECIMALS:
        raise PTableError(f"line {number}: {name} must be a number from 0 to 1 with at least {MIN_DECIMALS} "
                          f"decimals, found {value!r}")
    return Decimal(value.replace(",", "."))


def _rows(parsed: Sequence[_Line], end: int) -> list[list[_Line]]:
    """The lines grouped into rows 0, 1, …, m, each row's lines consecutive."""
    rows: list[list[_Line]] = []
    for line in parsed:
        if rows and line.i == rows[-1][0].i:
            rows[-1].append(line)
        elif line.i == len(rows):
            rows.append([line])
        elif line.i < len(rows):
            raise PTableError(f"line {line.number}: rows must come in increasing i; i={line.i} comes after "
                              f"i={rows[-1][0].i}")
        else:
            raise PTableError(f"line {line.number}: row i={len(rows)} is missing before i={line.i}")
    if len(rows) < 2:
        raise PTableError(f"line {end}: the file ends after {len(rows)} row(s); a table needs rows 0 to m "
                          "(m the symmetric row)")
    return rows


def _check_row_zero(row: Sequence[_Line]) -> None:
    first = row[0]
    if len(row) != 1 or (first.j, first.p, first.lb, first.ub) != (0, Decimal(1), Decimal(0), Decimal(1)):
        raise PTableError(f"line {first.number}: row 0 must be the one entry j=0 with p=1 on [0, 1) "
                          "(zero stays zero)")


def _check_intervals(row: Sequence[_Line]) -> None:
    end = Decimal(0)
    for line in row:
        if line.lb > end + BOUND_TOLERANCE:
            raise PTableError(f"line {line.number}: gap in row i={line.i}: p_int_lb {line.lb} but the interval "
                              f"before ends at {end}")
        if line.lb < end - BOUND_TOLERANCE:
            where = "the row starts at 0" if line is row[0] else f"the interval before ends at {end}"
            raise PTableError(f"line {line.number}: overlap in row i={line.i}: p_int_lb {line.lb} but {where}")
        if abs(line.p - (line.ub - line.lb)) > BOUND_TOLERANCE:
            raise PTableError(f"line {line.number}: p {line.p} is not p_int_ub − p_int_lb = {line.ub - line.lb}")
        end = line.ub
    if abs(end - 1) > BOUND_TOLERANCE:
        raise PTableError(f"line {row[-1].number}: the intervals of row i={row[0].i} end at {end}, not at 1")


def _check_bias(row: Sequence[_Line]) -> None:
    bias = sum((line.p * (line.j - line.i) for line in row), Decimal(0))
    if abs(bias) > MAX_BIAS:
        raise PTableError(f"line {row[0].number}: row i={row[0].i} is biased: Σp·(j − i) = {bias:.6f}, "
                          f"more than {MAX_BIAS} from 0")


def _check_symmetric(row: Sequence[_Line]) -> int:
    """D of the table: the largest deviation of its symmetric last row."""
    m = row[0].i
    mass: dict[int, Decimal] = {}
    for line in row:
        mass[line.j - m] = mass.get(line.j - m, Decimal(0)) + line.p
    for deviation, p in sorted(mass.items()):
        if -deviation not in mass:
            raise PTableError(f"line {row[0].number}: the last row i={m} must be symmetric: it has j − i = "
                              f"{deviation} but not {-deviation}")
        if abs(p - mass[-deviation]) > Decimal(SYMMETRY_TOLERANCE):
            raise PTableError(f"line {row[0].number}: the last row i={m} must be symmetric: p of j − i = "
                              f"{deviation} is {p}, of {-deviation} {mass[-deviation]}")
    d = max(mass)
    if d < 1:
        raise PTableError(f"line {row[0].number}: the last row i={m} adds no noise (largest deviation 0)")
    if m < d + 1:
        raise PTableError(f"line {row[0].number}: the last row i={m} must be at least D + 1 = {d + 1} "
                          f"(m = D + js + 1, D = {d} its largest deviation)")
    return d


def _check_outcomes(rows: Sequence[Sequence[_Line]], d: int) -> None:
    js = len(rows) - 1 - d - 1
    for line in (line for row in rows for line in row):
        if line.j < 0:
            raise PTableError(f"line {line.number}: j={line.j} in row i={line.i}: a count never becomes negative")
        if 1 <= line.j <= js:
            raise PTableError(f"line {line.number}: j={line.j} in row i={line.i}: a protected count is never "
                              f"1..{js} (js={js}: last row {len(rows) - 1} = D + js + 1 with D={d})")
        if abs(line.j - line.i) > d:
            raise PTableError(f"line {line.number}: j={line.j} in row i={line.i} deviates by more than D={d}, "
                              "the largest deviation of the symmetric row")


@cache
def default_ptable() -> PTable:
    """The shipped default table, D = 5, V = 3, js = 2 (metrics.md §7.3), read once."""
    resource = resources.files("fitapp.scoring").joinpath(DEFAULT_TABLE_FILE)
    return parse_ptable(resource.read_text(encoding="utf-8-sig"))


# ---------------------------------------------------------------- generating


def generate_ptable(d: int = 5, v: float = 3, js: int = 2, shuffle_seed: str | int | None = None) -> PTable:
    """The maximum-entropy table of metrics.md §7.3, as sdcTools/ptable's ``create_cnt_ptable(D, V, js)``.

    Row i (1 <= i <= m = D + js + 1) has the outcomes j in [max(0, i − D),
    i + D] other than 1..js, with the probabilities of greatest entropy such
    that Σp = 1, Σp·(j − i) = 0, Σp·(j − i)² <= V and p does not decrease
    from the lowest j up to j = i. With ``shuffle_seed``, every row's
    intervals wider than 0.2 are split into equal parts and each row's
    intervals are put in an order drawn from the seed, as
    ``modify_cnt_ptable`` does: the probabilities stay, the layout on [0, 1)
    is secret. Raises :class:`PTableError` for parameters no table satisfies.
    """
    _check_parameters(d, v, js)
    m = d + js + 1
    rows: dict[int, list[tuple[int, int]]] = {0: [(0, PROBABILITY_UNITS)]}
    for i in range(1, m + 1):
        outcomes = [j for j in range(max(0, i - d), i + d + 1) if not 1 <= j <= js]
        deviations = [j - i for j in outcomes]
        probabilities = _max_entropy_row(i, deviations, v)
        rows[i] = list(zip(outcomes, _units(probabilities, _monotone_count(deviations))))
    if shuffle_seed is not None:
        # A layout reproducible from the seed, alike on every machine (a str seed goes through SHA-512);
        # the secret is the seed, nothing is drawn here.
        rng = random.Random(shuffle_seed)  # nosec B311
        rows = {i: _split_and_shuffled(row, rng) if i else row for i, row in rows.items()}
    table = PTable({i: _laid_out(i, row) for i, row in rows.items()})
    # A generated table is held to the rules of the file like any other.
    return parse_ptable(ptable_text(table))


def _check_parameters(d: int, v: float, js: int) -> None:
    if d < 1 or js < 0:
        raise PTableError(f"D must be at least 1 and js at least 0, got D={d}, js={js}")
    if js > d:
        raise PTableError(f"js={js} blocks every outcome above 0 of row 1 within D={d}: js must be at most D")
    uniform = d * (d + 1) / 3
    if not 0 < v < uniform:
        # At V >= D(D+1)/3 the variance bound would not bind: the table's V would not be the one asked for.
        raise PTableError(f"V must be above 0 and below D(D + 1)/3 = {uniform:g} (an even spread over −D..D), "
                          f"got {v:g}")
    for i in range(1, js + 1):
        # Row i cannot stay at i: the least variance of an unbiased row is then that of its two nearest outcomes.
        below, above = -i, js + 1 - i
        if v <= -below * above:
            raise PTableError(f"V={v:g} is too small: row {i} cannot be unbiased with a variance of at most V "
                              f"(at least {-below * above} without the outcomes 1..{js})")


def _monotone_count(deviations: Sequence[int]) -> int:
    """How many entries precede j = i (those whose p may not exceed the next); 0 when i is blocked."""
    return deviations.index(0) if 0 in deviations else 0


def _units(probabilities: Sequence[float], monotone: int) -> list[int]:
    units = [max(1, round(p * PROBABILITY_UNITS)) for p in probabilities]
    for t in reversed(range(monotone)):
        units[t] = min(units[t], units[t + 1])
    # The largest entry takes up the rounding; among equal largest ones (a binding p_t <= p_(t+1)) the last
    # gains and the first loses, which keeps the row monotone.
    excess = PROBABILITY_UNITS - sum(units)
    largest = [t for t, u in enumerate(units) if u == max(units)]
    units[largest[-1] if excess > 0 else largest[0]] += excess
    return units


def _split_and_shuffled(row: Sequence[tuple[int, int]], rng: random.Random) -> list[tuple[int, int]]:
    parts: list[tuple[int, int]] = []
    for j, units in row:
        count = -(-units // SHUFFLE_MAX_UNITS)
        size, extra = divmod(units, count)
        parts.extend((j, size + (1 if k < extra else 0)) for k in range(count))
    rng.shuffle(parts)
    return parts


def _laid_out(i: int, row: Sequence[tuple[int, int]]) -> list[PTableEntry]:
    entries = []
    start = 0
    for j, units in row:
        entries.append(PTableEntry(i, j, units / PROBABILITY_UNITS, start / PROBABILITY_UNITS,
                                   (start + units) / PROBABILITY_UNITS))
        start += units
    return entries


# The maximum-entropy row is found through its convex dual (Lagrange
# multipliers y), whose gradient is the vector of constraint residuals:
# L-BFGS-B finds which constraints bind, and Newton's method (scipy's root)
# then solves the binding ones to rounding error. Stopping on the entropy
# itself, as SLSQP does, leaves errors near 10^-7: too coarse for 8 decimals.
RESIDUAL_TOLERANCE = 1e-12


class _RowDual:
    """The dual of one row's maximum-entropy problem, in its Lagrange multipliers y = (b, c, ν_0, …).

    Minimise log Σ_j exp(φ_j·y) + c·V with b free and c, ν >= 0, where for
    deviation v_j = j − i the features are φ_j = (v_j, −v_j², then for each
    t before j = i: +1 if j = t + 1, −1 if j = t). The row is p_j ∝
    exp(φ_j·y); the gradient, (Σp·v, V − Σp·v², p_(t+1) − p_t, …), is zero
    for the mean and for every binding constraint, and >= 0 for a loose one.
    """

    def __init__(self, deviations: Sequence[int], variance: float) -> None:
        self.deviations = list(deviations)
        self.variance = variance
        monotone = _monotone_count(deviations)
        self.size = 2 + monotone
        self.features = [[float(v), -float(v * v)] + [float((t == k + 1) - (t == k)) for k in range(monotone)]
                         for t, v in enumerate(deviations)]

    def _scores(self, y: Sequence[float]) -> tuple[list[float], float]:
        scores = [sum(f * w for f, w in zip(phi, y)) for phi in self.features]
        return scores, max(scores)

    def probabilities(self, y: Sequence[float]) -> list[float]:
        scores, top = self._scores(y)
        weights = [math.exp(s - top) for s in scores]
        total = sum(weights)
        return [w / total for w in weights]

    def gradient(self, p: Sequence[float]) -> list[float]:
        grad = [sum(q * phi[k] for q, phi in zip(p, self.features)) for k in range(self.size)]
        grad[1] += self.variance
        return grad

    def value_and_gradient(self, y: Sequence[float]) -> tuple[float, list[float]]:
        scores, top = self._scores(y)
        value = top + math.log(sum(math.exp(s - top) for s in scores)) + y[1] * self.variance
        return value, self.gradient(self.probabilities(y))

    def hessian(self, p: Sequence[float], free: Sequence[int]) -> list[list[float]]:
        means = [sum(q * phi[k] for q, phi in zip(p, self.features)) for k in free]
        return [[sum(q * phi[a] * phi[b] for q, phi in zip(p, self.features)) - means[x] * means[z]
                 for z, b in enumerate(free)] for x, a in enumerate(free)]


def _max_entropy_row(i: int, deviations: Sequence[int], variance: float) -> list[float]:
    from scipy import optimize  # type: ignore[import-untyped]  # only generating needs scipy

    dual = _RowDual(deviations, variance)
    rough = optimize.minimize(dual.value_and_gradient, [0.0] * dual.size, jac=True, method="L-BFGS-B",
                              bounds=[(None, None)] + [(0.0, None)] * (dual.size - 1))
    y = [float(w) for w in rough.x]
    free = [0] + [k for k in range(1, dual.size) if y[k] > 0]
    for _ in range(2 * dual.size):
        y = _solved(dual, y, free, optimize.root)
        grad = dual.gradient(dual.probabilities(y))
        # A binding constraint needs a multiplier >= 0; a loose one must hold (gradient >= 0).
        wrong = {k for k in free[1:] if y[k] < 0} | {k for k in range(1, dual.size)
                                                      if k not in free and grad[k] < -RESIDUAL_TOLERANCE}
        if not wrong:
            return dual.probabilities(y)
        free = sorted(set(free) ^ wrong)
        y = [w if k in free else 0.0 for k, w in enumerate(y)]
    raise PTableError(f"row {i}: the maximum-entropy problem did not settle (V={variance:g})")


def _solved(dual: _RowDual, y: Sequence[float], free: Sequence[int], root: Callable[..., Any]) -> list[float]:
    """y with the free multipliers solved (scipy's ``root``) so that their constraints hold exactly, the others 0."""

    def full(x: Sequence[float]) -> list[float]:
        values = [0.0] * dual.size
        for k, w in zip(free, x):
            values[k] = float(w)
        return values

    def residuals(x: Sequence[float]) -> tuple[list[float], list[list[float]]]:
        p = dual.probabilities(full(x))
        grad = dual.gradient(p)
        return [grad[k] for k in free], dual.hessian(p, free)

    solution = root(residuals, [y[k] for k in free], jac=True, method="hybr", options={"xtol": 1e-15})
    solved = full(solution.x)
    if max(abs(r) for r in residuals(solution.x)[0]) > RESIDUAL_TOLERANCE:
        raise PTableError(f"no row with outcomes j − i in {dual.deviations} is unbiased with variance at most "
                          f"{dual.variance:g}")
    return solved
