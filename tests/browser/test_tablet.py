"""Tablet mode in headless Chromium: marks made with a mouse, a finger and the keyboard.

The therapist hands the device over from the session form; the child marks the
four 10 cm lines; every other page leads back to the locked tablet screen until
the therapist's password; the marks are then in the session form. A second
context emulates a touch screen (has_touch) and drags with touch events.
"""
from datetime import date

import pytest

from tests import factories
from tests.browser import a11y
from tests.browser.support import launch_chromium, log_in, screenshot, serve
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

YEAR = date.today().year
CM_PX = 96 / 2.54  # CSS pixels in a centimetre


def build_family() -> dict:
    unit = factories.unit(factories.district("D1", "Förvaltning Norr"), "FAM", "Familjeenheten Norr")
    anna = factories.staff("anna", "therapist", [unit])
    episode = factories.episode(unit, anna, ref="FAM-2025-077", start_date=date(2025, 1, 13))
    child = factories.participant(episode, "index", birth_year=YEAR - 7, ref="P-7001")
    factories.participant(episode, "parent", birth_year=1986, ref="P-7002")
    factories.commit()
    return {"episode": episode.id, "child": child.id}


@pytest.fixture
def live_server(tmp_path):
    with serve(tmp_path / "tablet.sqlite", build_family) as served:
        yield served


def log_in_as_anna(page, base_url: str) -> None:
    from playwright.sync_api import expect

    log_in(page, base_url, "anna")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mina ärenden")


