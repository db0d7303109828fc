"""The report pages: who may see what, and that the page shows exactly build_report's figures.

Dataset: tests/reports/dataset.py (UA, UB in district D1, UC in D2), period 2025-T2, as of 2026-08-31.
"""
from datetime import date

import pytest
from sqlalchemy import select

from fitapp.extensions import db
from fitapp.models import AuditEvent
from fitapp.reports.services import build_report
from tests import factories as f
from tests.reports.html import keyed_cells
from tests.web.conftest import sign_in

T2 = "year=2025&tertial=2&span=tertial&as_of=2026-08-31"
PAGES = ("/reports/", "/reports/over-time", "/reports/units", "/reports/follow-up", "/reports/targets",
         "/reports/export.csv", "/reports/export.xlsx", "/reports/print")


@pytest.fixture
def people(city):
    heads = {
        "head_a": f.staff("head_a", "unit_head", [city.units["UA"]]),
        "head_ab": f.staff("head_ab", "unit_head", [city.units["UA"], city.units["UB"]]),
        "head_old": f.staff("head_old", "unit_head", [city.units["UA"]], valid_to=date(2024, 12, 31)),
        "quality": f.staff("quality", "quality", []),
        "therapist": f.staff("therapist", "therapist", [city.units["UA"]]),
        "admin": f.staff("admin", "admin", []),
    }
    f.commit()
    return heads


# ---------------------------------------------------------------- access


def test_anonymous_visitors_are_sent_to_log_in(client, people):
    for url in PAGES + ("/reports/definitions",):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


@pytest.mark.parametrize("who", ["therapist", "admin"])
def test_therapists_and_administrators_get_no_reports(client, people, who):
    sign_in(client, people[who])
    for url in PAGES:
        assert client.get(f"{url}?{T2}").status_code == 403, url
    assert client.post("/reports/targets", data={"unit": "UA", "year": "2025"}).status_code == 403
    assert "Rapporter" not in client.get("/").get_data(as_text=True)


def test_a_unit_head_cannot_see_another_units_report(client, people):
    sign_in(client, people["head_a"])
    for url in ("/reports/", "/reports/over-time", "/reports/follow-up", "/reports/export.csv",
                "/reports/export.xlsx", "/reports/print"):
        assert client.get(f"{url}?{T2}&unit=UB").status_code == 404, url
        assert client.get(f"{url}?{T2}&unit=UA&unit=UC").status_code == 404, url
        assert client.get(f"{url}?{T2}&unit=NOPE").status_code == 404, url
        assert client.get(f"{url}?{T2}&unit=UA").status_code == 200, url
    assert client.get("/reports/targets?unit=UB").status_code == 404
    assert client.post("/reports/targets", data={"unit": "UB", "year": "2025", "coverage": "90"}).status_code == 404


def test_a_former_member_sees_no_unit(client, people):
    sign_in(client, people["head_old"])
    assert client.get(f"/reports/?{T2}&unit=UA").status_code == 404
    html = client.get(f"/reports/?{T2}").get_data(as_text=True)
    assert 'data-figure' not in html


def test_unit_heads_do_not_compare_units_and_the_quality_group_sees_no_cases(client, people):
    sign_in(client, people["head_ab"])
    assert client.get(f"/reports/units?{T2}").status_code == 403
    sign_in(client, people["quality"])
    assert client.get(f"/reports/follow-up?{T2}").status_code == 403
    assert client.get("/reports/targets").status_code == 403
    assert client.get(f"/reports/units?{T2}").status_code == 200
    # The whole city: every unit may be chosen.
    assert client.get(f"/reports/?{T2}&unit=UC").status_code == 200


def test_the_navigation_links_to_reports_for_unit_heads_and_quality(client, people):
    for who in ("head_a", "quality"):
        sign_in(client, people[who])
        assert 'href="/reports/"' in client.get("/reports/definitions").get_data(as_text=True)


def test_the_definitions_page_is_open_to_every_role(client, people):
    sign_in(client, people["therapist"])
    html = client.get("/reports/definitions").get_data(as_text=True)
    assert 'id="coverage"' in html and 'id="not_rereferred_12m"' in html
    assert "pcoms-2003" in html and "Miller" in html  # the active set and its source


# ---------------------------------------------------------------- figures


