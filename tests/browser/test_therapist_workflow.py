"""The therapist's workflow end to end in headless Chromium, from the keyboard.

A therapist logs in, opens a case for a family of three, logs two sessions
with the keyboard fast path, sees a deterioration alert, corrects the rating
that caused it, and closes the case. CSRF protection is on, as in production.

Keystroke budget for one session of a family of three, two scales each
(24 items): the first item has focus when the page opens, so besides typing
the numbers the therapist presses only Tab and, at the end, Enter. Within a
person: 3 Tabs between the four outcome items, 2 to the first alliance item
(past the alliance form choice), 3 between the alliance items = 8. Between
two persons: 4 (reason, next person's "present" box, their outcome form
choice, their first item). 3 × 8 + 2 × 4 = 32 Tabs + 1 Enter. The budget is
40 key presses + 1 submit: the minimum for 24 fields is 23 Tabs, and the
other 9 are the controls that must stay reachable from the keyboard (presence,
form choice, reason: WCAG 2.1.1), with room for changing one form or reason.
"""
import threading
from datetime import date

import pytest
from werkzeug.serving import make_server

from tests import factories
from tests.browser.test_first_screen import page, screenshot  # noqa: F401  (page is a fixture)
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

KEY_BUDGET = 40  # Tab presses and other non-typing keys for one session of a family of three
YEAR = date.today().year


@pytest.fixture
def live_server(tmp_path):
    from flask_migrate import upgrade

    from fitapp import create_app
    from fitapp.extensions import db

    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'workflow.sqlite'}"})
    with app.app_context():
        upgrade()
        unit = factories.unit(factories.district("D1", "Förvaltning Norr"), "FAM", "Familjeenheten Norr")
        factories.staff("anna", "therapist", [unit])
        factories.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


class Keyboard:
    """Types from the keyboard and counts the keys that are not part of a value."""

    def __init__(self, page):
        self.page = page
        self.presses = 0
        self.typed = 0

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)
        self.typed += len(text)

    def press(self, key: str, times: int = 1) -> None:
        for _ in range(times):
            self.page.keyboard.press(key)
            self.presses += 1

    def focused(self) -> str:
        return self.page.evaluate("document.activeElement.id")


def log_session(page, keyboard: Keyboard, family: list[tuple[list[str], list[str]]]) -> None:
    """Type (outcome items, alliance items) for each person in order, from the autofocused first item."""
    from playwright.sync_api import expect

    expect(page.locator("input.item__input").first).to_be_focused()
    for index, (outcome, alliance) in enumerate(family):
        if index:
            keyboard.press("Tab", 4)  # reason, next person's "present", their outcome form, first item
        assert keyboard.focused().startswith("outcome-") and keyboard.focused().endswith("-1")
        for n, value in enumerate(outcome):
            if n:
                keyboard.press("Tab")
            keyboard.type(value)
        keyboard.press("Tab", 2)  # past the alliance form choice
        assert keyboard.focused().startswith("alliance-") and keyboard.focused().endswith("-1")
        for n, value in enumerate(alliance):
            if n:
                keyboard.press("Tab")
            keyboard.type(value)


