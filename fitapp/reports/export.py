"""The report file of the ``report`` command (interchange.md "Report file").

Long format, one row per cell, UTF-8 with a byte-order mark and ``;`` so that
Excel in Swedish opens it correctly.
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
from fitapp.reports.services import ReportError, ReportRow, build_report, resolve_units
from fitapp.scoring.numbers import FOUR_DECIMALS, round_half_up

BOM = "\ufeff"
HEADER = ("period", "unit", "breakdown", "group", "indicator", "numerator", "denominator", "value", "suppressed")


def write_report_file(path: str | Path, rows: Iterable[ReportRow]) -> int:
    """Write the rows; returns how many were written (header not counted)."""
    count = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(BOM)
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow(HEADER)
        for row in rows:
            writer.writerow(report_line(row))
            count += 1
    return count


def report_csv_text(rows: Iterable[ReportRow]) -> str:
    """The report file as text, byte-order mark first, for a download from the report pages."""
    out = io.StringIO(newline="")
    out.write(BOM)
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(report_line(row) for row in rows)
    return out.getvalue()


def report_line(row: ReportRow) -> list[str]:
    """One line in the column order of interchange.md; hidden cells keep only their labels."""
    labels = [row.period, row.unit, row.breakdown, row.group, row.indicator]
    if row.suppressed:
        return labels + ["", "", "", "1"]
    return labels + [_integer(row.numerator), _integer(row.denominator), format_value(row), "0"]


def format_value(row: ReportRow) -> str:
    """Counts as integers; shares and means with exactly four decimals, point as separator."""
    if row.value is None:
        return ""
    if row.kind == "count":
        return str(int(row.value))
    value = round_half_up(Decimal(row.value), FOUR_DECIMALS)
    # A mean that rounds to zero from below must not print as "-0.0000".
    return format(value.copy_abs() if value == 0 else value, "f")


def _integer(number: int | None) -> str:
    return "" if number is None else str(number)


def export_report(path: str | Path, *, year: int, tertial: int, ytd: bool, unit_codes: Sequence[str],
                  as_of: date) -> int:
    """Build, write and audit a report file (interchange.md ``report``); returns the row count.

    The audit event names only the action and, for a one-unit report, the
    unit: aggregates carry no clinical content (metrics.md §7).
    """
    rows = build_report(year, tertial, ytd, list(unit_codes), as_of)
    try:
        count = write_report_file(path, rows)
    except OSError as problem:
        raise ReportError(f"cannot write {path}: {problem.strerror or problem}") from None
    units = resolve_units(unit_codes)
    unit_id = units[0][0] if len(units) == 1 else None
    audit.record("export_report", object_type="report_file", object_id=_period_of(rows), unit_id=unit_id)
    db.session.commit()
    return count


def _period_of(rows: Sequence[ReportRow]) -> str | None:
    return rows[0].period if rows else None
