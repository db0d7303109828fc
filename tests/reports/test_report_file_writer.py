"""The report file writer builds its lines itself: byte for byte what csv.writer wrote (interchange.md "Report file").

The reference below is the writer as it was, csv.writer over :func:`report_line`
lists, kept here to compare against: on generated rows with every kind of
label and number, and on a report the app builds. It has OWASP's rule against
formula injection written out on its own (issue 12, item 7): a text label that
begins with =, +, -, @, tab, carriage return or null (ASVS 5.0 1.2.10) gets a
leading single quote; numbers never do.
"""
import csv
import io
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fitapp.reports.export import format_value, report_csv_text, report_line, write_report_file
from fitapp.reports.series_store import refresh_series
from fitapp.reports.services import ReportRow, build_report
from fitapp.scoring.numbers import FOUR_DECIMALS, round_half_up
from tests.reports.dataset import build_city

HEADER = ("period", "unit", "breakdown", "group", "indicator", "numerator", "denominator", "value", "suppressed",
          "protection")


def reference_text(rows) -> str:
    out = io.StringIO(newline="")
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(reference_line(row) for row in rows)
    return out.getvalue()


def reference_line(row: ReportRow) -> list[str]:
    labels = [reference_label(label) for label in (row.period, row.unit, row.breakdown, row.group, row.indicator)]
    protection = reference_label(row.protection)
    if row.suppressed:
        return labels + ["", "", "", "1", protection]
    return labels + [reference_integer(row.numerator), reference_integer(row.denominator), reference_value(row), "0",
                     protection]


def reference_label(label):
    """OWASP: text that a spreadsheet would take for a formula is prefixed with a single quote."""
    if isinstance(label, str) and label[:1] in ("=", "+", "-", "@", "\t", "\r", "\0"):
        return "'" + label
    return label


def reference_integer(number: int | None) -> str:
    return "" if number is None else str(number)


def reference_value(row: ReportRow) -> str:
    if row.value is None:
        return ""
    if row.kind == "count":
        return str(int(row.value))
    value = round_half_up(Decimal(row.value), FOUR_DECIMALS)
    return format(value.copy_abs() if value == 0 else value, "f")


def outcome(function, *args):
    """What ``function`` returns, or the type of what it raises."""
    try:
        return function(*args)
    except Exception as problem:  # noqa: BLE001 - the writer must fail where the reference fails
        return type(problem)


