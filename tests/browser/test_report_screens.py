"""The report pages end to end in headless Chromium, with screenshots for a human to look at.

The server and browser come from support.py and conftest.py. A unit head sets two
targets and looks at the report, over time, the follow-up list and the print
version; the quality group compares the units (after its second factor).
Screenshots: test-artifacts/screenshots/report-*.png.
"""
import re
import time

import pytest

from tests import factories
from tests.browser.support import log_in, screenshot, serve
from tests.factories import TOTP_SECRET

pytestmark = pytest.mark.browser

T2 = "year=2025&tertial=2&span=tertial&as_of=2026-08-31"


def build_report_city() -> None:
    from fitapp.extensions import db
    from fitapp.reports.series_store import refresh_series
    from tests.reports.dataset import build_city, family_a, family_c

    city = build_city(copies=5)
    for unit, name in (("UA", "Familjeenheten Norr"), ("UB", "Familjeenheten Väster"), ("UC", "Familjeenheten Söder")):
        city.units[unit].name = name
    # Tertial 2 of earlier years for the comparison over time: 2023 and 2024 have data, 2022 has none.
    for shift in (1, 2):
        for _ in range(6):
            family_a(city)
            family_c(city)
        for episode in city.episodes["A"][-6:] + city.episodes["C"][-6:]:
            if episode.referral_date:
                episode.referral_date = _years_back(episode.referral_date, shift)
            episode.start_date = _years_back(episode.start_date, shift)
            episode.end_date = _years_back(episode.end_date, shift)
            for session in episode.sessions:
                session.date = _years_back(session.date, shift)
        db.session.flush()
    factories.staff("chef_norr", "unit_head", [city.units["UA"]])
    factories.staff("kvalitet", "quality", [])
    factories.commit()
    refresh_series()


def _years_back(day, years: int):
    return day.replace(year=day.year - years)


@pytest.fixture
def live_server(tmp_path):
    with serve(tmp_path / "browser.sqlite", build_report_city) as (base_url, _):
        yield base_url


def log_in_with_code(page, base_url, username, code=False):
    log_in(page, base_url, username)
    if code:
        from fitapp.auth.totp import code_at

        page.locator("input[name=code]").fill(code_at(TOTP_SECRET, time.time()))
        page.get_by_role("button", name="Logga in").click()


def test_unit_head_and_quality_group_reports(live_server, page):
    from playwright.sync_api import expect

    base_url = live_server
    log_in_with_code(page, base_url, "chef_norr")
    page.get_by_role("link", name="Rapporter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tertialrapport")

    page.get_by_role("link", name="Målvärden").click()
    page.get_by_label("År").fill("2025")
    page.get_by_role("button", name="Visa").click()
    page.get_by_label("Täckning: skattat minst en gång").fill("90")
    page.get_by_label("Inte återaktualiserade inom 12 månader").fill("84")
    page.get_by_label("Parade skattningar (minst två)").fill("75")
    screenshot(page, "report-targets")
    page.get_by_role("button", name="Spara målvärden").click()
    expect(page.locator(".alert--success")).to_contain_text("Målvärdena sparade (3 ändrade)")

    page.goto(f"{base_url}/reports/?{T2}")
    expect(page.locator("h2.report-scope__title")).to_have_text("Familjeenheten Norr (UA): 2025-T2")
    expect(page.locator(".protection-note")).to_contain_text("Skyddade siffror")
    expect(page.locator(".protection-note")).to_contain_text("ckm-d5-v3-js2")
    screenshot(page, "report-unit-protected")
    # The unit head's switch to the exact figures of their own unit.
    page.get_by_role("link", name="Exakta siffror – internt, får inte publiceras").click()
    expect(page.locator(".exact-notice")).to_contain_text("Exakta siffror – internt, får inte publiceras")
    coverage = page.locator("tr", has=page.locator('[data-cell="index/UA/all/all/coverage"]'))
    expect(coverage).to_contain_text("80,0 %")
    expect(coverage).to_contain_text("90,0 %: ej uppnått")
    expect(page.locator("tr", has=page.locator('[data-cell="index/UA/all/all/paired"]'))).to_contain_text("uppnått")
    screenshot(page, "report-unit")
    page.get_by_role("link", name="Visa skyddade siffror").click()
    expect(page.locator(".protection-note")).to_be_visible()

    # How sure the figures are: an interval under each shown share, and the section that explains them.
    expect(coverage.locator(".fig-interval")).to_contain_text("95 % KI")
    expect(page.get_by_role("heading", name="Hur säkra siffrorna är")).to_be_visible()

    page.get_by_role("link", name="Över tid", exact=True).click()
    expect(page.locator("#tertials-table thead")).to_contain_text("2025 T1–T3 (helår)")
    expect(page.locator("#years-table thead")).to_contain_text("2022 T2")
    expect(page.locator("td.no-comparison").first).to_have_text("ingen jämförelse")
    expect(page.get_by_role("img", name="Täckning: skattat minst en gång").last).to_be_visible()
    change = page.locator("#years-table tr", has=page.locator('a[href$="#coverage"]')).locator("td.change")
    expect(change).to_contain_text("procentenheter")
    expect(change).to_contain_text(re.compile("verklig förändring|inom slumpens ram"))
    screenshot(page, "report-over-time")

    page.get_by_role("link", name="Uppföljningslista").click()
    expect(page.locator("main table tbody tr")).to_have_count(5)
    screenshot(page, "report-follow-up")
    page.locator("main table tbody tr a").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ärende")

    page.goto(f"{base_url}/reports/print?{T2}")
    page.emulate_media(media="print")
    screenshot(page, "report-print")
    page.emulate_media(media="screen")

    page.goto(f"{base_url}/reports/definitions#not_rereferred_12m")
    expect(page.locator("#not_rereferred_12m")).to_contain_text("Inte återaktualiserade inom 12 månader")
    expect(page.get_by_text("pcoms-2003")).to_be_visible()
    screenshot(page, "report-definitions")

    page.get_by_role("button", name="Logga ut").click()
    log_in_with_code(page, base_url, "kvalitet", code=True)
    page.goto(f"{base_url}/reports/units?{T2}&indicator=reliable_improvement")
    expect(page.locator("main table tbody tr")).to_have_count(4)
    expect(page.get_by_role("img", name="Tillförlitlig förbättring")).to_be_visible()
    screenshot(page, "report-units")
