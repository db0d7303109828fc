"""Logging in and out: argon2 passwords, one generic error, new session, safe redirects."""
import pytest
from sqlalchemy import select

from fitapp.auth.redirects import safe_local_path
from fitapp.extensions import db
from fitapp.models import AuditEvent
from tests import factories
from tests.factories import PASSWORD

GENERIC_ERROR = "Fel användarnamn eller lösenord"


def log_in(client, username, password=PASSWORD, next_url=None):
    url = "/login" if next_url is None else "/login?next=" + next_url
    return client.post(url, data={"username": username, "password": password})


def actions():
    return [(e.action, e.actor_name) for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_login_page_is_a_form_in_swedish(client):
    page = client.get("/login")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="sv">' in html
    assert "<h1>Logga in</h1>" in html
    assert 'autocomplete="current-password"' in html and 'type="password"' in html


def test_login_with_the_right_password_opens_the_caseload_and_is_audited(client, org):
    response = log_in(client, "anna")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Mina ärenden" in client.get("/").get_data(as_text=True)
    assert actions() == [("login", "anna")]


@pytest.mark.parametrize("username, password", [
    ("anna", "wrong password!"),
    ("nobody", PASSWORD),
    ("anna", ""),
    ("", ""),
])
def test_every_failure_gives_the_same_generic_message(client, org, username, password):
    response = log_in(client, username, password)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count(GENERIC_ERROR) == 1
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("account", ["disabled", "no_password"])
def test_disabled_accounts_and_accounts_without_password_cannot_log_in(client, org, account):
    if account == "disabled":
        factories.staff("dora", units=[org["units"]["A"]], enabled=False)
    else:
        factories.staff("dora", units=[org["units"]["A"]], with_password=False)
    factories.commit()
    response = log_in(client, "dora", PASSWORD)
    assert GENERIC_ERROR in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert [a for a, _ in actions()] == ["login_failed"]


def test_failed_logins_are_audited_without_the_typed_name(client, org):
    log_in(client, "anna", "wrong password!")
    log_in(client, "somebody-typed-this", "x")
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["login_failed", "login_failed"]
    assert events[0].object_id == str(org["anna"].id)
    assert events[1].object_id is None
    assert all(e.actor_name is None for e in events)


def test_login_starts_a_new_session_but_keeps_the_language(client, org):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
        session["lang"] = "en"
    log_in(client, "anna")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["lang"] == "en"
        assert session["_user_id"] == str(org["anna"].id)


def test_logout_is_post_only_and_ends_the_session(client, org):
    log_in(client, "anna")
    client.post("/language", data={"lang": "en"})
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200
    response = client.post("/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    with client.session_transaction() as session:
        assert set(session) == {"lang"}  # only the language choice survives
    assert client.get("/").status_code == 302
    assert actions() == [("login", "anna"), ("logout", "anna")]


def test_next_is_followed_when_it_is_a_path_on_this_site(client, org):
    response = log_in(client, "anna", next_url="/cases/12%3Ftab%3D1")
    assert response.headers["Location"] == "/cases/12?tab=1"


@pytest.mark.parametrize("target", [
    "http://evil.example/cases/1", "https://localhost.evil.example/", "//evil.example/x", "/\\evil.example",
    "javascript:alert(1)", "cases/1",
])
def test_next_to_another_site_is_ignored(client, org, target):
    from urllib.parse import quote

    response = log_in(client, "anna", next_url=quote(target, safe=""))
    assert response.headers["Location"] == "/"


def test_anonymous_visitors_are_sent_to_login_with_the_page_as_next(client):
    response = client.get("/cases/7")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Fcases%2F7"


def test_a_logged_in_user_on_the_login_page_goes_to_the_caseload(client, org):
    log_in(client, "anna")
    response = client.get("/login")
    assert response.status_code == 302 and response.headers["Location"] == "/"


@pytest.mark.parametrize("target, expected", [
    ("/", "/"),
    ("/cases/3?x=1", "/cases/3?x=1"),
    ("", None),
    (None, None),
    ("//evil.example", None),
    ("/\\evil.example", None),
    ("https://evil.example/", None),
    ("relative/path", None),
    ("/ok\nLocation: x", None),
])
def test_safe_local_path(target, expected):
    assert safe_local_path(target) == expected
