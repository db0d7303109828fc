"""ASVS 5.0 V7 and issue 12 item 3, tried as an intruder would: the session lives on the server
(fitapp.session_store), the cookie is a random id, and the tablet lock holds against late
responses, replayed cookies and password guessing."""
import base64
import hashlib
import hmac
import re
import time
import zlib
from datetime import date

import pytest
from flask import request
from sqlalchemy import func, select, update

from fitapp.cases.tablet import MAX_FAILED_RETURNS
from fitapp.extensions import db
from fitapp.models import AuditEvent, SessionFormDraft, WebSession
from fitapp.session_store import prune_expired
from tests import factories
from tests.factories import PASSWORD
from tests.security.test_authentication import actions, log_in
from tests.web.conftest import form_drafts_of, session_cookie, session_row, sign_in, tablet_lock_of

RANDOM_ID = re.compile(r"^[A-Za-z0-9_-]{43}$")
# The family member's marks on the tablet, as typed and as stored in a draft.
MARKS = ["7,5", "3,2", "9,7", "0,4"]
MARK_TEXTS = ("7,5", "7.5", "3,2", "3.2", "9,7", "9.7", "0,4", "0.4")


@pytest.fixture
def case(org):
    episode = factories.episode(org["units"]["A"], org["anna"], ref="SRV-1", start_date=date(2025, 1, 13))
    child = factories.participant(episode, "index", birth_year=date.today().year - 9, ref="P-SRV")
    factories.commit()
    return {"episode_id": episode.id, "child": child.id}


def hand_over(client, case):
    c = case["child"]
    return client.post(f"/cases/{case['episode_id']}/sessions/new/tablet", data={
        "date": date.today().isoformat(), f"present-{c}": "1", f"outcome-{c}-instrument": "CORS",
        "tablet": f"outcome-{c}"})


def set_cookies(response) -> list[str]:
    return response.headers.getlist("Set-Cookie")


def cookie_name(app) -> str:
    return app.config["SESSION_COOKIE_NAME"]


def replay(client, cookie: str) -> None:
    """The intruder's browser presents a cookie they copied earlier."""
    client.set_cookie(client.application.config["SESSION_COOKIE_NAME"], cookie)


def take_cookies(client, response) -> None:
    """What a browser does with a response's Set-Cookie headers."""
    for header in set_cookies(response):
        name, _eq, value = header.split(";", 1)[0].partition("=")
        if value in ("", '""'):
            client.delete_cookie(name)
        else:
            client.set_cookie(name, value)


def decoded(value: str) -> bytes:
    """Everything a reader of the cookie can decode from it (the payload of a signed Flask cookie too)."""
    compressed = value.startswith(".")
    payload = value.lstrip(".").split(".", 1)[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return zlib.decompress(raw) if compressed else raw


# ---------------------------------------------------------------- the cookie


def test_the_cookie_decodes_to_nothing_but_a_random_id(app, client, org):
    response = log_in(client, "anna")
    assert response.status_code == 302
    (header,) = set_cookies(response)
    value = session_cookie(client)
    assert header.startswith(f"{cookie_name(app)}={value};")
    assert RANDOM_ID.match(value) and len(decoded(value)) == 32  # 256 random bits, no signature, no data
    for field in (b"_user_id", b"_fitapp", b"anna", str(org["anna"].id).encode() + b'"'):
        assert field not in decoded(value)
    with client.session_transaction() as session:  # the session itself is on the server
        assert session["_user_id"] == str(org["anna"].id)
    other = app.test_client()
    log_in(other, "anna")
    assert session_cookie(other) != value


def test_the_database_holds_only_a_keyed_digest_of_the_id(app, client, org):
    log_in(client, "anna")
    value = session_cookie(client)
    row = session_row(client)
    expected = hmac.new(app.config["SECRET_KEY"].encode(), b"fitapp web session\x1f" + value.encode(),
                        hashlib.sha256).hexdigest()
    assert row.key_digest == expected and row.key_digest != hashlib.sha256(value.encode()).hexdigest()
    # Not in any column of any table, so a reader of the database (or a backup) cannot present it.
    for table in db.metadata.sorted_tables:
        for stored in db.session.execute(select(table)).all():
            assert value not in repr(stored), table.name
    # A cookie made from the stored digest names nothing.
    intruder = app.test_client()
    replay(intruder, row.key_digest[:43])
    assert intruder.get("/").headers["Location"].startswith("/login")


def test_an_id_the_server_did_not_hand_out_is_never_adopted(app, client, org):
    planted = "A" * 43
    replay(client, planted)
    client.post("/language", data={"lang": "en"})
    before_login = session_cookie(client)
    assert before_login != planted and RANDOM_ID.match(before_login)
    log_in(client, "anna")
    after_login = session_cookie(client)
    assert after_login not in (planted, before_login)  # a new id at login: the old one names nothing
    assert db.session.scalar(select(func.count()).select_from(WebSession)) == 1
    with client.session_transaction() as session:
        assert session["lang"] == "en"  # the preference survived, under the new id
    stale = app.test_client()
    replay(stale, before_login)
    assert stale.get("/").headers["Location"].startswith("/login")


@pytest.mark.parametrize("how", ["logout", "tablet guesses"])
def test_a_copied_cookie_is_refused_after_logout(app, client, org, case, how):
    sign_in(client, org["anna"])
    if how == "tablet guesses":
        hand_over(client, case)
    copied = session_cookie(client)
    if how == "logout":
        client.post("/logout")
    else:
        # Whoever holds the device guesses until the session is logged out (no session version change).
        for _attempt in range(MAX_FAILED_RETURNS):
            last = client.post("/tablet/return", data={"password": "a guess"})
        assert last.headers["Location"] == "/login"
    intruder = app.test_client()
    replay(intruder, copied)
    for path in ("/", f"/cases/{case['episode_id']}", "/tablet"):
        response = intruder.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), path
    assert db.session.scalar(select(func.count()).select_from(WebSession)) == 0
    assert db.session.scalar(select(func.count()).select_from(SessionFormDraft)) == 0


