"""The unit head's switch to exact figures of their own units (metrics.md §7.1): on screen only, audited.

Tried as the people who must not get exact figures would: a quality group
asking for them, a unit head asking for another unit's, a download or the
print page with the switch in its address.
"""
import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from fitapp.extensions import db
from fitapp.models import AuditEvent
from fitapp.reports.services import build_report
from tests import factories as f
from tests.reports.conftest import parse_report_file
from tests.reports.html import keyed_cells
from tests.web.conftest import sign_in

T2 = "year=2025&tertial=2&span=tertial&as_of=2026-08-31"
AS_OF = date(2026, 8, 31)
LABEL = "Exakta siffror – internt, får inte publiceras"


@pytest.fixture
def people(city):
    staff = {
        "head_a": f.staff("head_a", "unit_head", [city.units["UA"]]),
        "quality": f.staff("quality", "quality", []),
    }
    f.commit()
    return staff


def _exact_events():
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == "view_exact_report")).all()


def test_a_unit_head_switches_to_the_exact_figures_of_their_unit_and_each_switch_is_audited(client, people):
    sign_in(client, people["head_a"])
    protected_html = client.get(f"/reports/?{T2}").get_data(as_text=True)
    assert LABEL in protected_html and "exact=1" in protected_html  # the switch is there, clearly labelled
    assert 'data-figures="protected"' in protected_html
    assert _exact_events() == []
    response = client.get(f"/reports/?{T2}&exact=1")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-figures="exact"' in html and LABEL in html
    exact = {(r.indicator): r for r in build_report(2025, 2, False, ["UA"], AS_OF, exact=True)
             if r.unit == "UA" and r.breakdown == "all"}
    cells = keyed_cells(html)
    # The page shows the §6 figures: the city's UA closes 20 episodes with 25 index persons.
    assert cells["index/UA/all/all/episodes_closed"]["fig-count"] == str(exact["episodes_closed"].numerator) == "20"
    assert cells["index/UA/all/all/index_persons"]["fig-count"] == "25"
    client.get(f"/reports/over-time?{T2}&exact=1")
    events = _exact_events()
    assert len(events) == 2
    assert {(e.object_id, e.unit_id, e.actor_id) for e in events} == {
        ("2025-T2", people["head_a"].unit_ids_on(date.today()).pop(), people["head_a"].id)}


def test_exports_and_the_print_page_never_hold_exact_figures(client, people, tmp_path):
    sign_in(client, people["head_a"])
    response = client.get(f"/reports/export.csv?{T2}&exact=1")
    path = tmp_path / "report.csv"
    path.write_bytes(response.data)
    rows = parse_report_file(path)
    assert {r["protection"] for r in rows} == {"ckm-d5-v3-js2"}
    protected = build_report(2025, 2, False, ["UA"], AS_OF)
    assert [r["numerator"] for r in rows] == ["" if r.numerator is None else str(r.numerator) for r in protected]
    html = client.get(f"/reports/print?{T2}&exact=1").get_data(as_text=True)
    assert 'data-figures="exact"' not in html and LABEL not in html
    book = load_workbook(io.BytesIO(client.get(f"/reports/export.xlsx?{T2}&exact=1").data), read_only=True)
    for sheet in book.worksheets:
        header, *lines = list(sheet.iter_rows(values_only=True))
        assert {line[header.index("protection")] for line in lines} <= {"ckm-d5-v3-js2"}, sheet.title
    assert _exact_events() == []


def test_nobody_but_a_unit_head_gets_exact_figures(client, people):
    sign_in(client, people["quality"])
    for url in ("/reports/", "/reports/over-time", "/reports/units"):
        response = client.get(f"{url}?{T2}&exact=1")
        assert response.status_code in (403, 200), url
        assert 'data-figures="exact"' not in response.get_data(as_text=True), url
    assert client.get(f"/reports/?{T2}&exact=1").status_code == 403
    html = client.get(f"/reports/?{T2}").get_data(as_text=True)
    assert LABEL not in html  # no switch offered
    assert _exact_events() == []


def test_a_unit_head_gets_no_exact_figures_of_another_unit(client, people):
    sign_in(client, people["head_a"])
    for unit in ("UB", "UC"):
        assert client.get(f"/reports/?{T2}&unit={unit}&exact=1").status_code == 404
    assert _exact_events() == []
