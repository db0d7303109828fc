"""The therapist's workflow end to end in headless Chromium, from the keyboard.

A therapist logs in, opens a case for a family of three, logs four sessions
(three with the keyboard fast path, one where the child marks the lines in
tablet mode with the mouse), sees a deterioration alert, corrects the rating
that caused it, and closes the case; a therapist of another unit is then
refused every page of that case. axe-core checks each main page on the way
(tests/browser/a11y.py). CSRF protection is on, as in production.

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
from datetime import date

import pytest

from tests import factories
from tests.browser import a11y
from tests.browser.support import log_in, screenshot, serve
from tests.browser.test_tablet import drag_with_mouse
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

KEY_BUDGET = 40  # Tab presses and other non-typing keys for one session of a family of three
YEAR = date.today().year


def build_two_units() -> None:
    unit = factories.unit(factories.district("D1", "Förvaltning Norr"), "FAM", "Familjeenheten Norr")
    factories.staff("anna", "therapist", [unit])
    other_unit = factories.unit(factories.district("D2", "Förvaltning Söder"), "SYD", "Familjeenheten Söder")
    factories.staff("bert", "therapist", [other_unit])
    factories.commit()


@pytest.fixture
def live_server(tmp_path):
    with serve(tmp_path / "workflow.sqlite", build_two_units) as (base_url, _):
        yield base_url


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


def test_open_log_alert_correct_close(live_server, page):
    from playwright.sync_api import expect

    base_url = live_server
    a11y.enable_axe(page)
    page.goto(base_url + "/login")
    a11y.check(page, "login")
    log_in(page, base_url, "anna")
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
    a11y.check(page, "open-case")
    page.get_by_role("button", name="Öppna ärendet").click()
    expect(page.get_by_role("status")).to_contain_text("är öppnat")
    case_url = page.url
    child, sibling, mother = [page.locator("section.participant h2").nth(i).inner_text().split()[0] for i in range(3)]

    # Session 1 from the keyboard: everyone fine, good alliance.
    page.get_by_role("link", name="Registrera samtal").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Registrera samtal")
    session_url = page.url
    keyboard = Keyboard(page)
    first = [(["7,5", "7,5", "7,5", "7,5"], ["9", "9", "9", "9"]),
             (["5", "5", "5", "5"], ["9,5", "9,5", "9,5", "9,5"]),
             (["6", "6", "6", "6"], ["10", "10", "10", "9"])]
    log_session(page, keyboard, first)
    totals = page.locator(".item__total")
    expect(totals.nth(0)).to_have_text("30,0")  # live total of the child's CORS, computed in the browser
    expect(totals.nth(5)).to_have_text("39,0")
    screenshot(page, "workflow-session-form")
    a11y.check(page, "session-form")
    keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Samtal 1 är sparat.")
    assert keyboard.presses <= KEY_BUDGET + 1, keyboard.presses
    first_session_presses = keyboard.presses

    # Session 2 from the keyboard: the sibling is much better (ORS 20 -> 28).
    page.get_by_role("link", name="Registrera samtal").click()
    keyboard = Keyboard(page)
    log_session(page, keyboard, [(["7,5", "7,5", "8", "8"], ["9", "9", "9", "9,5"]),
                                 (["7", "7", "7", "7"], ["9,5", "9,5", "9,5", "9,5"]),
                                 (["6,5", "6,5", "6,5", "6,5"], ["10", "10", "10", "9"])])
    keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Samtal 2 är sparat.")
    assert keyboard.presses == first_session_presses == 33  # 32 Tabs + Enter, within the budget of 40 + 1

    # Session 3: the child marks the outcome lines in tablet mode with the mouse; the rest is typed.
    page.get_by_role("link", name="Registrera samtal").click()
    page.get_by_label("Vem fyller i vilken skala").select_option(label=f"{child} (barn/ung): utfall, före samtalet")
    page.get_by_role("button", name="Lämna över enheten").click()
    expect(page).to_have_url(base_url + "/tablet")
    lines = page.get_by_role("slider")
    for n, at in enumerate([0.803, 0.803, 0.803, 0.852]):
        drag_with_mouse(page, lines.nth(n), 0.5, at)
    expect(page.locator("#item-4-value")).to_have_text("8,5")
    page.get_by_role("button", name="Klar").click()
    page.goto(case_url)  # the family tries the case page: still locked
    expect(page).to_have_url(base_url + "/tablet")
    page.get_by_label("Ditt lösenord, för att ta tillbaka enheten").fill(PASSWORD)
    page.get_by_role("button", name="Lås upp").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Registrera samtal")
    expect(totals.nth(0)).to_have_text("32,5")
    for person, (outcome, alliance) in zip(page.locator("fieldset.person").all()[:3],
                                           [(None, "9"), ("7", "9,5"), ("6,5", "9,5")]):
        for n in range(4):
            if outcome is not None:
                person.locator("input.item__input").nth(n).fill(outcome)
            person.locator("input.item__input").nth(4 + n).fill(alliance)
    page.get_by_role("button", name="Spara samtalet").click()
    expect(page.get_by_role("status")).to_contain_text("Samtal 3 är sparat.")

    # Session 4 from the keyboard: the child's outcome mistyped (5 instead of 8,5): deterioration.
    page.get_by_role("link", name="Registrera samtal").click()
    keyboard = Keyboard(page)
    log_session(page, keyboard, [(["5", "5", "5", "5"], ["8", "8", "8", "8"]),
                                 (["7", "7", "7", "8"], ["9,5", "9,5", "9,5", "9,5"]),
                                 (["6,5", "6,5", "6,5", "6,5"], ["10", "10", "10", "9"])])
    keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Samtal 4 är sparat.")
    assert keyboard.presses == first_session_presses
    alerts = page.locator("section.alerts")
    expect(alerts).to_contain_text(f"försämring: {child} (barn/ung, född 2016), CORS")
    expect(alerts).to_contain_text(f"allians under 36: {child} (barn/ung, född 2016), CSRS")
    screenshot(page, "workflow-case-with-alert")
    a11y.check(page, "case-page")
    page.get_by_role("link", name="Tillbaka till ärendelistan").click()
    expect(page.locator("main table tbody tr").first).to_contain_text(f"försämring: {child} (barn/ung, född 2016), CORS")
    screenshot(page, "workflow-caseload-alert")
    a11y.check(page, "caseload")

    # Correct the mistyped rating (it was 8,5 each, not 5): the deterioration alert goes away.
    page.goto(case_url)
    child_section = page.locator("section.participant").first
    expect(child_section.locator("table").first).to_contain_text("32,5")  # the tablet session's total
    child_section.get_by_role("link", name="Rätta CORS samtal 4").click()
    correct_url = page.url
    for n in range(1, 5):
        page.get_by_label(f"Del {n}", exact=True).fill("8,5")
    page.get_by_label("Skäl till rättelsen").select_option(label="felskrivning")
    screenshot(page, "workflow-correct-rating")
    a11y.check(page, "correct-rating")
    page.get_by_role("button", name="Spara rättelsen").click()
    expect(page.get_by_role("status")).to_contain_text("Skattningen är rättad")
    expect(page.locator("section.alerts")).not_to_contain_text("försämring")
    expect(child_section).to_contain_text("(rättad)")
    other_urls = [page.get_by_role("link", name=name, exact=True).first.get_attribute("href")
                  for name in ("Ta bort CORS samtal 4", "Rätta datum samtal 4", "Ta bort samtal 4")]

    # Close the case: the summary counts the sibling's recovery (ORS 20 -> 29).
    page.get_by_role("link", name="Avsluta ärendet").click()
    close_url = page.url
    expect(page.locator(".closing__headline")).to_contain_text("1 av 3 förbättrade")
    page.get_by_label("enligt plan").check()
    page.get_by_label("ja", exact=True).check()
    screenshot(page, "workflow-close")
    a11y.check(page, "close")
    page.get_by_role("button", name="Avsluta ärendet").click()
    expect(page.get_by_role("status")).to_contain_text("är avslutat")
    expect(page.locator(".closing__headline")).to_contain_text("1 av 3 förbättrade")
    expect(page.locator("main")).to_contain_text("enligt plan")
    assert sibling and mother
    screenshot(page, "workflow-case-closed")

    # A therapist of another unit is refused every page of the case (404: it is not revealed).
    page.get_by_role("button", name="Logga ut").click()
    log_in(page, base_url, "bert")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mina ärenden")
    expect(page.locator("main")).not_to_contain_text(child)
    episode_path = case_url.removeprefix(base_url)
    refused = [case_url, session_url, correct_url, close_url, base_url + episode_path + "/reassign"]
    refused += [base_url + path for path in other_urls]
    assert len(set(refused)) == 8 and all(refused)
    for url in refused:
        response = page.goto(url)
        assert response.status in (403, 404), (url, response.status)
        expect(page.locator("main")).not_to_contain_text(child)
    screenshot(page, "workflow-other-unit-refused")
    a11y.check(page, "not-found")