def _assert_page_shows(html, rows, unit):
    cells = keyed_cells(html)
    checked = 0
    for row in rows:
        key = f"index/{row.unit}/{row.breakdown}/{row.group}/{row.indicator}"
        cell = cells[key]
        assert cell["suppressed"] == row.suppressed, key
        if row.suppressed:
            continue
        if row.kind == "count":
            assert cell["fig-count"] == str(row.numerator), key
        elif row.kind == "share":
            assert (cell["fig-num"], cell["fig-den"]) == (str(row.numerator), str(row.denominator)), key
        else:
            assert cell["fig-den"] == str(row.denominator), key
        checked += 1
    return checked


def test_the_unit_page_shows_exactly_the_report_files_cells(client, people):
    rows = [r for r in build_report(2025, 2, False, ["UA"], date(2026, 8, 31)) if r.unit == "UA"]
    sign_in(client, people["head_a"])
    html = client.get(f"/reports/?{T2}").get_data(as_text=True)
    assert _assert_page_shows(html, rows, "UA") == len([r for r in rows if not r.suppressed]) > 50
    # The unit head's exact figures (metrics.md §7.1): the same page arrangement with the §6 figures.
    exact = [r for r in build_report(2025, 2, False, ["UA"], date(2026, 8, 31), exact=True) if r.unit == "UA"]
    html = client.get(f"/reports/?{T2}&exact=1").get_data(as_text=True)
    assert _assert_page_shows(html, exact, "UA") == len(exact) > 100
    cells = keyed_cells(html)
    # Values as the page writes them (Swedish decimal comma, half up): hand arithmetic in test_report_values.py.
    assert cells["index/UA/all/all/coverage"]["fig-value"] == "80,0\u00a0%"
    assert cells["index/UA/all/all/mean_change"]["fig-value"] == "2,3"
    assert cells["index/UA/all/all/effect_size"]["fig-value"] == "0,53"
    assert cells["index/UA/all/all/recovered"]["fig-value"] == "33,3\u00a0%"


def test_several_units_together_show_the_all_block(client, people):
    rows = [r for r in build_report(2025, 2, True, ["UA", "UB"], date(2026, 8, 31)) if r.unit == "ALL"]
    sign_in(client, people["head_ab"])
    html = client.get("/reports/?year=2025&tertial=2&span=ytd&as_of=2026-08-31").get_data(as_text=True)
    assert _assert_page_shows(html, rows, "ALL") > 50
    assert "2025-T1..T2" in html


def test_the_whole_year_is_year_to_date_through_tertial_3(client, people):
    rows = [r for r in build_report(2025, 3, True, [], date(2026, 8, 31)) if r.unit == "ALL"]
    sign_in(client, people["quality"])
    html = client.get("/reports/?year=2025&tertial=1&span=year&as_of=2026-08-31").get_data(as_text=True)
    assert "2025-T1..T3" in html and _assert_page_shows(html, rows, "ALL") > 50


def test_parents_own_ratings_are_their_own_section(client, people):
    sign_in(client, people["head_a"])
    cells = keyed_cells(client.get(f"/reports/?{T2}&exact=1").get_data(as_text=True))
    # Archetype A's mother (×5): her own ORS 10 → 30 is the only parent series; never in the children's figures.
    assert cells["parents//all/all/index_persons"]["fig-count"] == "5"
    assert (cells["parents//all/all/paired"]["fig-num"], cells["parents//all/all/paired"]["fig-den"]) == ("5", "5")
    assert cells["parents//gender/kvinna/index_persons"]["fig-count"] == "5"
    assert cells["index/UA/all/all/index_persons"]["fig-count"] == "25"


def test_intake_groups_are_shown_apart(client, people):
    sign_in(client, people["head_a"])
    cells = keyed_cells(client.get(f"/reports/?{T2}&exact=1").get_data(as_text=True))
    # Clinical: A improved, B recovered, D unchanged (5 each); non-clinical: C deteriorated (5).
    clinical = [cells[f"intake/clinical/{i}"].get("fig-count") for i in range(5)]
    non_clinical = [cells[f"intake/non_clinical/{i}"].get("fig-count") for i in range(5)]
    assert clinical == ["15", "5", "5", "5", "0"]
    assert non_clinical == ["5", None, "0", "0", "5"]  # recovered is impossible from a non-clinical intake


def test_invalid_choices_are_explained(client, people):
    sign_in(client, people["head_a"])
    response = client.get("/reports/?year=20x5&tertial=7&span=week&as_of=yesterday")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.count('aria-invalid="true"') == 2 and "data-figure" not in html


# ---------------------------------------------------------------- over time and across units


