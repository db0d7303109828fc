"""The log review (loggkontroll) in headless Chromium, with axe and screenshots for a reviewer.

A unit head reads last month's access log of the unit (own-caseload reads, a
colleague's read, the unit head's own reads, an export and a red flag from a
therapist of another unit), narrows it to the highlighted accesses and marks
the month as reviewed; another unit's log is not revealed. The administrator
(after the second factor) sees the whole organisation and which units have
months not reviewed, without case references. One served app and one Chromium for the module.
Screenshots: test-artifacts/screenshots/log-review-*.png.
"""
from datetime import datetime, time, timedelta, timezone

import pytest

from tests import factories
from tests.browser import a11y
from tests.browser.support import chromium_browser, log_in, log_in_with_code, new_page, screenshot, serve

pytestmark = pytest.mark.browser


def build_log() -> dict:
    from fitapp.extensions import db
    from fitapp.log_review.services import ORGANISATION_TIME, add_months, previous_month, today_local
    from fitapp.models import AuditEvent, LogReview
    from fitapp.models.audit import last_hash

    month = previous_month(today_local())
    earlier = add_months(month, -1)
    norr = factories.district("NORR", "Förvaltning Norr")
    fam_norr = factories.unit(norr, "FAMN", "Familjeenheten Norr")
    fam_soder = factories.unit(factories.district("SODER", "Förvaltning Söder"), "FAMS", "Familjeenheten Söder")
    factories.unit(norr, "UNGN", "Ungdomsmottagningen Norr")
    anna = factories.staff("anna", "therapist", [fam_norr])
    arvid = factories.staff("arvid", "therapist", [fam_norr])
    bert = factories.staff("bert", "therapist", [fam_soder])
    chef = factories.staff("chef_norr", "unit_head", [fam_norr])
    factories.staff("chef_soder", "unit_head", [fam_soder])
    admin = factories.staff("admin", "admin", [])
    case = factories.episode(fam_norr, anna, ref="FAMN-2026-014")
    child = factories.participant(case, "index", birth_year=2013, ref="P-5101")
    rating = factories.rating(factories.session(case, 1), "CORS", child, "21.5")
    other = factories.episode(fam_norr, arvid, ref="FAMN-2026-020")
    soder_case = factories.episode(fam_soder, bert, ref="FAMS-2026-003")

    def at(first_of_month, day: int, hour: int, minute: int = 0) -> datetime:
        local = datetime.combine(first_of_month + timedelta(days=day - 1), time(hour, minute), ORGANISATION_TIME)
        return local.astimezone(timezone.utc)

    events = [
        # (when, who, action, object type, object id, unit, address)
        (at(earlier, 3, 9), anna, "view_episode", "episode", case.id, fam_norr),
        (at(earlier, 14, 10), arvid, "view_episode", "episode", case.id, fam_norr),
        (at(month, 2, 8, 55), anna, "view_episode", "episode", case.id, fam_norr),
        (at(month, 2, 9, 5), anna, "create_session", "session", rating.session.id, fam_norr),
        (at(month, 2, 9, 6), anna, "tablet_handover", "episode", case.id, fam_norr),
        (at(month, 6, 13, 30), arvid, "view_episode", "episode", other.id, fam_norr),
        (at(month, 7, 15, 12), arvid, "view_episode", "episode", case.id, fam_norr),
        (at(month, 9, 11), arvid, "correct_rating", "rating", rating.id, fam_norr),
        (at(month, 13, 10, 40), chef, "view_follow_up", "report_period", "2026-T3", fam_norr),
        (at(month, 13, 10, 42), chef, "view_episode", "episode", case.id, fam_norr),
        (at(month, 20, 16), chef, "export_report", "report_csv", "2026-T2", fam_norr),
        (at(month, 22, 19, 47), bert, "view_episode", "episode", case.id, fam_norr),
        (at(month, 23, 9), bert, "view_episode", "episode", soder_case.id, fam_soder),
    ]
    previous = last_hash()
    for moment, who, action, object_type, object_id, unit in events:
        event = AuditEvent(at=moment, actor_id=who.id, actor_name=who.username, action=action,
                           object_type=object_type, object_id=str(object_id), unit_id=unit.id,
                           remote_addr="10.20.4.17", prev_hash=previous)
        event.hash = previous = event.compute_hash()
        db.session.add(event)
    db.session.add(LogReview(unit_id=fam_norr.id, month=earlier, reviewed_by_id=chef.id,
                             reviewed_at=at(add_months(earlier, 1), 4, 10), events_count=2, flagged_count=1))
    db.session.add(LogReview(unit_id=None, month=earlier, reviewed_by_id=admin.id,
                             reviewed_at=at(add_months(earlier, 1), 5, 14), events_count=2, flagged_count=1))
    factories.commit()
    return {"month": month, "fam_soder": fam_soder.id, "fam_norr": fam_norr.id}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("log") / "log.sqlite", build_log) as served:
        yield served


