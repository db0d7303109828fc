"""ASVS 5.0 6.3.1 brute force, attacked from both sides (issue 12, item 6): the throttle slows a
guesser down, and cannot be turned against the users behind a shared address or against a
named account. Addresses are simulated with REMOTE_ADDR."""
import re
import time
from datetime import date

import pytest
from flask import current_app
from sqlalchemy import select, update

from fitapp.auth import throttle
from fitapp.auth.totp import code_at
from fitapp.cases.tablet import MAX_FAILED_RETURNS
from fitapp.extensions import db
from fitapp.models import RateLimitCounter
from tests import factories
from tests.factories import PASSWORD, TOTP_SECRET
from tests.security.test_authentication import actions, log_in
from tests.web.conftest import session_cookie, sign_in, tablet_lock_of

OFFICE, HOME = "10.0.0.1", "10.0.0.2"
ATTACKERS = [f"198.51.100.{n}" for n in range(1, 6)]
WRONG = "wrong password!"
GENERIC_ERROR = "Fel användarnamn eller lösenord"


def too_many(minutes: int) -> str:
    return f"För många försök. Försök igen om {minutes} {'minut' if minutes == 1 else 'minuter'}."


def counters() -> dict[str, tuple[int, float]]:
    db.session.remove()  # the store commits on its own connections: read afresh
    return {c.key: (c.hits, c.window_ends) for c in db.session.scalars(select(RateLimitCounter))}


def wait_is_over(account: str, address: str, kind: str = throttle.PASSWORD) -> None:
    """The pair's wait has run out, as if its minutes had passed (its failures are still counted)."""
    key = throttle.keys(kind, account, address).pair_wait
    db.session.execute(update(RateLimitCounter).where(RateLimitCounter.key == key)
                       .values(window_ends=time.time() - 1))
    db.session.commit()


def test_delays_grow_from_one_minute_to_the_ceiling(app):
    assert [throttle.delay_seconds(n, 5) for n in range(1, 12)] == [
        0, 0, 0, 0, 60, 120, 240, 480, 960, 1800, 1800]
    assert [throttle.delay_seconds(n, 1) for n in range(1, 4)] == [60, 120, 240]
    assert throttle.delay_seconds(10_000, 5) == 1800


# ---------------------------------------------------------------- a guesser is slowed down


def test_failures_of_one_account_from_one_address_wait_growing_delays(client, org):
    for _ in range(5):
        assert log_in(client, "anna", WRONG, ip=OFFICE).status_code == 200
    throttled = log_in(client, "anna", ip=OFFICE)  # the right password, during the wait
    assert throttled.status_code == 429 and 55 <= int(throttled.headers["Retry-After"]) <= 60
    html = throttled.get_data(as_text=True)
    assert too_many(1) in html and GENERIC_ERROR not in html
    assert client.get("/").status_code == 302  # not logged in
    wait_is_over("anna", OFFICE)
    assert log_in(client, "anna", WRONG, ip=OFFICE).status_code == 200
    assert too_many(2) in log_in(client, "anna", ip=OFFICE).get_data(as_text=True)
    wait_is_over("anna", OFFICE)
    assert log_in(client, "anna", ip=OFFICE).status_code == 302
    assert actions() == ["login_failed"] * 6 + ["login"]  # refused attempts are not even checked


def test_the_message_keeps_the_user_name_and_is_english_on_request(client, org):
    client.post("/language", data={"lang": "en"})
    for _ in range(5):
        log_in(client, "Anna", WRONG, ip=OFFICE)
    html = log_in(client, "Anna", ip=OFFICE).get_data(as_text=True)
    assert "Too many attempts. Try again in 1 minute." in html
    assert re.search(r'<input[^>]*name="username"[^>]*value="Anna"', html)
    assert PASSWORD not in html  # the password is never sent back


def test_a_refused_attempt_does_not_extend_the_wait_or_count(client, org):
    for _ in range(5):
        log_in(client, "anna", WRONG, ip=OFFICE)
    before = counters()
    for password in (WRONG, PASSWORD) * 5:
        assert log_in(client, "anna", password, ip=OFFICE).status_code == 429
    assert counters() == before
    assert actions() == ["login_failed"] * 5


