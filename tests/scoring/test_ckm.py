"""The cell-key method (metrics.md §7.2–7.4): generated tables, perturbing, the table file."""
import random
import re
from importlib import resources

import pytest

from fitapp.scoring.ckm import (
    DEFAULT_TABLE_FILE,
    KEY_MODULUS,
    PTable,
    PTableError,
    cell_key,
    default_ptable,
    generate_ptable,
    parse_ptable,
    ptable_text,
)

# sdcTools/ptable's own example of create_cnt_ptable(D = 5, V = 3, js = 2), quoted in metrics.md §7.3.
PUBLISHED_ROW_1 = {0: 0.7345, 3: 0.1367, 4: 0.0728, 5: 0.0374, 6: 0.0186}

DEFAULT = generate_ptable()
SHUFFLED = generate_ptable(shuffle_seed="organisation secret")
OTHER = generate_ptable(d=3, v=1.5, js=1)


def mass(table: PTable) -> dict[tuple[int, int], int]:
    """Probability of each (i, j) in units of 10^-8, split entries added up."""
    total: dict[tuple[int, int], int] = {}
    for row in table.rows.values():
        for e in row:
            total[e.i, e.j] = total.get((e.i, e.j), 0) + round(e.p * 10**8)
    return total


def slow_perturb(table: PTable, n: int, key: int) -> int:
    """metrics.md §7.3 read literally, on floats: the entry whose [lb, ub) holds k = key / 10^9."""
    if n == 0:
        return 0
    k = key / KEY_MODULUS
    (entry,) = [e for e in table.rows[min(n, table.m)] if e.lb <= k < e.ub]
    return entry.j if n < table.m else n + entry.j - table.m


# ---------------------------------------------------------------- generating


def test_row_1_of_the_default_table_is_sdctools_published_row():
    assert {e.j: round(e.p, 4) for e in DEFAULT.rows[1]} == PUBLISHED_ROW_1


def test_the_default_table_has_the_id_and_shape_of_metrics_7_3():
    assert DEFAULT.id == "ckm-d5-v3-js2"
    assert (DEFAULT.d, DEFAULT.v, DEFAULT.js, DEFAULT.m) == (5, 3, 2, 8)
    assert list(DEFAULT.rows) == list(range(9))
    assert [e.j for e in DEFAULT.rows[8]] == list(range(3, 14))


def test_the_shipped_file_is_what_generate_makes():
    shipped = resources.files("fitapp.scoring").joinpath(DEFAULT_TABLE_FILE).read_text(encoding="utf-8-sig")
    assert shipped == ptable_text(DEFAULT)
    assert default_ptable().id == "ckm-d5-v3-js2"
    assert default_ptable() is default_ptable()


@pytest.mark.parametrize("table", [DEFAULT, OTHER], ids=["d5-v3-js2", "d3-v1.5-js1"])
def test_every_row_follows_the_rule(table):
    for i, row in table.rows.items():
        units = [round(e.p * 10**8) for e in row]
        assert sum(units) == 10**8, f"row {i}"
        assert all(abs(e.p * 10**8 - u) < 1e-6 for e, u in zip(row, units)), f"row {i}: 8 decimals"
        assert abs(sum(e.p * (e.j - i) for e in row)) < 1e-6, f"row {i} biased"
        assert sum(e.p * (e.j - i) ** 2 for e in row) <= table.v + 1e-6, f"row {i} variance"
        assert not [e.j for e in row if 1 <= e.j <= table.js], f"row {i} reaches 1..js"
        assert {e.j for e in row} <= set(range(max(0, i - table.d), i + table.d + 1))
        if not 1 <= i <= table.js:
            rising = [e.p for e in sorted(row, key=lambda e: e.j) if e.j <= i]
            assert rising == sorted(rising), f"row {i} decreases below j = i"


