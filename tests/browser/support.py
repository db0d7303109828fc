"""Browser-test helpers: the app in a werkzeug thread on a migrated
temporary SQLite database (CSRF on, as in production), Debian's Chromium driven
by Playwright, log-in through the form, and screenshots for a reviewer in
test-artifacts/screenshots/.
"""
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.factories import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@contextmanager
def serve(database: Path, build: Callable[[], object]) -> Iterator[tuple[str, object]]:
    """Migrate a fresh SQLite file, fill it with ``build()`` and serve the app; yields (base URL, build's result)."""
    from flask_migrate import upgrade

    from fitapp import create_app
    from fitapp.extensions import db

    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}"})
    with app.app_context():
        upgrade()
        built = build()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", built
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


def launch_chromium(playwright):
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (scripts/apt-install does it)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def log_in(page, base_url: str, username: str) -> None:
    """Fill the Swedish login form with the factories' password and submit it."""
    page.goto(base_url + "/login")
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def log_in_with_code(page, base_url: str, username: str) -> None:
    """Log in with the password and then the second factor (admin and quality accounts have TOTP_SECRET).

    A code is accepted once per account and 30-second step (replays are refused),
    so a test logs such an account in once and keeps that browser context.
    """
    import time

    from fitapp.auth.totp import code_at
    from tests.factories import TOTP_SECRET

    log_in(page, base_url, username)
    page.locator("input[name=code]").fill(code_at(TOTP_SECRET, time.time()))
    page.get_by_role("button", name="Logga in").click()


@contextmanager
def chromium_browser() -> Iterator[object]:
    """One Chromium for a whole test module (module-scoped fixtures): contexts are cheap, launches are not."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser, *, axe: bool = True):
    """A page in a fresh context (its own cookies: one user), Swedish, with axe loaded in every page."""
    from tests.browser import a11y

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="sv-SE")
    page = context.new_page()
    if axe:
        a11y.enable_axe(page)
    return page
