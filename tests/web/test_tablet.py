"""Tablet mode: one person, one scale, and the device locked until the therapist's password."""
import re
from datetime import date

import pytest
from sqlalchemy import select

from fitapp.cases.tablet import MAX_FAILED_RETURNS
from fitapp.extensions import db
from fitapp.models import AuditEvent, Rating
from tests import factories
from tests.factories import PASSWORD
from tests.web.conftest import form_drafts_of, sign_in, tablet_lock_of

YEAR = date.today().year


@pytest.fixture
def case(org):
    episode = factories.episode(org["units"]["A"], org["anna"], ref="TAB-1", start_date=date(2025, 1, 13))
    child = factories.participant(episode, "index", birth_year=YEAR - 8, ref="P-CHILD")
    mother = factories.participant(episode, "parent", birth_year=1984, ref="P-MOTHER")
    factories.commit()
    return {"episode": episode, "child": child.id, "mother": mother.id}


def form_values(case, **extra):
    """The session form as the therapist has half filled it: the mother's outcome typed, both present."""
    c, m = case["child"], case["mother"]
    values = {
        "date": date.today().isoformat(),
        f"present-{c}": "1", f"outcome-{c}-instrument": "CORS", f"alliance-{c}-instrument": "CSRS",
        f"present-{m}": "1", f"outcome-{m}-instrument": "ORS", f"alliance-{m}-instrument": "SRS",
        **{f"outcome-{m}-{n}": "6" for n in range(1, 5)},
        "csrf_token": "not kept",
    }
    values.update(extra)
    return values


def hand_over(client, case, scale="outcome", who="child", **extra):
    return client.post(f"/cases/{case['episode'].id}/sessions/new/tablet",
                       data=form_values(case, tablet=f"{scale}-{case[who]}", **extra))


def tablet_session(client):
    """The lock and the drafts of the client's session, as the server keeps them (fitapp.session_store)."""
    return tablet_lock_of(client), form_drafts_of(client)