def test_over_time_shows_four_years_and_no_comparison_where_empty(client, people):
    sign_in(client, people["head_a"])
    html = client.get(f"/reports/over-time?{T2}&indicator=coverage").get_data(as_text=True)
    for year in ("2022-T2", "2023-T2", "2024-T2", "2025-T2"):
        assert year in html
    years = html[html.index('id="years-table"'):]
    assert years[:years.index("</table>")].count('class="num no-comparison"') == 3 * 17
    protected = {r.indicator: r for r in build_report(2025, 2, False, ["UA"], date(2026, 8, 31))
                 if r.unit == "UA" and r.breakdown == "all"}
    cells = keyed_cells(html)
    assert cells["index/UA/all/all/coverage"]["suppressed"] == protected["coverage"].suppressed
    exact_cells = keyed_cells(client.get(f"/reports/over-time?{T2}&indicator=coverage&exact=1").get_data(as_text=True))
    assert exact_cells["index/UA/all/all/coverage"]["fig-value"] == "80,0\u00a0%"
    assert '<svg class="chart"' in html and "chart__point" in html


def test_the_quality_group_compares_units_and_never_shows_all_minus_one(client, people, city):
    rows = build_report(2025, 2, False, [], date(2026, 8, 31))
    sign_in(client, people["quality"])
    html = client.get(f"/reports/units?{T2}&indicator=reliable_improvement").get_data(as_text=True)
    cells = keyed_cells(html)
    units = {key.split("/")[1] for key in cells}
    assert units == {"UA", "UB", "UC", "ALL"}
    for row in rows:
        if row.breakdown == "all" and f"index/{row.unit}/all/all/{row.indicator}" in cells:
            cell = cells[f"index/{row.unit}/all/all/{row.indicator}"]
            assert cell["suppressed"] == row.suppressed
    assert 'class="chart chart--bars"' in html
    # Nothing per therapist, and no "all other units" row.
    assert city.therapist.username not in html
    assert html.count("<tr") == 1 + 4


def test_an_indicator_that_cannot_be_charted_falls_back_to_coverage(client, people):
    sign_in(client, people["quality"])
    html = client.get(f"/reports/units?{T2}&indicator=episodes_closed").get_data(as_text=True)
    assert 'value="coverage" selected' in html


# ---------------------------------------------------------------- follow-up list


def test_the_follow_up_list_names_cases_without_a_pair_of_ratings(client, people, city):
    sign_in(client, people["head_a"])
    html = client.get(f"/reports/follow-up?{T2}").get_data(as_text=True)
    # Archetype C's second index person has no ratings (×5); UC's archetype E is not this unit's.
    expected_episodes = city.episodes["C"]
    for episode in expected_episodes:
        assert f'href="/cases/{episode.id}"' in html
        assert episode.ref in html
    for episode in city.episodes["E"] + city.episodes["A"]:
        assert f'href="/cases/{episode.id}"' not in html
    assert html.count("<tbody>") == 1 and html.count('<th scope="row">') == 5
    first = expected_episodes[0]
    assert client.get(f"/cases/{first.id}").status_code == 200  # the unit head can open it
    events = db.session.scalars(select(AuditEvent.action)).all()
    assert "view_follow_up" in events


def test_a_birth_year_after_the_start_does_not_stop_the_reports(client, people, city, tmp_path):
    # A child not yet born when the intervention started (or a mistyped birth year): no age at the start,
    # so `okand`, and every page and the report command still work instead of failing on the age.
    unborn = f.episode(city.units["UA"], city.therapist, start_date=date(2025, 5, 5), end_date=date(2025, 6, 30))
    f.participant(unborn, "index", birth_year=2026, gender="female")
    f.commit()
    before = {r.group: r for r in build_report(2025, 2, False, ["UA"], date(2026, 8, 31))
              if r.unit == "UA" and r.breakdown == "age_band" and r.indicator == "index_persons"}
    assert "okand" in before
    unit_head_only, quality_only = ("/reports/follow-up", "/reports/targets"), ("/reports/units",)
    for who, excluded in (("quality", unit_head_only), ("head_a", quality_only)):
        sign_in(client, people[who])
        for page in PAGES:
            if page not in excluded:
                assert client.get(f"{page}?{T2}").status_code == 200, (who, page)
        client.post("/logout")
    result = client.application.test_cli_runner().invoke(args=[
        "report", "--year", "2025", "--tertial", "2", "--as-of", "2026-08-31", "--out", str(tmp_path / "r.csv")])
    assert result.exit_code == 0, result.output
