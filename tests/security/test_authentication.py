"""ASVS 5.0 V6 (authentication) and V7 (sessions): password policy, throttling, second factor,
timeouts, and ending every session of an account at once."""
import time

import pytest
from sqlalchemy import func, select

from fitapp.auth import sessions
from fitapp.auth.password_policy import (
    COMMON, CONTAINS_USERNAME, MIN_LENGTH, TOO_SHORT, common_passwords, password_problems,
)
from fitapp.auth.passwords import verify_password
from fitapp.auth.totp import code_at
from fitapp.extensions import db
from fitapp.models import AuditEvent, Staff
from fitapp.staff_service import StaffError, create_staff, disable_staff
from tests import factories
from tests.factories import PASSWORD, TOTP_SECRET
from tests.security.conftest import sign_in

GENERIC_ERROR = "Fel användarnamn eller lösenord"
NEW_PASSWORD = "blå cykel under äppelträdet"


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def log_in(client, username, password=PASSWORD, ip="10.0.0.1"):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


# ---------------------------------------------------------------- password policy


@pytest.mark.parametrize("password", [
    "sommar2024!!", "Lösenord1234", "LÖSENORD123!", "password1234", "Password123456", "qwertyuiop12",
    "123456789012", "1qaz2wsx3edc", "Stockholm2025", "fotboll12345", "aaaaaaaaaaaa",
])
def test_common_passwords_are_refused_whatever_their_case(password):
    assert COMMON in password_problems(password, "anna")


@pytest.mark.parametrize("password, problem", [
    ("kort lösen", TOO_SHORT),
    ("x" * (MIN_LENGTH - 1), TOO_SHORT),
    ("anna.berg är bäst i stan", CONTAINS_USERNAME),
    ("ANNA.BERG är bäst i stan", CONTAINS_USERNAME),
])
def test_short_passwords_and_the_username_are_refused(password, problem):
    assert problem in password_problems(password, "anna.berg")


@pytest.mark.parametrize("password", [PASSWORD, NEW_PASSWORD, "Tr0ub4dor&3-häst-batteri"])
def test_good_passwords_pass(password):
    assert password_problems(password, "anna.berg") == []


def test_the_shipped_list_is_substantial_and_normalised():
    listed = common_passwords()
    assert len(listed) > 3000
    assert all(p == p.casefold() for p in listed)
    assert {"lösenord123", "sommar2024", "qwertyuiop", "password"} <= listed


def test_create_staff_applies_the_policy(app):
    with pytest.raises(StaffError, match="too common"):
        create_staff("nils", role="therapist", unit_codes=[], password="lösenord12345")
    with pytest.raises(StaffError, match="login name"):
        create_staff("nilsson", role="therapist", unit_codes=[], password="nilsson har en blå bil")


def test_upgrade_creates_no_account(tmp_path):
    """No default accounts: an upgraded empty database has no staff (only the demo command makes logins)."""
    from flask_migrate import upgrade

    from fitapp import create_app

    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path / "new.sqlite")})
    with app.app_context():
        upgrade()
        assert db.session.scalar(select(func.count()).select_from(Staff)) == 0
        db.session.remove()
        db.engine.dispose()


# ---------------------------------------------------------------- throttling


# The attacks on the throttle itself are in test_login_throttling.py.


def test_successful_logins_do_not_count_and_start_the_pair_afresh(client, org):
    for _ in range(12):
        assert log_in(client, "anna").status_code == 302
        client.post("/logout")
    for _ in range(2):
        for _ in range(4):  # one short of the first delay
            assert log_in(client, "anna", "wrong password!").status_code == 200
        assert log_in(client, "anna").status_code == 302
        client.post("/logout")


def test_throttling_can_be_switched_off(app, backend, migrated_urls, org):
    from fitapp import create_app

    quiet = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": migrated_urls(backend),
                        "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    client = quiet.test_client()
    statuses = {log_in(client, "anna", "wrong password!").status_code for _ in range(12)}
    assert statuses == {200}
    with quiet.app_context():
        db.engine.dispose()


# ---------------------------------------------------------------- sessions


def test_login_stores_the_session_version_and_timestamps(client, org):
    log_in(client, "anna")
    with client.session_transaction() as session:
        assert session[sessions.VERSION] == 0
        assert abs(session[sessions.STARTED] - time.time()) < 60
        assert session[sessions.LAST_SEEN] == session[sessions.STARTED]


def test_logout_ends_every_session_of_the_account(app, client, org):
    desk, tablet, other = client, app.test_client(), app.test_client()
    log_in(desk, "anna")
    log_in(tablet, "anna")
    log_in(other, "bert", ip="10.0.0.9")
    desk.post("/logout")
    assert tablet.get("/").status_code == 302
    assert other.get("/").status_code == 200
    assert "session_revoked" in actions()


def test_a_disabled_account_loses_its_sessions_at_once(client, org):
    sign_in(client, org["anna"])
    assert client.get("/").status_code == 200
    disable_staff(org["anna"])
    assert client.get("/").status_code == 302
    assert log_in(client, "anna").status_code == 200  # and cannot log in again


def test_disabling_without_the_service_also_locks_out(client, org):
    sign_in(client, org["anna"])
    org["anna"].is_enabled = False
    factories.commit()
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("key, age, action", [
    (sessions.LAST_SEEN, 31 * 60, "session_idle"),
    (sessions.STARTED, 10 * 3600 + 1, "session_expired"),
])
def test_idle_and_absolute_timeouts_end_the_session(client, org, key, age, action):
    sign_in(client, org["anna"])
    with client.session_transaction() as session:
        session[key] = int(time.time()) - age
    response = client.get("/cases/1")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert client.get("/").status_code == 302
    assert actions() == [action]


