"""The CSV dialect of interchange.md "Files in general".

Input: UTF-8 with an optional byte-order mark, header first, delimiter ``;``
(or ``,`` when the header uses it). Output: byte-order mark and ``;`` so that
Excel opens the file correctly, decimal points.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

BOM = "\ufeff"


class CsvProblem(ValueError):
    """A file that cannot be read as CSV at all; ``line`` and ``column`` say where."""

    def __init__(self, line: int, column: str, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.column = column
        self.reason = reason


@dataclass(frozen=True)
class CsvRow:
    """One record with the physical line number where it starts (header = line 1)."""

    line: int
    values: dict[str, str]
    extra: tuple[str, ...]  # fields beyond the header's columns


@dataclass(frozen=True)
class CsvTable:
    delimiter: str
    header: tuple[str, ...]
    rows: list[CsvRow]


def read_table(path: str | Path) -> CsvTable:
    """Read a whole input file; raises CsvProblem when it is not readable CSV."""
    return parse_table(Path(path).read_bytes())


def parse_table(data: bytes) -> CsvTable:
    text = decode(data)
    delimiter = sniff_delimiter(text)
    return CsvTable(delimiter, *parse_records(text, delimiter))


def decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise CsvProblem(line, "(file)", "the file is not UTF-8 text; save it as CSV UTF-8") from None
    return text.removeprefix(BOM)


def sniff_delimiter(text: str) -> str:
    """``;`` unless the header line uses ``,`` and no ``;`` (interchange.md)."""
    header = text.split("\n", 1)[0]
    return "," if "," in header and ";" not in header else ";"


def parse_records(text: str, delimiter: str) -> tuple[tuple[str, ...], list[CsvRow]]:
    header: tuple[str, ...] | None = None
    rows: list[CsvRow] = []
    for line, fields in _records(text, delimiter):
        if header is None:
            header = tuple(name.strip().lower() for name in fields)
            continue
        if not any(field.strip() for field in fields):
            continue  # blank lines (and lines of only delimiters) carry no row
        stripped = [field.strip() for field in fields]
        values = dict(zip(header, stripped))
        rows.append(CsvRow(line, values, tuple(stripped[len(header):])))
    if header is None:
        raise CsvProblem(1, "(header)", "the file is empty: a header row is required")
    return header, rows


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    # csv.reader's line_num counts physical lines read so far, so a record
    # starts one line after the previous record ended (quoted fields may span lines).
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    previous_end = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise CsvProblem(reader.line_num, "(file)", f"the file is not valid CSV ({error})") from None
        start, previous_end = previous_end + 1, reader.line_num
        if fields:
            yield start, fields


def write_table(path: str | Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> int:
    """Write BOM + ``;``-delimited CSV (RFC 4180 line ends); returns the number of rows."""
    count = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(BOM)
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            count += 1
    return count
