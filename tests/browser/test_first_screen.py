"""The first screen end to end in headless Chromium: log in, caseload, case page.

The app runs in a werkzeug server thread against a migrated temporary SQLite
database, with CSRF protection on as in production. Screenshots are written to
test-artifacts/screenshots/ for a human to look at.
"""
from datetime import date

import pytest

from tests import factories
from tests.browser.support import screenshot, serve
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def build_family_case() -> int:
    """A small unit with one therapist, a family case and two more open cases."""
    unit = factories.unit(factories.district("D1", "Förvaltning Norr"), "FAM", "Familjeenheten Norr")
    therapist = factories.staff("anna", "therapist", [unit])
    episode = factories.episode(unit, therapist, ref="FAM-2025-014", intervention_code="FFT",
                                start_date=date(2025, 1, 13))
    child = factories.participant(episode, "index", birth_year=2015, gender="female", ref="P-4711")
    sibling = factories.participant(episode, "index", birth_year=2010, gender="male", ref="P-4712")
    mother = factories.participant(episode, "parent", birth_year=1984, gender="female", ref="P-4713")
    factories.series(episode, child, "CORS", ["25.0", "27.5", "29.0", "31.5"])
    factories.series(episode, child, "CSRS", ["34.5", "36.0", "37.5", "38.0"])
    factories.series(episode, sibling, "ORS", ["20.0", "23.5", "28.0"])
    factories.series(episode, sibling, "SRS", ["33.0", "35.5", "36.5"])
    factories.series(episode, mother, "ORS", ["22.0", "21.0", "23.0", "22.5"])
    factories.series(episode, child, "ORS", ["18.0", "19.5", "21.0", "24.5"], rater=mother)
    for ref, start in (("FAM-2025-021", date(2025, 3, 3)), ("FAM-2025-030", date(2025, 4, 22))):
        other = factories.episode(unit, therapist, ref=ref, intervention_code="FAMBEH", start_date=start)
        young = factories.participant(other, "index", birth_year=2009)
        factories.participant(other, "parent", birth_year=1979)
        factories.series(other, young, "ORS", ["19.0", "22.0"])
    factories.commit()
    return episode.id


@pytest.fixture
def live_server(tmp_path):
    with serve(tmp_path / "browser.sqlite", build_family_case) as (base_url, built):
        yield (base_url, built)


def test_log_in_see_the_caseload_and_open_a_case(live_server, page):
    from playwright.sync_api import expect

    base_url, episode_id = live_server

    page.goto(base_url + "/")
    expect(page).to_have_url(base_url + "/login?next=%2F")
    expect(page.get_by_role("heading", level=1)).to_have_text("Logga in")
    page.get_by_label("Användarnamn").fill("anna")
    page.get_by_label("Lösenord").fill("not the password")
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("alert")).to_have_text("Fel användarnamn eller lösenord")
    page.get_by_label("Lösenord").fill(PASSWORD)
    screenshot(page, "login")
    page.get_by_role("button", name="Logga in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Mina ärenden")
    expect(page.locator("header")).to_contain_text("anna")
    expect(page.locator("header")).to_contain_text("behandlare")
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(3)
    # Most urgent first (metrics.md §8): the mother's ORS has 4 ratings below the cutoff without RC.
    expect(rows.first).to_contain_text("FAM-2025-014")
    expect(rows.first).to_contain_text("ingen förbättring: P-4713 (förälder, född 1984), ORS")
    screenshot(page, "caseload")

    page.get_by_role("link", name="FAM-2025-014").click()
    expect(page).to_have_url(f"{base_url}/cases/{episode_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ärende FAM-2025-014")
    child = page.locator("section.participant").first
    expect(child.get_by_role("heading", level=2)).to_contain_text("P-4711")
    expect(child.locator("p.category").first).to_have_text("Kategori hittills: förbättrad")
    expect(child.get_by_role("img", name="CORS, självskattning")).to_be_visible()
    expect(child.locator("svg .chart__cutoff-label").first).to_have_text("Gränsvärde 32,0")
    sibling = page.locator("section.participant").nth(1)
    expect(sibling.locator("p.category").first).to_have_text("Kategori hittills: återhämtad")
    screenshot(page, "episode")

    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Case FAM-2025-014")
    expect(child.locator("p.category").first).to_have_text("Category so far: improved")

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