@pytest.fixture(scope="module")
def browser():
    with chromium_browser() as browser:
        yield browser


def look(page, name: str) -> None:
    a11y.check(page, f"log-review-{name}")
    screenshot(page, f"log-review-{name}")


def month_sv(first_of_month) -> str:
    from babel.dates import format_date

    return format_date(first_of_month, "LLLL yyyy", locale="sv")


def test_the_unit_head_reviews_last_month(site, browser):
    from playwright.sync_api import expect

    base_url, built = site
    page = new_page(browser)
    try:
        log_in(page, base_url, "chef_norr")
        page.get_by_role("link", name="Loggkontroll").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Loggkontroll")
        expect(page.get_by_role("heading", level=2).first).to_have_text(
            f"Familjeenheten Norr (FAMN): {month_sv(built['month'])}")
        screenshot(page, "log-review-unit-head")
        expect(page.locator("dl.facts dd")).to_have_text(["10", "4", "1"])
        log = page.get_by_role("table", name="Åtkomster 1–10 av 10")
        red_flag = log.locator("tbody tr", has_text="bert")
        expect(red_flag).to_contain_text("Tillhörde inte enheten den dagen")
        expect(red_flag).to_contain_text("läste ärendet")
        expect(red_flag).to_contain_text("FAMN-2026-014")
        look(page, "unit-head")

        page.get_by_role("link", name="Visa bara de markerade åtkomsterna").click()
        highlighted = page.get_by_role("table", name="Markerade åtkomster 1–4 av 4")
        expect(highlighted.locator("tbody tr")).to_have_count(4)
        expect(highlighted.locator("tbody")).not_to_contain_text("anna")
        screenshot(page, "log-review-highlighted")

        page.get_by_role("button", name="Markera månaden som granskad").click()
        month = month_sv(built["month"])
        expect(page.locator(".flash")).to_contain_text(f"Loggen för {month} är markerad som granskad.")
        expect(page.locator("main")).to_contain_text("Granskad av chef_norr den")
        expect(page.get_by_role("button", name="Markera månaden som granskad")).to_have_count(0)
        history = page.get_by_role("table", name="Familjeenheten Norr (FAMN)", exact=True)
        expect(history.locator("tbody tr").first).to_contain_text("Granskad av chef_norr")
        look(page, "reviewed")

        # Another unit's log is not revealed, not even that the unit exists.
        assert page.goto(f"{base_url}/log-review/?unit={built['fam_soder']}").status == 404
    finally:
        page.context.close()


def test_the_administrator_sees_the_whole_organisation(site, browser):
    from playwright.sync_api import expect

    base_url, built = site
    page = new_page(browser)
    try:
        log_in_with_code(page, base_url, "admin")
        page.get_by_role("link", name="Loggkontroll").click()
        expect(page.get_by_role("heading", level=2).first).to_have_text(
            f"Hela organisationen: {month_sv(built['month'])}")
        expect(page.locator("dl.facts dd")).to_have_text(["11", "4", "1"])
        missing = page.get_by_role("table", name="Ej granskade månader av de senaste 12")
        expect(missing.locator("tbody tr")).to_have_count(4)
        look(page, "admin")

        page.get_by_label("Enhet").select_option(label="Familjeenheten Söder (FAMS)")
        page.get_by_role("button", name="Visa", exact=True).click()
        expect(page.get_by_role("heading", level=2).first).to_contain_text("Familjeenheten Söder (FAMS)")
        # Who and what kind of access, never which case (separation of duties, issue 12 item 2).
        admin_log = page.get_by_role("table", name="Åtkomster 1–1 av 1")
        expect(admin_log).to_contain_text("bert")
        expect(admin_log).not_to_contain_text("FAMS-2026-003")
        screenshot(page, "log-review-admin-unit")
    finally:
        page.context.close()
