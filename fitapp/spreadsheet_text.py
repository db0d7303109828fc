"""Text that goes into a CSV or XLSX cell, made safe from formula interpretation (OWASP "CSV injection").

A spreadsheet reads a cell that begins with ``=``, ``+``, ``-`` or ``@`` (and,
in some programs, one that begins with a tab or carriage return before such a
character) as a formula: ``=HYPERLINK(...)`` in a unit code would become a live
link in every report that names the unit. OWASP's rule: prefix such a cell
with a single quote, so that it is shown as the text it is. ASVS 5.0 1.2.10
adds the null character to OWASP's list; so do we.

Only text from users (codes, references, names, labels) goes through here.
Numbers are written as numbers and never changed: ``-8.0`` in the outcome
file's ``change`` column is a number, not a formula.

Pure: no Flask, no database.
"""
from __future__ import annotations

from fitapp.names import FORMULA_STARTS

QUOTE = "'"


def neutralised(text: str) -> str:
    """``text`` with a leading ``'`` when it begins with a formula character, otherwise unchanged."""
    return QUOTE + text if text.startswith(FORMULA_STARTS) else text


def neutralised_label(value):
    """:func:`neutralised` for a ``str``; any other value (a number, None) as it is."""
    return neutralised(value) if isinstance(value, str) else value