def test_activity_keeps_the_session_alive_and_the_idle_limit_is_a_setting(app, client, org):
    sign_in(client, org["anna"])
    with client.session_transaction() as session:
        session[sessions.LAST_SEEN] = int(time.time()) - 29 * 60
    assert client.get("/").status_code == 200
    with client.session_transaction() as session:
        assert time.time() - session[sessions.LAST_SEEN] < 60
        session[sessions.LAST_SEEN] = int(time.time()) - 6 * 60
    app.config["IDLE_TIMEOUT_MINUTES"] = 5
    assert client.get("/").status_code == 302


def test_a_session_without_timestamps_is_not_accepted(client, org):
    with client.session_transaction() as session:
        session["_user_id"] = str(org["anna"].id)
    assert client.get("/").status_code == 302


# ---------------------------------------------------------------- password change


def change(client, current=PASSWORD, new=NEW_PASSWORD, confirm=None):
    return client.post("/account/password", data={
        "current_password": current, "new_password": new, "confirm": new if confirm is None else confirm})


def test_password_change_ends_other_sessions_and_keeps_this_one(app, client, org):
    other = app.test_client()
    log_in(client, "anna")
    log_in(other, "anna")
    assert client.get("/account/password").status_code == 200
    response = change(client)
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 302
    db.session.expire_all()
    assert verify_password(db.session.get(Staff, org["anna"].id).password_hash, NEW_PASSWORD)
    assert "change_password" in actions()
    client.post("/logout")
    assert log_in(client, "anna").status_code == 200
    assert log_in(client, "anna", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize("kwargs, message", [
    ({"current": "wrong password!"}, "Det nuvarande lösenordet är fel."),
    ({"new": "lösenord12345"}, "Lösenordet är för vanligt"),
    ({"new": "kort"}, "minst 12 tecken"),
    ({"new": "anna har en blå bil"}, "får inte innehålla ditt användarnamn"),
    ({"confirm": "something else entirely"}, "De nya lösenorden är inte lika."),
])
def test_password_change_refusals(client, org, kwargs, message):
    sign_in(client, org["anna"])
    response = change(client, **kwargs)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert verify_password(db.session.get(Staff, org["anna"].id).password_hash, PASSWORD)
    assert client.get("/").status_code == 200


def test_a_wrong_current_password_is_audited(client, org):
    sign_in(client, org["anna"])
    change(client, current="wrong password!")
    assert actions() == ["change_password_failed"]


# ---------------------------------------------------------------- second factor


def test_login_with_the_second_factor(client, org):
    response = log_in(client, "kvalitet")
    assert response.status_code == 302 and response.headers["Location"] == "/login/code"
    assert client.get("/").status_code == 302  # not logged in yet
    assert client.get("/login/code").status_code == 200
    response = client.post("/login/code", data={"code": code_at(TOTP_SECRET, time.time())})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    assert actions() == ["login"]


def test_a_wrong_or_replayed_code_is_refused_and_audited(app, client, org):
    code = code_at(TOTP_SECRET, time.time())
    log_in(client, "kvalitet")
    assert client.post("/login/code", data={"code": "000000" if code != "000000" else "111111"}).status_code == 422
    assert client.post("/login/code", data={"code": code}).status_code == 302
    replay = app.test_client()
    log_in(replay, "kvalitet")
    assert replay.post("/login/code", data={"code": code}).status_code == 422
    assert replay.get("/").status_code == 302
    assert actions() == ["login_failed_code", "login", "login_failed_code"]


def test_the_code_step_needs_the_password_step_first(client, org):
    assert client.get("/login/code").headers["Location"] == "/login"
    assert client.post("/login/code", data={"code": code_at(TOTP_SECRET, time.time())}).status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("role", ["admin", "quality"])
def test_admin_and_quality_must_enrol_before_anything_else(client, org, role):
    factories.staff("ny", role, [org["units"]["A"]], totp_secret=None)
    factories.commit()
    assert log_in(client, "ny").headers["Location"] == "/"
    for path in ("/", "/cases/1", "/account/password"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/account/two-factor", path
    page = client.get("/account/two-factor")
    assert page.status_code == 200 and 'src="data:image/svg+xml' in page.get_data(as_text=True)
    with client.session_transaction() as session:
        secret = session["_fitapp_totp_pending"]
    assert "otpauth://totp/" in page.get_data(as_text=True)
    assert client.post("/account/two-factor", data={"code": "12345"}).status_code == 422
    response = client.post("/account/two-factor", data={"code": code_at(secret, time.time())})
    assert response.status_code == 302
    assert client.get("/account/password").status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(Staff.totp_secret).where(Staff.username == "ny")) == secret
    assert actions()[-2:] == ["enrol_second_factor_failed", "enrol_second_factor"]


def test_the_second_factor_is_optional_for_therapists(client, org):
    log_in(client, "anna")
    assert client.get("/").status_code == 200
    assert client.get("/account/two-factor").status_code == 200


def test_sign_in_without_the_second_factor_is_held_at_enrolment_or_ended(client, org):
    """An admin session that skipped the code (it cannot happen by logging in) gets no page."""
    sign_in(client, org["admin"], second_factor=False)
    assert client.get("/").headers["Location"].startswith("/login")
