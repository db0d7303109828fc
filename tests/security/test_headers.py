"""ASVS 5.0 V3/V14: headers on every response, no caching of pages with person-level data, cookies."""
import pytest

from fitapp import create_app
from fitapp.config import ConfigError, load_config
from tests.security.conftest import app_rules, rule_path, sign_in


def test_csp_allows_no_inline_script_and_no_framing(client):
    csp = client.get("/login").headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp


@pytest.mark.parametrize("who", ["anna", "chef_a", "kvalitet", "admin"])
def test_every_page_of_a_logged_in_user_is_not_cached(app, client, org, case, who):
    sign_in(client, org[who])
    cached = []
    for rule in app_rules(app):
        if "GET" in rule.methods:
            response = client.get(rule_path(rule, case))
            headers = response.headers
            if headers.get("Cache-Control") != "no-store" or headers.get("X-Content-Type-Options") != "nosniff":
                cached.append((rule.rule, response.status_code, headers.get("Cache-Control")))
    assert cached == []


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def _seen_by(proxies, peer: str, headers: dict) -> tuple[str, bool]:
    """(client address, HTTPS?) as the app behind fitapp's proxy handling sees a request from ``peer``."""
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    from fitapp.security import TrustedProxies

    seen = {}

    def inner(environ, start_response):
        request = Request(environ)
        seen["address"], seen["secure"] = request.remote_addr, request.is_secure
        start_response("204 No Content", [])
        return []

    environ = EnvironBuilder(headers=headers, environ_base={"REMOTE_ADDR": peer}).get_environ()
    TrustedProxies(inner, proxies)(environ, lambda *args: None)
    return seen["address"], seen["secure"]


def _with_schema(app):
    # The login page starts a (server-side) session: the app needs its tables.
    from fitapp.extensions import db

    with app.app_context():
        db.create_all()
    return app


def test_behind_a_proxy_the_forwarded_scheme_and_address_count_when_configured(tmp_path):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.7"}
    trusting = _with_schema(create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                                        "TRUSTED_PROXIES": ("127.0.0.1",)}))
    ignoring = _with_schema(create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"}))
    assert "Strict-Transport-Security" in trusting.test_client().get("/login", headers=forwarded).headers
    assert "Strict-Transport-Security" not in ignoring.test_client().get("/login", headers=forwarded).headers


def test_forwarded_headers_count_only_from_a_trusted_proxy():
    forged = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    assert _seen_by((), "198.51.100.4", forged) == ("198.51.100.4", False)  # no proxy configured
    assert _seen_by(("10.1.0.0/16",), "198.51.100.4", forged) == ("198.51.100.4", False)  # past the proxy
    assert _seen_by(("10.1.0.0/16",), "10.1.2.3", forged) == ("203.0.113.9", True)
    assert _seen_by(("10.1.0.0/16",), "10.1.2.3", {}) == ("10.1.2.3", False)
    # Through two trusted proxies: the first untrusted address from the right; a client's own
    # X-Forwarded-For entries further left are ignored.
    chain = {"X-Forwarded-For": "6.6.6.6, 203.0.113.9, 10.1.0.5", "X-Forwarded-Proto": "https"}
    assert _seen_by(("10.1.0.0/16",), "10.1.2.3", chain) == ("203.0.113.9", True)


def test_proxy_settings_are_checked_and_the_old_count_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("FITAPP_ENV", "development")
    monkeypatch.setenv("FITAPP_TRUSTED_PROXIES", "127.0.0.1, 10.1.0.0/16 ::1")
    assert load_config(str(tmp_path))["TRUSTED_PROXIES"] == ("127.0.0.1/32", "10.1.0.0/16", "::1/128")
    monkeypatch.setenv("FITAPP_TRUSTED_PROXIES", "proxy.example")
    with pytest.raises(ConfigError, match="FITAPP_TRUSTED_PROXIES: 'proxy.example' is not an IP address"):
        load_config(str(tmp_path))
    monkeypatch.delenv("FITAPP_TRUSTED_PROXIES")
    monkeypatch.setenv("FITAPP_PROXY_FIX", "0")
    assert load_config(str(tmp_path))["TRUSTED_PROXIES"] == ()
    monkeypatch.setenv("FITAPP_PROXY_FIX", "1")
    with pytest.raises(ConfigError, match="FITAPP_PROXY_FIX is no longer read: set FITAPP_TRUSTED_PROXIES"):
        load_config(str(tmp_path))


def test_production_cookies_are_secure_httponly_samesite(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "a-long-random-secret-for-this-test")
    monkeypatch.delenv("FITAPP_ENV", raising=False)
    config = load_config(str(tmp_path))
    assert config["SESSION_COOKIE_SECURE"] and config["SESSION_COOKIE_HTTPONLY"]
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert config["IDLE_TIMEOUT_MINUTES"] == 30 and config["ABSOLUTE_TIMEOUT_HOURS"] == 10


def test_timeouts_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("FITAPP_ENV", "development")
    monkeypatch.setenv("FITAPP_IDLE_TIMEOUT_MINUTES", "15")
    assert load_config(str(tmp_path))["IDLE_TIMEOUT_MINUTES"] == 15
    monkeypatch.setenv("FITAPP_IDLE_TIMEOUT_MINUTES", "0")
    with pytest.raises(Exception, match="at least 1"):
        load_config(str(tmp_path))


def test_the_session_cookie_is_httponly_and_samesite(client, org):
    response = client.post("/login", data={"username": "anna", "password": "correct horse battery"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
