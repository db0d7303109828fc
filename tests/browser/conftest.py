"""The Chromium page fixture for every browser test (helpers are in support.py)."""
import pytest

from tests.browser.support import launch_chromium


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="sv-SE")
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()