def test_the_symmetric_row_has_the_variance_v():
    row = DEFAULT.rows[DEFAULT.m]
    assert abs(sum(e.p * (e.j - DEFAULT.m) ** 2 for e in row) - 3) < 1e-6


@pytest.mark.parametrize(("d", "v", "js", "message"), [
    (5, 1.5, 2, "V=1.5 is too small: row 1"),
    (5, 10, 2, "below D(D + 1)/3 = 10"),
    (2, 1, 3, "js must be at most D"),
    (0, 1, 0, "D must be at least 1"),
])
def test_parameters_no_table_satisfies_are_refused(d, v, js, message):
    with pytest.raises(PTableError, match=re.escape(message)):
        generate_ptable(d=d, v=v, js=js)


# ---------------------------------------------------------------- perturbing


def test_cell_key_is_the_sum_of_record_keys_mod_10_9():
    assert cell_key(0) == 0
    assert cell_key(999_999_999 + 2) == 1
    assert cell_key(3 * KEY_MODULUS + 17) == 17


def test_zero_stays_zero():
    assert {DEFAULT.perturb(0, key) for key in (0, 1, 500_000_000, KEY_MODULUS - 1)} == {0}


def test_no_count_becomes_negative_or_1_to_js():
    rng = random.Random(7)
    outcomes = {DEFAULT.perturb(n, rng.randrange(KEY_MODULUS)) for n in range(1, 12) for _ in range(2000)}
    assert min(outcomes) == 0 and not outcomes & {1, 2}


def test_counts_from_m_on_move_by_the_symmetric_row():
    rng = random.Random(11)
    for _ in range(2000):
        key = rng.randrange(KEY_MODULUS)
        noise = DEFAULT.perturb(DEFAULT.m, key) - DEFAULT.m
        assert [DEFAULT.perturb(n, key) for n in (8, 9, 20, 1000)] == [n + noise for n in (8, 9, 20, 1000)]


def test_deviation_is_the_symmetric_row_at_the_key_plus_one_half():
    rng = random.Random(13)
    for key in [0, 499_999_999, 500_000_000, KEY_MODULUS - 1] + [rng.randrange(KEY_MODULUS) for _ in range(2000)]:
        assert DEFAULT.deviation(key) == DEFAULT.perturb(DEFAULT.m, (key + 500_000_000) % KEY_MODULUS) - DEFAULT.m


def test_the_noise_has_mean_0_and_variance_v_over_many_keys():
    rng = random.Random(2025)
    noise = [DEFAULT.perturb(20, rng.randrange(KEY_MODULUS)) - 20 for _ in range(200_000)]
    mean = sum(noise) / len(noise)
    variance = sum((x - mean) ** 2 for x in noise) / len(noise)
    assert abs(mean) < 0.02
    assert abs(variance - 3) < 0.05


def _bound_keys(table: PTable) -> list[int]:
    keys = {0, KEY_MODULUS - 1}
    for row in table.rows.values():
        for e in row:
            edge = round(e.ub * KEY_MODULUS)
            keys |= {k for k in (edge - 1, edge, edge + 1) if 0 <= k < KEY_MODULUS}
    return sorted(keys)


@pytest.mark.parametrize("table", [DEFAULT, SHUFFLED, OTHER], ids=["default", "shuffled", "d3-v1.5-js1"])
def test_the_fast_lookup_agrees_with_the_literal_rule(table):
    rng = random.Random(17)
    keys = _bound_keys(table) + [rng.randrange(KEY_MODULUS) for _ in range(3000)]
    for n in range(table.m + 3):
        for key in keys:
            assert table.perturb(n, key) == slow_perturb(table, n, key), (n, key)


# ---------------------------------------------------------------- shuffling


def test_a_shuffled_table_keeps_every_probability_and_gets_its_own_id():
    assert mass(SHUFFLED) == mass(DEFAULT)
    assert re.fullmatch(r"ckm-d5-v3-js2-[0-9a-f]{8}", SHUFFLED.id)
    assert SHUFFLED.shuffled and not DEFAULT.shuffled
    assert SHUFFLED.rows[0] == DEFAULT.rows[0]


