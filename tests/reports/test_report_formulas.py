"""Report files never carry a live formula (OWASP "CSV injection"; issue 12, item 7).

A unit or intervention code that is already in the database as a formula (put
there before the rule, or by hand) is written as text: in the CSV download and
the ``report`` command's file with a leading ``'``, in the XLSX as a string
cell (openpyxl reads no formula), and the download's file name is plain. The
figures stay numbers.
"""
import csv
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from fitapp.extensions import db
from fitapp.models import Intervention, Unit
from tests import factories as f
from tests.web.conftest import sign_in

T2 = "year=2025&tertial=2&span=tertial&as_of=2026-08-31"
HYPERLINK = '=HYPERLINK("http://x","y")'
SUM = "@SUM(1,2)"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def head(city):
    # Written straight to the database: the administration and the import would refuse these codes.
    db.session.execute(update(Unit).where(Unit.code == "UA").values(code=HYPERLINK))
    db.session.execute(update(Intervention).where(Intervention.code == "FAMBEH").values(code=SUM))
    db.session.commit()
    staff = f.staff("head_a", "unit_head", [city.units["UA"]])
    f.commit()
    return staff


def _csv(data: bytes) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";")
    return list(reader)


def test_the_csv_download_neutralises_the_codes(client, head):
    sign_in(client, head)
    response = client.get(f"/reports/export.csv?{T2}")
    assert response.status_code == 200
    rows = _csv(response.data)
    assert {r["unit"] for r in rows} == {"'" + HYPERLINK, "ALL"}
    assert "'" + SUM in {r["group"] for r in rows if r["breakdown"] == "intervention"}
    for r in rows:
        for column in ("period", "unit", "breakdown", "group", "indicator", "protection"):
            assert not r[column].startswith(FORMULA_STARTS), r
    # Numbers are written as numbers, a negative one too.
    values = [r["value"] for r in rows if r["value"]]
    assert values and all(re.fullmatch(r"-?[0-9]+(\.[0-9]{4})?", v) for v in values)


def test_the_download_file_name_is_plain(client, head):
    sign_in(client, head)
    for extension in ("csv", "xlsx"):
        disposition = client.get(f"/reports/export.{extension}?{T2}").headers["Content-Disposition"]
        name = re.fullmatch(r'attachment; filename="([^"]*)"', disposition).group(1)
        assert re.fullmatch(rf"tertialrapport-2025-T2-[A-Za-z0-9_-]+\.{extension}", name), name
        assert "HYPERLINK" in name  # still recognisable


def test_the_xlsx_holds_strings_never_formulas(client, head):
    sign_in(client, head)
    response = client.get(f"/reports/export.xlsx?{T2}")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    units, groups, numbers = set(), set(), 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows(min_row=2):
            units.add(row[1].value)
            groups.add(row[2 if sheet.title == "intake" else 3].value)
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert cell.data_type == "s" and not cell.value.startswith(FORMULA_STARTS), cell.value
                elif cell.value is not None:
                    assert cell.data_type == "n"
                    numbers += 1
    assert units == {"'" + HYPERLINK, "ALL"}
    assert "'" + SUM in groups
    assert numbers > 0
    book.close()


def test_the_report_command_neutralises_the_codes(head, run_report):
    _, rows, _ = run_report("--year", "2025", "--tertial", "2", "--unit", HYPERLINK, "--as-of", "2026-08-31")
    assert {r["unit"] for r in rows} == {"'" + HYPERLINK, "ALL"}
    assert "'" + SUM in {r["group"] for r in rows}

