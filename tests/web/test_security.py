"""Secure defaults: CSRF on every form, security headers, and no inline script or style."""
import re

from tests import factories
from tests.factories import PASSWORD
from tests.web.conftest import sign_in


def csrf_token_of(html: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def test_a_post_without_csrf_token_is_refused(app, client, org):
    app.config["WTF_CSRF_ENABLED"] = True
    refused = client.post("/login", data={"username": "anna", "password": PASSWORD})
    assert refused.status_code == 400
    assert client.get("/").status_code == 302  # not logged in

    token = csrf_token_of(client.get("/login").get_data(as_text=True))
    accepted = client.post("/login", data={"username": "anna", "password": PASSWORD, "csrf_token": token})
    assert accepted.status_code == 302 and accepted.headers["Location"] == "/"

    assert client.post("/logout").status_code == 400
    assert client.post("/language", data={"lang": "en"}).status_code == 400
    assert client.get("/").status_code == 200  # still logged in


def test_security_headers_on_every_page(client, org):
    for response in (client.get("/login"), client.get("/no-such-page")):
        headers = response.headers
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "style-src 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "no-referrer"


def test_pages_need_no_inline_script_or_style(client, org):
    episode = factories.episode(org["units"]["A"], org["anna"])
    child = factories.participant(episode, "index", birth_year=2014)
    factories.series(episode, child, "CORS", ["20.0", "24.0"])
    factories.commit()
    sign_in(client, org["anna"])
    for url in ("/", f"/cases/{episode.id}", "/cases/999999"):
        html = client.get(url).get_data(as_text=True)
        assert "<script" not in html
        assert not re.search(r"\sstyle=", html)
        assert "<style" not in html


def test_error_pages_use_the_site_layout(client, org):
    sign_in(client, org["kvalitet"])
    forbidden = client.get("/cases/1")
    assert forbidden.status_code == 403
    assert "<h1>Åtkomst nekad</h1>" in forbidden.get_data(as_text=True)
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "<h1>Sidan finns inte</h1>" in missing.get_data(as_text=True)