def test_a_shuffled_table_splits_wide_intervals_and_mixes_their_order():
    for i, row in list(SHUFFLED.rows.items())[1:]:
        assert all(e.p <= 0.2 + 1e-12 for e in row), f"row {i}"
        assert [e.lb for e in row] == sorted(e.lb for e in row), "entries are listed in interval order"
    assert any([e.j for e in row] != sorted(e.j for e in row) for row in SHUFFLED.rows.values())


def test_the_seed_decides_the_layout():
    again = generate_ptable(shuffle_seed="organisation secret")
    other = generate_ptable(shuffle_seed="another secret")
    assert ptable_text(again) == ptable_text(SHUFFLED) and again.id == SHUFFLED.id
    assert other.id != SHUFFLED.id and mass(other) == mass(SHUFFLED)


# ---------------------------------------------------------------- the file


@pytest.mark.parametrize("table", [DEFAULT, SHUFFLED, OTHER], ids=["default", "shuffled", "d3-v1.5-js1"])
def test_text_parse_text_is_identical(table):
    text = ptable_text(table)
    parsed = parse_ptable(text)
    assert ptable_text(parsed) == text
    assert parsed.id == table.id


def test_a_byte_order_mark_crlf_and_commas_are_accepted():
    text = ptable_text(DEFAULT)
    assert parse_ptable("\ufeff" + text.replace("\n", "\r\n")).id == DEFAULT.id
    comma_decimals = "\n".join([text.splitlines()[0]] + [line.replace(".", ",") for line in text.splitlines()[1:]])
    assert ptable_text(parse_ptable(comma_decimals)) == text
    assert ptable_text(parse_ptable(text.replace(";", ","))) == text


def test_more_than_8_decimals_are_accepted():
    text = ptable_text(DEFAULT).replace("1.00000000", "1.0000000000")
    assert parse_ptable(text).id == DEFAULT.id


def _lines() -> list[str]:
    return ptable_text(DEFAULT).splitlines()


def _edited(edits: dict[int, str]) -> str:
    """The default file with some lines (numbered from 1, the header) replaced; "" drops a line."""
    lines = _lines()
    return "\n".join(edits.get(number, line) for number, line in enumerate(lines, start=1)
                     if edits.get(number, line) != "") + "\n"


def _line(i: int, j: int) -> int:
    """The line number of row i's entry j in the default file."""
    return next(number for number, line in enumerate(_lines(), start=1) if line.startswith(f"{i};{j};"))


def _entry(i: int, j: int, p: str, lb: str, ub: str) -> str:
    return f"{i};{j};{p};{lb};{ub}"


def _fields(i: int, j: int) -> list[str]:
    return _lines()[_line(i, j) - 1].split(";")


def _moved_back() -> str:
    """The default file with row 2's last entry moved after row 3."""
    lines = _lines()
    moved = lines.pop(_line(2, 7) - 1)
    lines.insert(_line(3, 8) - 1, moved)
    return "\n".join(lines) + "\n"


def _shifted_lb(i: int, j: int, by: float) -> str:
    _, _, p, lb, ub = _fields(i, j)
    return _entry(i, j, f"{float(p) - by:.8f}", f"{float(lb) + by:.8f}", ub)


def _asymmetric() -> str:
    # Move 10^-5 of probability from j = 12 to j = 13 in the symmetric row, keeping its intervals whole.
    _, _, p12, lb12, ub12 = _fields(8, 12)
    _, _, p13, lb13, ub13 = _fields(8, 13)
    moved = 0.00001
    return _edited({_line(8, 12): _entry(8, 12, f"{float(p12) - moved:.8f}", lb12, f"{float(ub12) - moved:.8f}"),
                    _line(8, 13): _entry(8, 13, f"{float(p13) + moved:.8f}", f"{float(lb13) - moved:.8f}", ub13)})