def test_open_log_alert_correct_close(live_server, page):  # noqa: F811
    from playwright.sync_api import expect

    base_url = live_server
    page.goto(base_url + "/login")
    page.get_by_label("Användarnamn").fill("anna")
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mina ärenden")

    # Open a case with three family members.
    page.get_by_role("link", name="Öppna nytt ärende").click()
    page.get_by_label("Insats").select_option(label="Funktionell familjeterapi (FFT)")
    for row, (role, year, gender) in enumerate(
            [("barn/ung", YEAR - 10, "kvinna/flicka"), ("barn/ung", YEAR - 15, "man/pojke"),
             ("förälder", 1984, "kvinna/flicka")], start=1):
        member = page.locator("fieldset.member").nth(row - 1)
        member.get_by_label("Roll").select_option(label=role)
        member.get_by_label("Födelseår").fill(str(year))
        member.get_by_label("Kön").select_option(label=gender)
    screenshot(page, "workflow-open-case")
    page.get_by_role("button", name="Öppna ärendet").click()
    expect(page.get_by_role("status")).to_contain_text("är öppnat")
    case_url = page.url
    child, sibling, mother = [page.locator("section.participant h2").nth(i).inner_text().split()[0] for i in range(3)]

    # Session 1 from the keyboard: everyone fine, good alliance.
    page.get_by_role("link", name="Registrera samtal").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Registrera samtal")
    keyboard = Keyboard(page)
    first = [(["7,5", "7,5", "7,5", "7,5"], ["9", "9", "9", "9"]),
             (["5", "5", "5", "5"], ["9,5", "9,5", "9,5", "9,5"]),
             (["6", "6", "6", "6"], ["10", "10", "10", "9"])]
    log_session(page, keyboard, first)
    totals = page.locator(".item__total")
    expect(totals.nth(0)).to_have_text("30,0")  # live total of the child's CORS, computed in the browser
    expect(totals.nth(5)).to_have_text("39,0")
    screenshot(page, "workflow-session-form")
    keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Samtal 1 är sparat.")
    assert keyboard.presses <= KEY_BUDGET + 1, keyboard.presses
    first_session_presses = keyboard.presses

    # Session 2: the child's outcome falls by 10 points (RC for CORS is 6): deterioration.
    page.get_by_role("link", name="Registrera samtal").click()
    keyboard = Keyboard(page)
    log_session(page, keyboard, [(["5", "5", "5", "5"], ["8", "8", "8", "8"]),
                                 (["7", "7", "7", "7"], ["9,5", "9,5", "9,5", "9,5"]),
                                 (["6,5", "6,5", "6,5", "6,5"], ["10", "10", "10", "9"])])
    keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Samtal 2 är sparat.")
    assert keyboard.presses == first_session_presses == 33  # 32 Tabs + Enter, within the budget of 40 + 1
    alerts = page.locator("section.alerts")
    expect(alerts).to_contain_text(f"försämring: {child}, CORS")
    expect(alerts).to_contain_text(f"allians under 36: {child}, CSRS")
    screenshot(page, "workflow-case-with-alert")
    page.get_by_role("link", name="Tillbaka till ärendelistan").click()
    expect(page.locator("main table tbody tr").first).to_contain_text(f"försämring: {child} CORS")
    screenshot(page, "workflow-caseload-alert")

    # Correct the mistyped rating (it was 6,5 each, not 5): the deterioration alert goes away.
    page.goto(case_url)
    child_section = page.locator("section.participant").first
    child_section.get_by_role("link", name="Rätta CORS samtal 2").click()
    for n in range(1, 5):
        page.get_by_label(f"Del {n}", exact=True).fill("6,5")
    page.get_by_label("Skäl till rättelsen").select_option(label="felskrivning")
    screenshot(page, "workflow-correct-rating")
    page.get_by_role("button", name="Spara rättelsen").click()
    expect(page.get_by_role("status")).to_contain_text("Skattningen är rättad")
    expect(page.locator("section.alerts")).not_to_contain_text("försämring")
    expect(child_section).to_contain_text("(rättad)")

    # Close the case: the summary counts the sibling's recovery (ORS 20 -> 28).
    page.get_by_role("link", name="Avsluta ärendet").click()
    expect(page.locator(".closing__headline")).to_contain_text("1 av 3 förbättrade")
    page.get_by_label("enligt plan").check()
    page.get_by_label("ja", exact=True).check()
    screenshot(page, "workflow-close")
    page.get_by_role("button", name="Avsluta ärendet").click()
    expect(page.get_by_role("status")).to_contain_text("är avslutat")
    expect(page.locator(".closing__headline")).to_contain_text("1 av 3 förbättrade")
    expect(page.locator("main")).to_contain_text("enligt plan")
    assert sibling and mother
    screenshot(page, "workflow-case-closed")