def hand_over(page, base_url: str, ids: dict, option_label: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{base_url}/cases/{ids['episode']}/sessions/new")
    page.get_by_label("Vem fyller i vilken skala").select_option(label=option_label)
    page.get_by_role("button", name="Lämna över enheten").click()
    expect(page).to_have_url(base_url + "/tablet")


def line_point(line, fraction: float) -> tuple[float, float]:
    box = line.bounding_box()
    return box["x"] + box["width"] * fraction, box["y"] + box["height"] / 2


def drag_with_mouse(page, line, start: float, end: float) -> None:
    """Press on the line at ``start`` (0–1 of its length), drag to ``end``, release."""
    page.mouse.move(*line_point(line, start))
    page.mouse.down()
    for step in range(1, 6):  # several pointermove events, as a real hand makes
        page.mouse.move(*line_point(line, start + (end - start) * step / 5))
    page.mouse.up()


def test_the_family_marks_the_lines_and_the_therapist_takes_the_device_back(live_server, page):
    from playwright.sync_api import expect

    base_url, ids = live_server
    a11y.enable_axe(page)
    log_in_as_anna(page, base_url)
    hand_over(page, base_url, ids, "P-7001 (barn/ung): utfall, före samtalet")

    # Only the scale: four lines, the question, no site header, nothing about the case.
    expect(page.get_by_role("heading", level=1)).to_have_text("Hur har du haft det på sistone?")
    lines = page.get_by_role("slider")
    expect(lines).to_have_count(4)
    expect(page.locator("body")).not_to_contain_text("P-7001")
    expect(page.locator("body")).not_to_contain_text("FAM-2025-077")
    expect(page.locator("body")).not_to_contain_text("anna")
    expect(page.get_by_role("link")).to_have_count(0)
    width = lines.first.evaluate("e => e.getBoundingClientRect().width")
    assert abs(width - 10 * CM_PX) < 0.5, width  # a 10 cm line
    screenshot(page, "tablet-scale")
    a11y.check(page, "tablet-scale")

    # Mouse: press, drag, release; the value is where the pointer was released.
    drag_with_mouse(page, lines.nth(0), 0.2, 0.753)
    drag_with_mouse(page, lines.nth(1), 0.9, 0.301)
    drag_with_mouse(page, lines.nth(2), 0.5, 1.2)     # released past the end: 10
    drag_with_mouse(page, lines.nth(3), 0.5, 0.044)
    for n, value in enumerate(["7,5", "3,0", "10,0", "0,4"], start=1):
        expect(page.locator(f"#item-{n}-value")).to_have_text(value)
    expect(lines.nth(0)).to_have_attribute("aria-valuenow", "7.5")
    # Keyboard: Page Down is 1.0, arrows 0.1.
    lines.nth(3).focus()
    page.keyboard.press("End")
    page.keyboard.press("PageDown")
    for _ in range(3):
        page.keyboard.press("ArrowLeft")
    expect(page.locator("#item-4-value")).to_have_text("8,7")
    expect(lines.nth(3)).to_have_attribute("aria-valuetext", "8,7")
    screenshot(page, "tablet-marked")
    page.get_by_role("button", name="Klar").click()

    # The device is locked: the case list leads back to the give-back screen.
    expect(page.get_by_role("heading", level=1)).to_have_text("Tack!")
    screenshot(page, "tablet-give-back")
    a11y.check(page, "tablet-give-back")
    page.goto(base_url + "/")
    expect(page).to_have_url(base_url + "/tablet")
    page.goto(f"{base_url}/cases/{ids['episode']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tack!")
    page.get_by_label("Ditt lösenord, för att ta tillbaka enheten").fill("a guess")
    page.get_by_role("button", name="Lås upp").click()
    expect(page.get_by_role("alert")).to_have_text("Fel lösenord. Enheten förblir låst.")
    page.get_by_label("Ditt lösenord, för att ta tillbaka enheten").fill(PASSWORD)
    page.get_by_role("button", name="Lås upp").click()

    # Back in the session form, with the child's marks in the child's outcome row.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Registrera samtal")
    child = ids["child"]
    for n, value in enumerate(["7,5", "3,0", "10,0", "8,7"], start=1):
        expect(page.locator(f"#outcome-{child}-{n}")).to_have_value(value)
    expect(page.locator(f"#outcome-{child}-instrument")).to_have_value("CORS")
    expect(page.locator(f"[data-total-for='outcome-{child}']")).to_have_text("29,2")
    screenshot(page, "tablet-back-in-the-form")


def test_a_finger_on_a_touch_screen(live_server):
    from playwright.sync_api import expect, sync_playwright

    base_url, ids = live_server
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context(viewport={"width": 820, "height": 1180}, device_scale_factor=2,
                                      has_touch=True, is_mobile=True, locale="sv-SE")
        try:
            page = context.new_page()
            log_in_as_anna(page, base_url)
            hand_over(page, base_url, ids, "P-7001 (barn/ung): allians, efter samtalet")
            expect(page.get_by_role("heading", level=1)).to_have_text("Hur var dagens samtal?")
            lines = page.get_by_role("slider")
            # A tap sets the value where the finger touched.
            page.touchscreen.tap(*line_point(lines.nth(0), 0.62))
            expect(page.locator("#item-1-value")).to_have_text("6,2")
            # A drag with the finger (touch events, which Chromium turns into pointer events).
            cdp = context.new_cdp_session(page)
            for n, (start, end) in enumerate([(0.1, 0.912), (0.8, 0.5), (0.3, 0.999)], start=2):
                x0, y = line_point(lines.nth(n - 1), start)
                x1, _y = line_point(lines.nth(n - 1), end)
                cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y}]})
                for step in range(1, 6):
                    x = x0 + (x1 - x0) * step / 5
                    cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
                cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
            for n, value in enumerate(["6,2", "9,1", "5,0", "10,0"], start=1):
                expect(page.locator(f"#item-{n}-value")).to_have_text(value)
            screenshot(page, "tablet-touch")
            page.get_by_role("button", name="Klar").click()
            page.get_by_label("Ditt lösenord, för att ta tillbaka enheten").fill(PASSWORD)
            page.get_by_role("button", name="Lås upp").click()
            for n, value in enumerate(["6,2", "9,1", "5,0", "10,0"], start=1):
                expect(page.locator(f"#alliance-{ids['child']}-{n}")).to_have_value(value)
        finally:
            context.close()
            browser.close()
