"""metrics.md §7 on every report view and export: no count, numerator or denominator of 1–4 anywhere.

The small city (one family of each archetype) has groups of 1–4 everywhere; a
second, larger unit makes the ALL block and the comparison mix shown and
hidden cells. Every page is parsed: HTML figure cells (data-figure), the
CSV and every sheet of the XLSX. The figures are protected (cell-key
method), so which cells are hidden depends on the record keys; what never
changes is that no shown number is 1–4 and that the files say which table
made them.
"""
import io

import pytest
from openpyxl import load_workbook

from fitapp.reports.series_store import refresh_series
from tests import factories as f
from tests.reports.dataset import build_city, family_a, family_b, family_c
from tests.reports.html import assert_no_small_numbers_on_page
from tests.reports.test_protection_in_file import assert_no_small_numbers
from tests.web.conftest import sign_in

T2 = "year=2025&tertial=2&as_of=2026-08-31"
VIEWS = (
    f"/reports/?{T2}", f"/reports/?{T2}&span=ytd", f"/reports/?{T2}&span=year", f"/reports/?{T2}&unit=UA",
    f"/reports/?{T2}&unit=UB", f"/reports/over-time?{T2}", f"/reports/over-time?{T2}&unit=UA&indicator=srs_mean",
    f"/reports/print?{T2}", f"/reports/print?{T2}&unit=UA",
)


@pytest.fixture
def small_city(app):
    city = build_city(copies=1)
    for _ in range(2):  # UA grows a little: some of its cells reach 5, others stay small
        family_a(city)
        family_b(city)
        family_c(city)
    f.commit()
    refresh_series()
    return city


def _csv(response, tmp_path):
    from tests.reports.conftest import parse_report_file

    path = tmp_path / "report.csv"
    path.write_bytes(response.data)
    return parse_report_file(path)


def _xlsx_numbers(data: bytes):
    book = load_workbook(io.BytesIO(data), read_only=True)
    checked = 0
    for sheet in book.worksheets:
        header, *lines = list(sheet.iter_rows(values_only=True))
        columns = [i for i, name in enumerate(header) if name in ("numerator", "denominator", "count")]
        value = header.index("value") if "value" in header else None
        for line in lines:
            suppressed = line[header.index("suppressed")] == 1
            for i in columns:
                assert line[i] is None or not 1 <= line[i] < 5, (sheet.title, line)
                assert not (suppressed and line[i] is not None), (sheet.title, line)
            if value is not None and line[4] in ("episodes_closed", "index_persons") and not suppressed:
                assert not 1 <= line[value] < 5, (sheet.title, line)
            checked += 1
    book.close()
    return checked


def test_no_small_number_on_any_view_or_export(client, small_city, tmp_path):
    head = f.staff("head_ab", "unit_head", [small_city.units["UA"], small_city.units["UB"]])
    quality = f.staff("quality", "quality", [])
    f.commit()
    sign_in(client, head)
    hidden_seen = 0
    for url in VIEWS + (f"/reports/follow-up?{T2}",):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        if "follow-up" not in url:
            assert assert_no_small_numbers_on_page(html) > 0, url
            hidden_seen += html.count('data-suppressed="1"')
    assert hidden_seen > 0, "the dataset must have hidden cells for this test to mean anything"
    for unit in ("", "&unit=UA", "&unit=UB"):
        rows = _csv(client.get(f"/reports/export.csv?{T2}{unit}&exact=1"), tmp_path)
        assert_no_small_numbers(rows)
        assert {r["protection"] for r in rows} == {"ckm-d5-v3-js2"}, "an export is never exact"
        # UB closed nothing in the period: all zeros, and zero stays zero: nothing to hide.
        if unit == "&unit=UB":
            assert not any(r["suppressed"] == "1" for r in rows)
        assert _xlsx_numbers(client.get(f"/reports/export.xlsx?{T2}{unit}").data) > 0

    sign_in(client, quality)
    for url in (f"/reports/units?{T2}", f"/reports/units?{T2}&indicator=srs_below_36", f"/reports/?{T2}&unit=UC",
                f"/reports/?{T2}"):
        html = client.get(url).get_data(as_text=True)
        assert assert_no_small_numbers_on_page(html) > 0, url
    rows = _csv(client.get(f"/reports/export.csv?{T2}"), tmp_path)
    assert_no_small_numbers(rows)
    assert _xlsx_numbers(client.get(f"/reports/export.xlsx?{T2}").data) > 0


def test_the_unit_comparison_chart_has_no_bar_for_a_hidden_figure(client, small_city):
    quality = f.staff("quality", "quality", [])
    f.commit()
    sign_in(client, quality)
    html = client.get(f"/reports/units?{T2}&indicator=coverage").get_data(as_text=True)
    table = html[html.index('<table class="table report-table report-table--wide">'):]
    hidden_in_table = table.count('data-suppressed="1"')
    chart = html[html.index('<svg class="chart chart--bars"'):html.index("</svg>")]
    # A bar for every shown figure, none for a hidden one: a hidden unit gets the "<5" text instead.
    assert chart.count('class="chart__bar') == chart.count("chart__value")
    assert chart.count("&lt;5</text>") <= hidden_in_table
    assert chart.count('class="chart__bar') + chart.count("chart__missing") == 4  # UA, UB, UC and all
