"""The report as an XLSX workbook (openpyxl): one sheet per breakdown, plus parents and intake groups.

The breakdown sheets hold exactly the cells of the report file
(interchange.md), as numbers, with the protection column naming the
perturbation table. A hidden cell (metrics.md §7.4) keeps its labels, has no
numerator, denominator or value, and shows "<5" (the threshold) in the value
column. An export always holds protected figures.

Text from users (unit codes, groups, the protection id) is written as text
cells, never as formulas: a label that begins with a formula character gets a
leading ``'`` as in the CSV (fitapp.spreadsheet_text), and every string cell
is typed as a string. Numbers stay numbers.
"""
from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence

from openpyxl import Workbook
from openpyxl.cell.cell import TYPE_STRING, Cell
from openpyxl.styles import Font

from fitapp.reports.export import HEADER
from fitapp.reports.views import CATEGORY_COLUMNS
from fitapp.scoring.indicators import BREAKDOWNS
from fitapp.spreadsheet_text import neutralised_label

INTAKE_HEADER = ("period", "unit", "intake_group", "category", "count", "share", "suppressed", "protection")


def report_workbook(period: str, rows: Sequence, parents: Mapping[str, Sequence], intake: Mapping[str, Sequence],
                    threshold: int, protection: str) -> bytes:
    """The workbook as bytes; sheets ``all``, ``gender``, ``age_band``, ``intervention``, ``parents``, ``intake``.

    ``protection``: the id of the table that made the figures (metrics.md §7.3).
    """
    book = Workbook()
    book.remove(book.active)
    for breakdown in BREAKDOWNS:
        _cell_sheet(book, breakdown, (r for r in rows if r.breakdown == breakdown), threshold, protection)
    parent_rows = [(unit, cell) for unit, cells in parents.items() for cell in cells]
    sheet = _sheet(book, "parents", HEADER)
    for unit, cell in parent_rows:
        _append(sheet, _cell_line(period, unit, cell, threshold, protection))
    sheet = _sheet(book, "intake", INTAKE_HEADER)
    for unit, table in intake.items():
        for row in table:
            for category, figure in [("total", row.total), *((c, row.categories[c]) for c in CATEGORY_COLUMNS)]:
                if not figure.possible:
                    continue
                if figure.suppressed:
                    _append(sheet, [period, unit, row.group, category, None, f"<{threshold}", 1, protection])
                else:
                    share = None if figure.share is None else float(figure.share)
                    _append(sheet, [period, unit, row.group, category, figure.count, share, 0, protection])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _append(sheet, values: Sequence) -> None:
    """A row of ``values``, text neutralised and typed as text.

    openpyxl would otherwise store a string that begins with "=" as a formula and one
    such as "#N/A" as an error value.
    """
    sheet.append([_cell(sheet, value) for value in values])


def _cell(sheet, value) -> Cell:
    cell = Cell(sheet, value=neutralised_label(value))
    if isinstance(value, str):
        cell.data_type = TYPE_STRING
    return cell


def _sheet(book: Workbook, title: str, header: Sequence[str]):
    sheet = book.create_sheet(title)
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    return sheet


def _cell_sheet(book: Workbook, title: str, rows: Iterable, threshold: int, protection: str) -> None:
    sheet = _sheet(book, title, HEADER)
    for row in rows:
        _append(sheet, _cell_line(row.period, row.unit, row, threshold, protection))


def _cell_line(period: str, unit: str, cell, threshold: int, protection: str) -> list:
    labels = [period, unit, cell.breakdown, cell.group, cell.indicator]
    if cell.suppressed:
        return labels + [None, None, f"<{threshold}", 1, protection]
    value = None if cell.value is None else (int(cell.value) if cell.kind == "count" else float(cell.value))
    numerator = None if cell.numerator is None else int(cell.numerator)
    return labels + [numerator, cell.denominator, value, 0, protection]