# Labels: the report's own, and text that csv must quote (or must not: spaces, empty).
labels = st.one_of(
    st.sampled_from(["all", "gender", "flicka", "13-17", "FAMBEH", "2025-T1..T2", "ALL", "", " ", "a b", " x ",
                     ";", '"', "a;b", 'say "hi"', "\r", "\n", "\r\n", "line\nbreak", "tab\there", "'", ",", "å ä ö",
                     "\u00a0", "\ufeff", "emoji 🙂",
                     # formulas (OWASP's list of first characters), and text that only looks near one
                     '=HYPERLINK("http://x","y")', "=1+2", "@SUM(1,2)", "+1", "-1+1", "-", "\t=1", "\r=1", "\0=1",
                     "'=1", " =1", "a=1"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
    st.text(alphabet=' ;"\r\n\tax,', max_size=8),
    st.sampled_from([None, 1, True, 0, False, 1.0]),  # not str, which csv writes all the same
)
numbers = st.none() | st.integers(min_value=-10**6, max_value=10**6) | st.integers()


def decimals_with_exponent():
    """Any sign, up to 45 digits (past the 40 of the rounding context), exponents around -4."""
    return st.builds(
        lambda sign, digits, exponent: Decimal((sign, tuple(int(d) for d in str(digits)), exponent)),
        st.integers(0, 1), st.integers(min_value=0, max_value=10**45), st.integers(-12, 6),
    )


values = st.one_of(
    st.none(),
    decimals_with_exponent(),
    decimals_with_exponent().map(lambda d: round_half_up(d, FOUR_DECIMALS) if d.adjusted() < 30 else d),
    st.integers(-10**6, 10**6).map(Decimal),  # counts as the report makes them
    st.sampled_from([Decimal("-0"), Decimal("-0.0000"), Decimal("0.0000"), Decimal("-0.00004"), Decimal("-0.00005"),
                     Decimal("0.00005"), Decimal("5.0"), Decimal("1E+3"), Decimal("-7"),
                     Decimal("1.2E+2"), Decimal("-1.2E+2"), Decimal("1E-10"), Decimal("0.1234"), Decimal("12.3456"),
                     Decimal("NaN"), Decimal("-Infinity"), Decimal("sNaN"),
                     # 40 digits round; 41 are more than the rounding context holds
                     Decimal((0, (1,) * 40, -4)), Decimal((1, (1,) * 40, -4)), Decimal((0, (1,) * 41, -4))]),
    st.decimals(),
    st.integers(-1000, 1000),
)
kinds = st.sampled_from(["count", "share", "mean"])
protections = st.sampled_from(["ckm-d5-v3-js2", "exact", "ckm-d4-v2.5-js1-0a1b2c3d"]) | labels
rows = st.builds(ReportRow, labels, labels, labels, labels, labels, kinds, numbers, numbers, values, st.booleans(),
                 protections)


@st.composite
def reports(draw) -> list[ReportRow]:
    """Rows as a report has them: runs that share their first four labels, from a few labels."""
    pick = st.sampled_from(draw(st.lists(labels, min_size=1, max_size=4)))
    generated = []
    for _ in range(draw(st.integers(0, 4))):
        head = draw(st.tuples(pick, pick, pick, pick))
        for _ in range(draw(st.integers(1, 4))):
            generated.append(ReportRow(*head, draw(pick), draw(kinds), draw(numbers), draw(numbers), draw(values),
                                       draw(st.booleans()), draw(protections)))
    return generated

WRITER = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@WRITER
@given(reports() | st.lists(rows, max_size=8))
def test_report_text_is_what_csv_writer_wrote(generated):
    assert outcome(report_csv_text, generated) == outcome(reference_text, generated)


@WRITER
@given(reports() | st.lists(rows, max_size=8))
def test_report_file_is_what_csv_writer_wrote(generated):
    expected = outcome(reference_text, generated)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "report.csv"
        written = outcome(write_report_file, path, generated)
        if isinstance(expected, type):
            assert written is expected
        else:
            assert written == len(generated)
            assert path.read_bytes() == expected.encode("utf-8")


@WRITER
@given(rows)
def test_report_line_and_format_value_are_unchanged(row):
    assert outcome(report_line, row) == outcome(reference_line, row)
    assert outcome(format_value, row) == outcome(reference_value, row)


def test_labels_in_the_same_report_are_quoted_each_on_its_own():
    row = ReportRow("2025-T2", "U;1", "gender", 'a "b"', "coverage", "share", 1, 3, Decimal("0.3333"), False,
                    "exact")
    hidden = row._replace(unit="U2", group="", suppressed=True, protection="p;1")
    assert report_csv_text([row, hidden, row]).splitlines()[1:] == [
        '2025-T2;"U;1";gender;"a ""b""";coverage;1;3;0.3333;0;exact', '2025-T2;U2;gender;;coverage;;;;1;"p;1"',
        '2025-T2;"U;1";gender;"a ""b""";coverage;1;3;0.3333;0;exact',
    ]


def test_labels_that_are_equal_but_print_differently_are_not_mixed_up():
    generated = [ReportRow("2025-T2", "ALL", "all", group, indicator, "count", 5, None, Decimal(5), False, "exact")
                 for group in (1, True, 1.0, "1", 1) for indicator in ("a", "b")]
    assert report_csv_text(generated) == reference_text(generated)
    assert [line.split(";")[3] for line in report_csv_text(generated).splitlines()[1:]] == \
        ["1", "1", "True", "True", "1.0", "1.0", "1", "1", "1", "1"]


@pytest.mark.parametrize(("copies", "ytd"), [(5, False), (1, False), (1, True)])
def test_a_report_the_app_builds_is_written_as_before(app, tmp_path, copies, ytd):
    build_city(copies=copies)  # one copy: small numbers, so hidden cells too (protected 3 or 4)
    refresh_series()
    rows = build_report(2025, 2, ytd, [], date(2026, 8, 31))
    assert {row.unit for row in rows} == {"UA", "UB", "UC", "ALL"}
    if copies == 5:  # every kind of value shown
        assert {row.kind for row in rows if row.value is not None} == {"count", "share", "mean"}
    expected = reference_text(rows)
    assert report_csv_text(rows) == expected
    path = tmp_path / "report.csv"
    assert write_report_file(path, iter(rows)) == len(rows)
    assert path.read_bytes() == expected.encode("utf-8")


def test_labels_that_a_spreadsheet_would_run_are_neutralised_and_numbers_are_not():
    unit = '=HYPERLINK("http://x","y")'
    rows = [ReportRow("2025-T2", unit, "intervention", "@SUM(1,2)", "mean_change", "mean", 3, 7, Decimal("-8.0000"),
                      False, "exact"),
            ReportRow("2025-T2", "-1+1", "all", "\t=1", "count", "count", -3, None, Decimal(-3), False, "+1"),
            ReportRow("2025-T2", "\r=1", "all", "all", "coverage", "share", None, None, None, True, "exact")]
    lines = report_csv_text(rows).split("\r\n")[1:3]
    assert lines == ["2025-T2;\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\";intervention;'@SUM(1,2);mean_change;3;7;-8.0000;0;exact",
                     "2025-T2;'-1+1;all;'\t=1;count;-3;;-3;0;'+1"]
    # The third line: a carriage return is quoted by csv, inside the quotes the label starts with "'".
    assert report_csv_text(rows).endswith("\r\n2025-T2;\"'\r=1\";all;all;coverage;;;;1;exact\r\n")
    assert report_csv_text(rows) == reference_text(rows)