def test_another_worker_serves_the_same_session(app, backend, migrated_urls, client, org, case):
    """No state in the process: a second app on the same database (another gunicorn worker) sees
    the login and the lock."""
    from fitapp import create_app

    sign_in(client, org["anna"])
    hand_over(client, case)
    worker = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": migrated_urls(backend),
                         "WTF_CSRF_ENABLED": False, "SERVER_NAME": "localhost"})
    other = worker.test_client()
    replay(other, session_cookie(client))
    assert other.get("/").headers["Location"] == "/tablet"
    assert other.get("/tablet").status_code == 200
    with worker.app_context():
        db.engine.dispose()


# ---------------------------------------------------------------- the tablet lock


def test_a_late_response_after_the_hand_over_leaves_the_lock(app, client, org, case):
    sign_in(client, org["anna"])
    cookie = session_cookie(client)
    interface = app.session_interface
    # A request (another tab, a slow page) reads the session before the device is handed over ...
    with app.test_request_context("/", headers={"Cookie": f"{cookie_name(app)}={cookie}"}):
        late = interface.open_session(app, request)
    assert hand_over(client, case).headers["Location"] == "/tablet"
    # ... and answers after it, saving the session as it read it (with a change of its own).
    with app.test_request_context("/"):
        late["lang"] = "en"
        response = app.response_class()
        interface.save_session(app, late, response)
    take_cookies(client, response)
    for path in ("/", f"/cases/{case['episode_id']}", "/reports"):
        assert client.get(path).headers["Location"] == "/tablet", path
    assert tablet_lock_of(client)["participant_id"] == case["child"]


def test_a_replayed_pre_lock_cookie_is_locked(app, client, org, case):
    sign_in(client, org["anna"])
    before_lock = session_cookie(client)
    hand_over(client, case)
    intruder = app.test_client()
    replay(intruder, before_lock)
    for path in ("/", f"/cases/{case['episode_id']}", f"/cases/{case['episode_id']}/sessions/new", "/reports",
                 "/account/password"):
        response = intruder.get(path)
        assert (response.status_code, response.headers.get("Location")) == (302, "/tablet"), path
    response = intruder.post(f"/cases/{case['episode_id']}/close", data={"reason": "planned"})
    assert response.headers["Location"] == "/tablet"
    assert "Set-Cookie" not in response.headers
    assert tablet_lock_of(client) is not None


def test_the_lock_s_failure_count_is_the_servers(app, client, org, case):
    """Replaying the cookie from before the wrong passwords does not give them back."""
    sign_in(client, org["anna"])
    hand_over(client, case)
    cookie = session_cookie(client)
    for attempt in range(1, MAX_FAILED_RETURNS):
        replay(client, cookie)
        assert client.post("/tablet/return", data={"password": "a guess"}).status_code == 422
        assert session_row(client).tablet_failures == attempt
    replay(client, cookie)
    assert client.post("/tablet/return", data={"password": "a guess"}).headers["Location"] == "/login"


def test_tablet_return_guessing_is_throttled_across_fresh_sessions(app, org, case):
    """Each guess from a new session (the therapist logged in again and handed over again): the
    counts are the login's, per account and address, and outlive every session."""
    for _guess in range(5):
        device = app.test_client()
        sign_in(device, org["anna"])
        hand_over(device, case)
        assert device.post("/tablet/return", data={"password": "a guess"}).status_code == 422
    device = app.test_client()
    sign_in(device, org["anna"])
    hand_over(device, case)
    refused = device.post("/tablet/return", data={"password": PASSWORD})
    assert refused.status_code == 429 and "Försök igen om 1 minut." in refused.get_data(as_text=True)
    assert device.get("/").headers["Location"] == "/tablet"
    assert actions().count("tablet_return_failed") == 5 and "tablet_return" not in actions()