# ---------------------------------------------------------------- ... but cannot lock anyone out


def test_ten_failures_for_one_account_do_not_stop_a_colleague_at_the_same_address(client, org):
    for _ in range(12):
        assert log_in(client, "anna", WRONG, ip=OFFICE).status_code in (200, 429)
    assert log_in(client, "bert", ip=OFFICE).status_code == 302


def test_an_office_of_mistyping_colleagues_locks_out_nobody(client, org):
    colleagues = ["anna", "arvid", "bert", "cecilia", "chef_a"] + [f"vikarie{n}" for n in range(6)]
    for name in colleagues:  # 33 failures behind one address within minutes
        for _ in range(3):
            assert log_in(client, name, WRONG, ip=OFFICE).status_code == 200
    for name in ("anna", "arvid", "bert", "cecilia", "chef_a"):
        assert log_in(client, name, ip=OFFICE).status_code == 302, name
        client.post("/logout")


def test_an_outsider_cannot_keep_an_account_locked(client, org):
    """Fifty guesses at anna from five addresses: anna still logs in from hers at the first attempt."""
    statuses = [log_in(client, "anna", WRONG, ip=address).status_code for address in ATTACKERS for _ in range(10)]
    # 5 free guesses from each of the first two addresses; then the account is under attack
    # and every further address has one before it waits.
    assert statuses.count(200) == 5 + 5 + 1 + 1 + 1 and actions().count("login_failed") == 13
    assert log_in(client, "anna", ip=OFFICE).status_code == 302


def test_under_attack_a_mistyped_password_costs_the_owner_one_minute(client, org):
    for address in ATTACKERS:
        for _ in range(3):
            log_in(client, "anna", WRONG, ip=address)
    assert log_in(client, "anna", WRONG, ip=HOME).status_code == 200
    refused = log_in(client, "anna", ip=HOME)
    assert refused.status_code == 429 and too_many(1) in refused.get_data(as_text=True)
    wait_is_over("anna", HOME)
    assert log_in(client, "anna", ip=HOME).status_code == 302


def test_one_address_trying_many_accounts_meets_the_address_ceiling(app, client, org):
    app.config["LOGIN_ADDRESS_LIMIT"] = 8
    for n in range(8):
        assert log_in(client, f"guess{n}", WRONG, ip=ATTACKERS[0]).status_code == 200
    refused = log_in(client, "bert", ip=ATTACKERS[0])
    assert refused.status_code == 429 and too_many(60) in refused.get_data(as_text=True)
    assert log_in(client, "bert", ip=OFFICE).status_code == 302


# ---------------------------------------------------------------- the store holds digests only


def test_the_counters_hold_no_typed_user_name_and_no_address(client, org):
    typed = ["anna", "Bert.Svensson", "blå cykel under äppelträdet", "198.51.100.1"]
    for name in typed[:3]:
        log_in(client, name, WRONG, ip=ATTACKERS[0])
    log_in(client, "anna", WRONG, ip=OFFICE)
    keys = list(counters())
    assert len(keys) == 4 + 3 + 2  # four (name, address) pairs, three names, two addresses; no waits yet
    assert all(re.fullmatch(r"throttle-(pair|wait|account|address):[0-9a-f]{64}", key) for key in keys), keys
    stored = " ".join(keys).casefold()
    for text in typed + [OFFICE, "anna", "bert", "cykel"]:
        assert text.casefold() not in stored
    # Keyed with the app's secret: another installation's digests differ.
    first = throttle.keys(throttle.PASSWORD, "anna", OFFICE)
    current_app.config["SECRET_KEY"] = "another installation's secret key, 32+ bytes"
    assert throttle.keys(throttle.PASSWORD, "anna", OFFICE) != first


# ---------------------------------------------------------------- the other guesses of a secret