def actions():
    db.session.expire_all()
    return [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_handing_over_locks_the_session_to_the_tablet_screen(client, org, case):
    sign_in(client, org["anna"])
    response = hand_over(client, case)
    assert response.status_code == 302 and response.headers["Location"] == "/tablet"
    assert "Set-Cookie" not in response.headers  # the draft and the lock stay on the server
    lock, drafts = tablet_session(client)
    assert lock["scale"] == "outcome" and lock["instrument"] == "CORS" and lock["participant_id"] == case["child"]
    # The URL says nothing about the case; the draft keeps only the session form's own fields.
    assert set(drafts[lock["token"]]["values"]) == set(form_values(case)) - {"csrf_token"}
    assert "tablet" not in drafts[lock["token"]]["values"]
    assert "tablet_handover" in actions()


def test_the_tablet_shows_only_that_persons_scale(client, org, case):
    sign_in(client, org["anna"])
    hand_over(client, case)
    response = client.get("/tablet")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    for n in range(1, 5):
        assert f">Del {n}</label>" in html
        assert f'name="item-{n}"' in html
    assert html.count('role="slider"') == 4
    assert "Hur har du haft det på sistone?" in html
    # Nothing about the case, the family or the staff, and no way to navigate away.
    for secret in ("TAB-1", "P-CHILD", "P-MOTHER", "anna", "Mina ärenden", "Logga ut", "ORS"):
        assert secret not in html.replace("CORS", "")
    assert re.findall(r"<a\s", html) == []
    assert 'src="/static/js/tablet.js"' in html and "<script>" not in html


def test_the_alliance_scale_has_its_own_question(client, org, case):
    sign_in(client, org["anna"])
    hand_over(client, case, "alliance", "mother")
    html = client.get("/tablet").get_data(as_text=True)
    assert "Hur var dagens samtal?" in html and "SRS" in html


LOCKED_GETS = ["/", "/reports", "/cases/{e}", "/cases/{e}/sessions/new", "/cases/{e}/close", "/cases/new", "/login",
               "/no/such/page", "/cases/{e}/sessions/new?draft=x"]


def test_every_other_url_leads_back_to_the_tablet(client, org, case):
    sign_in(client, org["anna"])
    hand_over(client, case)
    e = case["episode"].id
    for path in LOCKED_GETS:
        response = client.get(path.format(e=e))
        assert (response.status_code, response.headers.get("Location")) == (302, "/tablet"), path
    for path in ("/cases/{e}/sessions/new", "/cases/{e}/close", "/logout", "/cases/{e}/sessions/new/tablet"):
        response = client.post(path.format(e=e), data=form_values(case, tablet=f"outcome-{case['mother']}"))
        assert (response.status_code, response.headers.get("Location")) == (302, "/tablet"), path
    lock, _drafts = tablet_session(client)
    assert lock["participant_id"] == case["child"]  # the second hand-over above did not happen
    with client.get("/static/css/app.css") as static:
        assert static.status_code == 200


def test_the_language_can_be_switched_on_the_tablet_and_is_restored_afterwards(client, org, case):
    sign_in(client, org["anna"])
    hand_over(client, case)
    response = client.post("/language", data={"lang": "en", "next": "/tablet"})
    assert response.headers["Location"] == "/tablet"
    assert "How have things been for you lately?" in client.get("/tablet").get_data(as_text=True)
    client.post("/tablet", data={"skip": "1"})
    client.post("/tablet/return", data={"password": PASSWORD})
    with client.session_transaction() as session:
        assert "lang" not in session  # the therapist's own choice (Swedish by default) is back


def test_submitting_shows_the_give_back_screen_with_a_password_prompt(client, org, case):
    sign_in(client, org["anna"])
    hand_over(client, case)
    response = client.post("/tablet", data={f"item-{n}": v for n, v in zip(range(1, 5), ["7,5", "3", "10", "0.4"])})
    assert response.status_code == 302 and response.headers["Location"] == "/tablet"
    html = client.get("/tablet").get_data(as_text=True)
    assert "Ge tillbaka enheten till din behandlare." in html
    assert 'type="password"' in html and 'role="slider"' not in html
    assert "7,5" not in html  # the answers are not shown again to whoever holds the device
    # A second submission cannot overwrite the answers once the give-back screen is shown.
    client.post("/tablet", data={f"item-{n}": "1" for n in range(1, 5)})
    lock, drafts = tablet_session(client)
    assert drafts[lock["token"]]["values"][f"outcome-{case['child']}-1"] == "7.5"


@pytest.mark.parametrize("marks", [{}, {"item-1": "5", "item-2": "5", "item-3": "5"},
                                   {"item-1": "11", "item-2": "5", "item-3": "5", "item-4": "5"},
                                   {"item-1": "5,55", "item-2": "5", "item-3": "5", "item-4": "5"}])
def test_every_line_must_be_marked(client, org, case, marks):
    sign_in(client, org["anna"])
    hand_over(client, case)
    response = client.post("/tablet", data=marks)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'role="alert"' in html and "markera linjen" in html
    lock, _drafts = tablet_session(client)
    assert lock["step"] == "rate"


def test_a_wrong_password_keeps_the_device_locked(client, org, case):
    sign_in(client, org["anna"])
    hand_over(client, case)
    client.post("/tablet", data={f"item-{n}": "5" for n in range(1, 5)})
    response = client.post("/tablet/return", data={"password": "not the password"})
    assert response.status_code == 422
    assert "Fel lösenord" in response.get_data(as_text=True)
    assert client.get("/").headers["Location"] == "/tablet"
    assert client.post("/tablet/return", data={}).status_code == 422
    assert actions().count("tablet_return_failed") == 2 and "tablet_return" not in actions()


def test_repeated_wrong_passwords_log_the_therapist_out(client, org, case):
    sign_in(client, org["anna"])
    hand_over(client, case)
    for _attempt in range(MAX_FAILED_RETURNS - 1):
        assert client.post("/tablet/return", data={"password": "guess"}).status_code == 422
    response = client.post("/tablet/return", data={"password": "guess"})
    assert response.headers["Location"] == "/login"
    with client.session_transaction() as session:
        assert "_user_id" not in session
    assert tablet_session(client) == (None, {})
    assert client.get("/").headers["Location"].startswith("/login")


def test_another_staff_members_password_does_not_unlock(client, org, case):
    sign_in(client, org["anna"])
    hand_over(client, case)
    org["anna"].password_hash = factories.hash_password("a different password")
    factories.commit()
    assert client.post("/tablet/return", data={"password": PASSWORD}).status_code == 422


def test_the_marks_land_in_the_session_form_and_are_saved_with_it(client, org, case):
    sign_in(client, org["anna"])
    hand_over(client, case)
    client.post("/tablet", data={f"item-{n}": v for n, v in zip(range(1, 5), ["7,5", "3", "10", "0.4"])})
    response = client.post("/tablet/return", data={"password": PASSWORD})
    assert response.status_code == 302
    location = response.headers["Location"]
    lock, drafts = tablet_session(client)
    assert lock is None
    token = next(iter(drafts))
    assert location == f"/cases/{case['episode'].id}/sessions/new?draft={token}"
    assert "tablet_return" in actions()
    # Every tablet event carries the case's unit, so the unit's log review finds it directly.
    db.session.expire_all()
    tablet_units = {e.unit_id for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("tablet%")))}
    assert tablet_units == {case["episode"].unit_id}

    html = client.get(location).get_data(as_text=True)
    c, m = case["child"], case["mother"]
    for n, value in zip(range(1, 5), ["7,5", "3,0", "10,0", "0,4"]):
        assert f'id="outcome-{c}-{n}" name="outcome-{c}-{n}" value="{value}"' in html
        # What the therapist had typed before handing over is still there.
        assert f'id="outcome-{m}-{n}" name="outcome-{m}-{n}" value="6,0"' in html
    assert f'<input type="hidden" name="draft" value="{token}">' in html
    assert 'data-total-for="outcome-%s"' % c in html and ">20,9<" in html  # the server's live total

    # The therapist adds the alliance scales and saves: the tablet's values are stored, the draft dropped.
    saved = form_values(case, draft=token, **{f"outcome-{c}-{n}": v for n, v in
                                              zip(range(1, 5), ["7,5", "3,0", "10,0", "0,4"])},
                        **{f"alliance-{p}-{n}": "9" for p in (c, m) for n in range(1, 5)})
    response = client.post(location, data=saved)
    assert response.status_code == 302, response.get_data(as_text=True)
    ratings = {(r.subject_id, r.instrument): r.total_x10 for r in db.session.scalars(select(Rating))}
    assert ratings[(c, "CORS")] == 209 and ratings[(m, "ORS")] == 240 and len(ratings) == 4
    assert tablet_session(client)[1] == {}