def test_no_rating_value_in_any_cookie_during_the_tablet_flow(app, client, org, case):
    responses = [log_in(client, "anna"), hand_over(client, case), client.get("/tablet"),
                 client.post("/tablet", data={f"item-{n}": v for n, v in zip(range(1, 5), MARKS)})]
    # While the device is with the family the marks are in a draft on the server.
    (draft,) = form_drafts_of(client).values()
    assert draft["values"][f"outcome-{case['child']}-1"] == "7.5"
    returned = client.post("/tablet/return", data={"password": PASSWORD})
    form = client.get(returned.headers["Location"])
    assert 'value="7,5"' in form.get_data(as_text=True)
    token = returned.headers["Location"].rsplit("=", 1)[1]
    c = case["child"]
    saved = client.post(returned.headers["Location"], data={
        "date": date.today().isoformat(), f"present-{c}": "1", "draft": token,
        f"outcome-{c}-instrument": "CORS", **{f"outcome-{c}-{n}": v for n, v in zip(range(1, 5), MARKS)},
        f"alliance-{c}-instrument": "CSRS", **{f"alliance-{c}-{n}": "9" for n in range(1, 5)}})
    assert saved.status_code == 302
    responses += [returned, form, saved, client.get(saved.headers["Location"])]
    cookies = [header for response in responses for header in set_cookies(response)]
    assert cookies  # the login's, at least
    for header in cookies:
        value = header.split(";", 1)[0].partition("=")[2]
        assert RANDOM_ID.match(value), header
        for text in (*MARK_TEXTS, "outcome-", "item-", "tablet", "draft"):
            assert text.encode() not in decoded(value), header
    assert form_drafts_of(client) == {}  # saved: the draft is gone


def test_a_draft_is_only_its_own_sessions(app, client, org, case):
    sign_in(client, org["anna"])
    hand_over(client, case)
    client.post("/tablet", data={f"item-{n}": v for n, v in zip(range(1, 5), MARKS)})
    location = client.post("/tablet/return", data={"password": PASSWORD}).headers["Location"]
    other = app.test_client()  # the same therapist on another device
    sign_in(other, org["anna"])
    html = other.get(location).get_data(as_text=True)
    assert 'name="draft"' not in html and 'value="7,5"' not in html


# ---------------------------------------------------------------- expiry and clean-up


@pytest.mark.parametrize("column, age, action", [
    ("touched_at", 31 * 60, "session_idle"), ("created_at", 10 * 3600 + 1, "session_expired")])
def test_a_session_past_its_limits_is_refused_and_deleted(app, client, org, case, column, age, action):
    sign_in(client, org["anna"])
    hand_over(client, case)
    db.session.execute(update(WebSession).values({column: time.time() - age}))
    db.session.commit()
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert db.session.scalar(select(func.count()).select_from(WebSession.__table__).where(
        WebSession.tablet_lock.is_not(None))) == 0
    assert db.session.scalar(select(func.count()).select_from(SessionFormDraft)) == 0
    assert actions() == ["tablet_handover", action]
    assert "Din session har avslutats" in client.get("/login").get_data(as_text=True)


def test_expired_rows_are_pruned_with_their_drafts(app, org, case):
    live, idle, old = app.test_client(), app.test_client(), app.test_client()
    for device in (live, idle, old):
        sign_in(device, org["anna"])
        hand_over(device, case)
    now = time.time()
    db.session.execute(update(WebSession).where(WebSession.id == session_row(idle).id)
                       .values(touched_at=now - 31 * 60))
    db.session.execute(update(WebSession).where(WebSession.id == session_row(old).id)
                       .values(created_at=now - 10 * 3600 - 1))
    db.session.commit()
    assert prune_expired(app) == 2
    db.session.expire_all()
    assert [row.id for row in db.session.scalars(select(WebSession))] == [session_row(live).id]
    assert {d.web_session_id for d in db.session.scalars(select(SessionFormDraft))} == {session_row(live).id}
    assert live.get("/").headers["Location"] == "/tablet"


def test_logout_deletes_the_row_and_its_drafts(app, client, org, case):
    sign_in(client, org["anna"])
    hand_over(client, case)
    client.post("/tablet", data={"skip": "1"})
    client.post("/tablet/return", data={"password": PASSWORD})
    assert len(form_drafts_of(client)) == 1
    client.post("/logout")
    assert db.session.scalar(select(func.count()).select_from(WebSession)) == 0
    assert db.session.scalar(select(func.count()).select_from(SessionFormDraft)) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "logout")) == 1