def test_the_code_step_is_throttled_per_account_and_address(app, client, org):
    assert log_in(client, "kvalitet", ip=OFFICE).status_code == 302
    code = code_at(TOTP_SECRET, time.time())
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert client.post("/login/code", data={"code": wrong}, environ_base={"REMOTE_ADDR": OFFICE}).status_code == 422
    refused = client.post("/login/code", data={"code": code}, environ_base={"REMOTE_ADDR": OFFICE})
    assert refused.status_code == 429 and too_many(1) in refused.get_data(as_text=True)
    elsewhere = app.test_client()
    assert log_in(elsewhere, "kvalitet", ip=HOME).status_code == 302
    assert elsewhere.post("/login/code", data={"code": code}, environ_base={"REMOTE_ADDR": HOME}).status_code == 302


def test_the_password_change_page_shares_the_passwords_counters(client, org):
    sign_in(client, org["anna"])
    new = "en ny lång fras med ord"
    form = {"current_password": WRONG, "new_password": new, "confirm": new}
    for _ in range(5):
        assert client.post("/account/password", data=form, environ_base={"REMOTE_ADDR": OFFICE}).status_code == 422
    refused = client.post("/account/password", data={**form, "current_password": PASSWORD},
                          environ_base={"REMOTE_ADDR": OFFICE})
    assert refused.status_code == 429 and too_many(1) in refused.get_data(as_text=True)
    assert log_in(client.application.test_client(), "anna", ip=OFFICE).status_code == 429


def hand_over_and_get_back(client, staff, episode, child) -> str:
    """``staff`` hands the device over for ``child``, who gives it back without answering; the cookie."""
    sign_in(client, staff)
    client.post(f"/cases/{episode.id}/sessions/new/tablet",
                data={"date": date.today().isoformat(), f"present-{child.id}": "1",
                      f"outcome-{child.id}-instrument": "CORS", "tablet": f"outcome-{child.id}"})
    client.post("/tablet", data={"skip": "1"})
    assert tablet_lock_of(client)["step"] == "return"
    return session_cookie(client)


@pytest.fixture
def family(org):
    episode = factories.episode(org["units"]["A"], org["anna"], ref="THR-1", start_date=date(2025, 1, 13))
    child = factories.participant(episode, "index", birth_year=2016)
    factories.commit()
    return episode, child


def replay(client, cookie: str) -> None:
    client.set_cookie(current_app.config["SESSION_COOKIE_NAME"], cookie)


def test_the_tablet_return_is_throttled_even_with_a_replayed_cookie(app, client, org, family):
    cookie = hand_over_and_get_back(client, org["anna"], *family)
    for _ in range(MAX_FAILED_RETURNS - 1):
        replay(client, cookie)  # the cookie from before the guesses, again
        response = client.post("/tablet/return", data={"password": WRONG}, environ_base={"REMOTE_ADDR": OFFICE})
        assert response.status_code == 422
    replay(client, cookie)
    response = client.post("/tablet/return", data={"password": WRONG}, environ_base={"REMOTE_ADDR": OFFICE})
    # The failures are counted in the session's row, not in the cookie: the last one ends the session.
    assert response.headers["Location"] == "/login"
    replay(client, cookie)
    assert client.get("/").headers["Location"].startswith("/login")
    # The therapist logs in again and hands over again: the guesses made before still count.
    fresh = app.test_client()
    hand_over_and_get_back(fresh, org["anna"], *family)
    refused = fresh.post("/tablet/return", data={"password": PASSWORD}, environ_base={"REMOTE_ADDR": OFFICE})
    assert refused.status_code == 429 and too_many(1) in refused.get_data(as_text=True)
    assert fresh.get("/").headers["Location"] == "/tablet"  # still locked
    assert actions().count("tablet_return_failed") == MAX_FAILED_RETURNS and "tablet_return" not in actions()
    wait_is_over("anna", OFFICE)
    response = fresh.post("/tablet/return", data={"password": PASSWORD}, environ_base={"REMOTE_ADDR": OFFICE})
    assert response.status_code == 302 and "/sessions/new" in response.headers["Location"]
