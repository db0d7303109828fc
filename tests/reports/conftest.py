"""Fixtures for the report tests: the hand-checkable city and the report file as parsed rows."""
import csv
import io

import pytest

from fitapp.reports.series_store import refresh_series
from tests.reports.dataset import build_city

HEADER = ["period", "unit", "breakdown", "group", "indicator", "numerator", "denominator", "value", "suppressed",
          "protection"]


@pytest.fixture
def city(app):
    built = build_city()
    refresh_series()
    return built


def parse_report_file(path) -> list[dict[str, str]]:
    """The report file as dicts, after checking the byte-order mark, delimiter and header."""
    data = path.read_bytes()
    assert data.startswith("\ufeff".encode("utf-8"))
    reader = csv.reader(io.StringIO(data.decode("utf-8").removeprefix("\ufeff"), newline=""), delimiter=";")
    header, *rows = list(reader)
    assert header == HEADER
    assert all(len(row) == len(HEADER) for row in rows)
    return [dict(zip(HEADER, row)) for row in rows]


@pytest.fixture
def run_report(app, tmp_path):
    """Run the `report` command; returns (exit code, output, rows keyed by unit/breakdown/group/indicator)."""
    runner = app.test_cli_runner()

    def run(*args: str, expect_ok: bool = True):
        out = tmp_path / "report.csv"
        result = runner.invoke(args=["report", *args, "--out", str(out)])
        if expect_ok:
            assert result.exit_code == 0, result.output
            rows = parse_report_file(out)
            keyed = {(r["unit"], r["breakdown"], r["group"], r["indicator"]): r for r in rows}
            assert len(keyed) == len(rows), "a cell appears twice"
            return result, rows, keyed
        return result, None, None

    return run