def test_giving_back_without_answering_keeps_the_form_as_it_was(client, org, case):
    sign_in(client, org["anna"])
    hand_over(client, case)
    client.post("/tablet", data={"skip": "1"})
    assert "Ge tillbaka enheten" in client.get("/tablet").get_data(as_text=True)
    location = client.post("/tablet/return", data={"password": PASSWORD}).headers["Location"]
    html = client.get(location).get_data(as_text=True)
    assert f'name="outcome-{case["child"]}-1" value=""' in html
    assert f'name="outcome-{case["mother"]}-1" value="6,0"' in html


def test_a_draft_belongs_to_its_episode(client, org, case):
    other = factories.episode(org["units"]["A"], org["anna"], ref="TAB-2")
    factories.participant(other, "index", birth_year=2012)
    factories.commit()
    sign_in(client, org["anna"])
    hand_over(client, case)
    client.post("/tablet", data={"skip": "1"})
    location = client.post("/tablet/return", data={"password": PASSWORD}).headers["Location"]
    token = location.rsplit("=", 1)[1]
    html = client.get(f"/cases/{other.id}/sessions/new?draft={token}").get_data(as_text=True)
    assert 'name="draft"' not in html and 'value="6,0"' not in html


def test_without_a_hand_over_the_tablet_screens_lead_to_the_caseload(client, org, case):
    sign_in(client, org["anna"])
    for response in (client.get("/tablet"), client.post("/tablet", data={}),
                     client.post("/tablet/return", data={"password": PASSWORD})):
        assert response.headers["Location"] == "/"
    assert "tablet_return" not in actions()


def test_a_closed_case_cannot_be_handed_over(client, org, case):
    case["episode"].end_date, case["episode"].end_reason = date(2025, 3, 1), "planned"
    factories.commit()
    sign_in(client, org["anna"])
    response = hand_over(client, case)
    assert response.headers["Location"] == f"/cases/{case['episode'].id}"
    assert tablet_session(client) == (None, {})


@pytest.mark.parametrize("tablet", ["outcome-999999", "feeling-{c}", "outcome-", "", "outcome-{c}-x"])
def test_only_a_person_of_the_case_and_a_known_scale(client, org, case, tablet):
    sign_in(client, org["anna"])
    response = client.post(f"/cases/{case['episode'].id}/sessions/new/tablet",
                           data=form_values(case, tablet=tablet.format(c=case["child"])))
    assert response.status_code == 404
    assert tablet_session(client) == (None, {})


@pytest.mark.parametrize("who, status", [("anna", 302), ("chef_a", 302), ("arvid", 404), ("bert", 404),
                                         ("cecilia", 404), ("kvalitet", 403), ("admin", 403)])
def test_who_may_hand_over(client, org, case, who, status):
    sign_in(client, org[who])
    response = hand_over(client, case)
    assert response.status_code == status
    lock, _drafts = tablet_session(client)
    assert (lock is not None) == (status == 302)
    if status != 302:
        assert "tablet_handover" not in actions()


@pytest.mark.parametrize("who", ["kvalitet", "admin"])
def test_roles_without_case_access_never_see_the_tablet_screens(client, org, case, who):
    sign_in(client, org[who])
    assert client.get("/tablet").status_code == 403
    assert client.post("/tablet/return", data={"password": PASSWORD}).status_code == 403


def test_anonymous_visitors_are_sent_to_login(client, case):
    for response in (hand_over(client, case), client.get("/tablet"), client.post("/tablet/return")):
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
