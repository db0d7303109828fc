"""Exports from the report pages: CSV as the report file, XLSX one sheet per breakdown, the print page; audited."""
import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from fitapp.extensions import db
from fitapp.models import AuditEvent
from fitapp.reports.export import report_line
from fitapp.reports.services import build_report
from tests import factories as f
from tests.reports.conftest import HEADER, parse_report_file
from tests.web.conftest import sign_in

T2 = "year=2025&tertial=2&span=tertial&as_of=2026-08-31"
SHEETS = ["all", "gender", "age_band", "intervention", "parents", "intake"]


@pytest.fixture
def head(city):
    staff = f.staff("head_a", "unit_head", [city.units["UA"]])
    f.commit()
    return staff


def _csv_rows(response, tmp_path):
    path = tmp_path / "download.csv"
    path.write_bytes(response.data)
    return parse_report_file(path)


def test_csv_is_the_report_file_with_bom_and_semicolons(client, head, tmp_path):
    sign_in(client, head)
    response = client.get(f"/reports/export.csv?{T2}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="tertialrapport-2025-T2-UA.csv"' in response.headers["Content-Disposition"]
    assert response.data.startswith(b"\xef\xbb\xbfperiod;unit;") and b"\r\n" in response.data
    rows = _csv_rows(response, tmp_path)
    expected = build_report(2025, 2, False, ["UA"], date(2026, 8, 31))
    assert [list(r.values()) for r in rows] == [report_line(r) for r in expected]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export_report")).one()
    assert (event.object_type, event.object_id, event.unit_id, event.actor_id) == (
        "report_csv", "2025-T2", head.unit_ids_on(date.today()).pop(), head.id)


def test_xlsx_has_one_sheet_per_breakdown_with_the_same_cells(client, head):
    sign_in(client, head)
    response = client.get(f"/reports/export.xlsx?{T2}")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.data), read_only=True)
    assert book.sheetnames == SHEETS
    expected = build_report(2025, 2, False, ["UA"], date(2026, 8, 31))
    for breakdown in SHEETS[:4]:
        header, *lines = [list(r) for r in book[breakdown].iter_rows(values_only=True)]
        assert header == HEADER
        wanted = [r for r in expected if r.breakdown == breakdown]
        assert len(lines) == len(wanted) > 0
        for line, row in zip(lines, wanted):
            assert line[:5] == [row.period, row.unit, row.breakdown, row.group, row.indicator]
            assert line[9] == row.protection == "ckm-d5-v3-js2"
            if row.suppressed:
                assert line[5:9] == [None, None, "<5", 1]
            else:
                assert line[5] == row.numerator and line[6] == row.denominator and line[8] == 0
                if row.value is not None:
                    assert line[7] == pytest.approx(float(row.value))
    # Parents' own figures and the intake groups are protected like every other figure.
    parents = [list(r) for r in book["parents"].iter_rows(values_only=True)][1:]
    assert {(line[0], line[1], line[9]) for line in parents} == {("2025-T2", "UA", "ckm-d5-v3-js2"),
                                                                ("2025-T2", "ALL", "ckm-d5-v3-js2")}
    intake = [list(r) for r in book["intake"].iter_rows(values_only=True)][1:]
    assert {line[7] for line in intake} == {"ckm-d5-v3-js2"}
    for line in parents + intake:
        numbers = line[5:7] if len(line) == 10 else line[4:5]
        assert not any(isinstance(n, int) and 1 <= n < 5 for n in numbers), line
    book.close()
    assert db.session.scalars(select(AuditEvent.object_type).where(AuditEvent.action == "export_report")).all() \
        == ["report_xlsx"]


def test_the_print_page_has_the_figures_and_no_forms(client, head):
    sign_in(client, head)
    response = client.get(f"/reports/print?{T2}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'class="report-choice"' not in html and 'class="report-nav"' not in html
    assert 'data-cell="index/UA/all/all/coverage"' in html
    assert db.session.scalars(select(AuditEvent.object_type).where(AuditEvent.action == "export_report")).all() \
        == ["report_print"]


def test_the_report_page_itself_is_not_an_export(client, head):
    sign_in(client, head)
    client.get(f"/reports/?{T2}")
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export_report")).all() == []
