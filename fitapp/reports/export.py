"""The report file of the ``report`` command (interchange.md "Report file").

Long format, one row per cell, UTF-8 with a byte-order mark and ``;`` so that
Excel in Swedish opens it correctly. Labels (unit codes, groups, intervention
codes, the protection id) that begin with a formula character get a leading
``'`` (fitapp.spreadsheet_text); numbers are written as they are.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

from fitapp import audit
from fitapp.extensions import db
from fitapp.reports.services import ReportError, ReportRow, compute_report, gc_paused
from fitapp.scoring.numbers import CONTEXT, FOUR_DECIMALS, round_half_up
from fitapp.spreadsheet_text import neutralised_label

BOM = "\ufeff"
HEADER = ("period", "unit", "breakdown", "group", "indicator", "numerator", "denominator", "value", "suppressed",
          "protection")
# No header field needs quoting, so this is what csv.writer writes for it.
HEADER_LINE = ";".join(HEADER) + "\r\n"
_UNSEEN = object()  # equal to no label


def write_report_file(path: str | Path, rows: Iterable[ReportRow]) -> int:
    """Write the rows; returns how many were written (header not counted)."""
    body, count = _report_body(rows)
    # Encoded apart from the byte-order mark: a body without it is mostly ASCII, which encodes fastest.
    data = body.encode("utf-8")
    with open(path, "wb") as out:
        out.write((BOM + HEADER_LINE).encode("utf-8"))
        out.write(data)
    return count


def report_csv_text(rows: Iterable[ReportRow]) -> str:
    """The report file as text, byte-order mark first, for a download from the report pages."""
    return BOM + HEADER_LINE + _report_body(rows)[0]


def report_line(row: ReportRow) -> list[str]:
    """One line in the column order of interchange.md; hidden cells keep only their labels.

    Text labels that a spreadsheet would read as a formula are neutralised, as in the file.
    """
    labels = [neutralised_label(label) for label in (row.period, row.unit, row.breakdown, row.group, row.indicator)]
    protection = neutralised_label(row.protection)
    if row.suppressed:
        return labels + ["", "", "", "1", protection]
    return labels + [_integer(row.numerator), _integer(row.denominator), format_value(row), "0", protection]


def format_value(row: ReportRow) -> str:
    """Counts as integers; shares and means with exactly four decimals, point as separator."""
    return _value_text(row.kind, row.value)


def _value_text(kind: str, value: Decimal | None) -> str:
    """:func:`format_value` of a row of this kind and value."""
    if value is None:
        return ""
    if kind == "count":
        return str(int(value))
    rounded = round_half_up(Decimal(value), FOUR_DECIMALS)
    # A mean that rounds to zero from below must not print as "-0.0000".
    return format(rounded.copy_abs() if rounded == 0 else rounded, "f")


def _report_body(rows: Iterable[ReportRow]) -> tuple[str, int]:
    """The lines of ``rows`` exactly as csv.writer writes :func:`report_line` of each, and how many.

    Built directly because a city report has some 30,000 lines and csv.writer
    with a list and :func:`format_value` per line took most of the export's
    time. Each distinct label is neutralised and quoted by csv itself, once;
    numbers never need either.
    """
    rows = list(rows)  # to count them
    quoted: dict[str, str] = {}
    pieces: list[str] = []  # whole lines, or for a hidden cell its four parts: cheaper than a new string
    append = pieces.append
    # The report rounds its values already (counts are whole Decimals, shares and means have
    # exponent -4), and str() of such a Decimal is what format_value prints, unless it is -0 or
    # has more digits than the rounding context holds (rounding then raises).
    widest = CONTEXT.prec - 5  # adjusted() of a Decimal with exponent -4 and prec digits
    # Rows come group by group: the first four labels are joined again only when one changes.
    last_period = last_unit = last_breakdown = last_group = _UNSEEN
    head = ""
    # Unpacked rather than read by name: the cheapest way to get all ten fields.
    for (period, unit, breakdown, group, indicator, kind, numerator, denominator, value, suppressed,
         protection) in rows:
        if group != last_group or breakdown != last_breakdown or unit != last_unit or period != last_period:
            try:
                head = f"{quoted[period]};{quoted[unit]};{quoted[breakdown]};{quoted[group]}"
                last_period, last_unit, last_breakdown, last_group = period, unit, breakdown, group
            except (KeyError, TypeError):  # a label not seen yet, or not a str
                head = ";".join([_quoted_label(label, quoted) for label in (period, unit, breakdown, group)])
                # Joined again for the next row: only labels found in ``quoted`` (str) are compared by
                # value, as 1 == True although csv writes them differently.
                last_group = _UNSEEN
        try:
            label = quoted[indicator]
        except (KeyError, TypeError):  # not seen yet, or not a str
            label = _quoted_label(indicator, quoted)
        try:
            tail = quoted[protection]
        except (KeyError, TypeError):
            tail = _quoted_label(protection, quoted)
        if suppressed:
            pieces += (head, ";", label, ";;;;1;", tail, "\r\n")
            continue
        if value.__class__ is not Decimal:
            text = _value_text(kind, value)
        elif kind == "count":
            text = str(value)
            if not text.isdigit():  # only digits: exponent 0 and not negative, as str(int(value))
                text = _value_text(kind, value)
        elif value.same_quantum(FOUR_DECIMALS) and value.adjusted() <= widest:
            text = "0.0000" if value.is_zero() else str(value)  # no "-0.0000"
        else:
            text = _value_text(kind, value)
        # An int in an f-string prints as str() prints it.
        append(f"{head};{label};{'' if numerator is None else numerator};{'' if denominator is None else denominator};"
               f"{text};0;{tail}\r\n")
    return "".join(pieces), len(rows)


def _quoted_label(label: str, quoted: dict[str, str]) -> str:
    """``label``, neutralised, as csv.writer writes it in a line of several fields; a str is remembered in ``quoted``."""
    text = quoted.get(label) if label.__class__ is str else None
    if text is None:
        out = io.StringIO(newline="")
        # Followed by an empty field, as csv quotes a lone empty field (a line of one field).
        csv.writer(out, delimiter=";", lineterminator="\r\n").writerow((neutralised_label(label), ""))
        text = out.getvalue()[:-3]
        if label.__class__ is str:  # 1 and True are equal keys that csv writes differently
            quoted[label] = text
    return text


def _integer(number: int | None) -> str:
    return "" if number is None else str(number)


def export_report(path: str | Path, *, year: int, tertial: int, ytd: bool, unit_codes: Sequence[str],
                  as_of: date, exact: bool = False) -> int:
    """Build, write and audit a report file (interchange.md ``report``); returns the row count.

    Protected figures, or with ``exact`` the exact ones (a confidential file
    for checking the app, metrics.md §7.1). The audit event names only the
    action and, for a one-unit report, the unit: aggregates carry no clinical
    content.
    """
    # Collection stays paused until the file is written: see services.gc_paused.
    with gc_paused():
        report = compute_report(year, tertial, ytd, list(unit_codes), as_of, exact=exact)
        try:
            count = write_report_file(path, report.rows)
        except OSError as problem:
            raise ReportError(f"cannot write {path}: {problem.strerror or problem}") from None
    unit_id = report.units[0][0] if len(report.units) == 1 else None
    audit.record("export_report_exact" if exact else "export_report", object_type="report_file",
                 object_id=report.period.label, unit_id=unit_id)
    db.session.commit()
    return count