def _cases() -> list[tuple[str, str, str]]:
    """(rule, file text, what the error says, with its line)."""
    l13, l10, l16 = _line(1, 3), _line(1, 0), _line(1, 6)
    _, _, p6, lb6, _ = _fields(1, 6)
    return [
        ("header", _edited({1: "i;j;p;lb;ub"}), "line 1: the header must be"),
        ("field count", _edited({l13: "1;3;0.13672019;0.73446954"}), f"line {l13}: expected 5 fields"),
        ("whole number", _edited({l13: "1;x;0.13672019;0.73446954;0.87118973"}),
         f"line {l13}: j must be a whole number"),
        ("decimal", _edited({l13: "1;3;0.1367201x;0.73446954;0.87118973"}), f"line {l13}: p must be a number"),
        ("8 decimals", _edited({l13: "1;3;0.1367202;0.73446954;0.87118973"}), f"line {l13}: p must be a number"),
        ("increasing i", _moved_back(), f"line {_line(3, 8)}: rows must come in increasing i; i=2 comes after i=3"),
        ("missing row", _edited({_line(3, j): "" for j in (0, 3, 4, 5, 6, 7, 8)}),
         f"line {_line(3, 0)}: row i=3 is missing before i=4"),
        ("no rows", "i;j;p;p_int_lb;p_int_ub\n", "line 2: the file ends after 0 row(s)"),
        ("row 0", _edited({2: "0;0;0.99000000;0.00000000;0.99000000"}), "line 2: row 0 must be the one entry j=0"),
        ("gap", _edited({l13: _shifted_lb(1, 3, 0.001)}), f"line {l13}: gap in row i=1"),
        ("overlap", _edited({l13: _shifted_lb(1, 3, -0.001)}), f"line {l13}: overlap in row i=1"),
        ("first interval", _edited({l10: "1;0;0.73446954;0.00100000;0.73446954"}),
         f"line {l10}: gap in row i=1: p_int_lb 0.00100000 but the interval before ends at 0"),
        ("covering [0, 1)", _edited({l16: _entry(1, 6, f"{float(p6) - 0.01:.8f}", lb6, "0.99000000")}),
         f"line {l16}: the intervals of row i=1 end at 0.99000000, not at 1"),
        ("p is ub - lb", _edited({l13: "1;3;0.13672119;0.73446954;0.87118973"}),
         f"line {l13}: p 0.13672119 is not p_int_ub − p_int_lb"),
        ("biased", _edited({l16: _entry(1, 5, p6, lb6, "1.00000000")}), f"line {l10}: row i=1 is biased"),
        ("reaches 1..js", _edited({_line(6, 3): "6;2;0.07202982;0.00000000;0.07202982"}),
         f"line {_line(6, 3)}: j=2 in row i=6: a protected count is never 1..2"),
        ("negative j", _edited({l10: "1;-1;0.73446954;0.00000000;0.73446954"}),
         f"line {l10}: j=-1 in row i=1: a count never becomes negative"),
        ("deviates more than D", _edited({l16: _entry(1, 7, p6, lb6, "1.00000000")}),
         f"line {l16}: j=7 in row i=1 deviates by more than D=5"),
        ("symmetric support", _edited({_line(8, 13): "8;14;0.00379186;0.99620814;1.00000000"}),
         f"line {_line(8, 3)}: the last row i=8 must be symmetric"),
        ("symmetric probabilities", _asymmetric(), f"line {_line(8, 3)}: the last row i=8 must be symmetric: p of"),
    ]


@pytest.mark.parametrize(("rule", "text", "message"), _cases(), ids=[case[0] for case in _cases()])
def test_a_file_breaking_a_rule_is_refused_naming_the_line(rule, text, message):
    with pytest.raises(PTableError) as refused:
        parse_ptable(text)
    assert str(refused.value).startswith(message), str(refused.value)
