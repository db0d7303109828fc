"""Read the tables of metrics.md so tests compare the code with the contract itself."""
from __future__ import annotations

import re
from functools import cache
from pathlib import Path

METRICS_MD = Path(__file__).resolve().parents[2].parent / "shared" / "spec" / "metrics.md"


@cache
def metrics_text() -> str:
    return METRICS_MD.read_text(encoding="utf-8")


def section(number: int) -> str:
    """The text of section ``## {number}.`` up to the next ``## `` heading."""
    match = re.search(rf"^## {number}\. .*?(?=^## |\Z)", metrics_text(), re.S | re.M)
    assert match, f"metrics.md has no section {number}"
    return match.group(0)


def tables(text: str) -> list[list[dict[str, str]]]:
    """Every markdown table in ``text`` as a list of rows keyed by header."""
    found, current = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            current.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif current:
            header, _rule, *body = current
            found.append([dict(zip(header, row)) for row in body])
            current = []
    return found


def only_table(number: int) -> list[dict[str, str]]:
    (table,) = tables(section(number))
    return table


def code(cell: str) -> str:
    """`recovered` -> recovered."""
    return cell.strip().strip("`")
