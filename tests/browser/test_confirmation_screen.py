"""Att bekräfta in headless Chromium, with axe and screenshots: the unit head sees the number waiting
in the header, reads who is waiting for which unit and why, confirms one and refuses another
(separation of duties, issue 12 item 2). Screenshots: test-artifacts/screenshots/confirmations-*.png.
"""
import pytest

from tests import factories
from tests.browser import a11y
from tests.browser.support import chromium_browser, log_in, new_page, screenshot, serve

pytestmark = pytest.mark.browser


def build() -> None:
    norr = factories.district("NORR", "Förvaltning Norr")
    fam_norr = factories.unit(norr, "FAMN", "Familjeenheten Norr")
    admin = factories.staff("admin", "admin", [])
    factories.staff("chef_norr", "unit_head", [fam_norr])
    for name in ("nils", "okand"):
        staff = factories.staff(name, "therapist", [fam_norr], confirmed=False)
        staff.memberships[0].requested_by_id = admin.id
        staff.memberships[0].pending_reason = "new_membership"
    factories.commit()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("confirm") / "confirm.sqlite", build) as served:
        yield served


@pytest.fixture(scope="module")
def browser():
    with chromium_browser() as browser:
        yield browser


def test_the_unit_head_confirms_one_and_refuses_another(site, browser):
    from playwright.sync_api import expect

    base_url, _built = site
    page = new_page(browser)
    try:
        log_in(page, base_url, "chef_norr")
        link = page.get_by_role("link", name="Att bekräfta 2 väntar")
        expect(link).to_be_visible()
        link.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Att bekräfta")
        table = page.get_by_role("table", name="Väntar på bekräftelse: 2")
        expect(table.locator("tbody tr")).to_have_count(2)
        expect(table.locator("tbody tr", has_text="nils")).to_contain_text("nytt medlemskap")
        expect(table.locator("tbody tr", has_text="nils")).to_contain_text("admin")
        a11y.check(page, "confirmations-waiting")
        screenshot(page, "confirmations-waiting")

        page.get_by_role("button", name="Bekräfta nils, Familjeenheten Norr").click()
        expect(page.locator(".flash")).to_contain_text("Tillgången är bekräftad.")
        page.get_by_role("button", name="Avslå okand, Familjeenheten Norr").click()
        expect(page.locator(".flash")).to_contain_text("Tillgången avslogs och togs bort.")
        expect(page.locator("main")).to_contain_text("Inget väntar på din bekräftelse.")
        expect(page.get_by_role("link", name="Att bekräfta", exact=True)).to_be_visible()
        a11y.check(page, "confirmations-done")
        screenshot(page, "confirmations-done")
    finally:
        page.context.close()
