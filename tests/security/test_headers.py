"""ASVS 5.0 V3/V14: headers on every response, no caching of pages with person-level data, cookies."""
import pytest

from fitapp import create_app
from fitapp.config import load_config
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


def test_behind_a_proxy_the_forwarded_scheme_and_address_count_when_configured(tmp_path):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.7"}
    trusting = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://", "PROXY_FIX_COUNT": 1})
    ignoring = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert "Strict-Transport-Security" in trusting.test_client().get("/login", headers=forwarded).headers
    assert "Strict-Transport-Security" not in ignoring.test_client().get("/login", headers=forwarded).headers


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
