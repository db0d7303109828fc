"""The administrator's staff pages: accounts, roles, sign-in, report scope, memberships and moves."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from fitapp.auth.passwords import verify_password
from fitapp.extensions import db
from fitapp.models import AuditEvent, Episode, Staff, Team, UnitMembership
from tests import factories
from tests.admin.conftest import sign_in
from tests.security.conftest import table_contents

NEW_PASSWORD = "lingonris och blåbärssylt"
TODAY = date.today()


@pytest.fixture
def admin(client, org):
    sign_in(client, org["admin"])
    return org


def actions() -> list[tuple[str, str | None, int | None]]:
    return [(e.action, e.object_id, e.unit_id) for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def refused(response, message: str) -> str:
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Ingenting sparades" in html and message in html, html
    return html


def other_client(app, staff, **kwargs):
    """A second browser: ``staff``'s own session beside the administrator's."""
    browser = app.test_client()
    sign_in(browser, staff, **kwargs)
    return browser


def logged_out(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


# ---------------------------------------------------------------- accounts


def test_create_an_account_that_can_log_in(app, client, admin):
    response = client.post("/admin/staff", data={"new-username": "dora", "new-role": "therapist",
                                                 "new-password": NEW_PASSWORD, "new-confirm": NEW_PASSWORD})
    dora = db.session.scalar(select(Staff).where(Staff.username == "dora"))
    assert response.status_code == 302 and response.headers["Location"] == f"/admin/staff/{dora.id}"
    assert dora.role == "therapist" and dora.is_enabled and dora.memberships == []
    assert verify_password(dora.password_hash, NEW_PASSWORD)
    assert actions() == [("admin_create_staff", str(dora.id), None)]
    browser = app.test_client()
    response = browser.post("/login", data={"username": "dora", "password": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/"


@pytest.mark.parametrize("username, password, confirm, message", [
    ("ANNA", NEW_PASSWORD, NEW_PASSWORD, "Användarnamnet ANNA är upptaget."),
    ("19850101-1234", NEW_PASSWORD, NEW_PASSWORD, "Ett användarnamn får inte vara eller innehålla ett personnummer."),
    ("dora 850101-1234", NEW_PASSWORD, NEW_PASSWORD, "Ett användarnamn får inte vara eller innehålla ett personnummer."),
    ("dora b", NEW_PASSWORD, NEW_PASSWORD, "högst 80 tecken: bokstäver (a–z, å, ä, ö), siffror, ., -, _ och @"),
    ('=HYPERLINK("http://x","y")', NEW_PASSWORD, NEW_PASSWORD, "Får inte börja med =, +, - eller @"),
    ("", NEW_PASSWORD, NEW_PASSWORD, "Fyll i fältet."),
    ("dora", "kort", "kort", "minst 12 tecken"),
    ("dora", "dora-lingonris-2025", "dora-lingonris-2025", "får inte innehålla användarnamnet"),
    ("dora", NEW_PASSWORD, NEW_PASSWORD + "x", "Lösenorden är inte likadana."),
])
def test_bad_accounts_are_refused_and_nothing_is_written(client, admin, username, password, confirm, message):
    before = table_contents(exclude=())
    html = refused(client.post("/admin/staff", data={"new-username": username, "new-role": "therapist",
                                                     "new-password": password, "new-confirm": confirm}), message)
    assert "1234" not in html  # an identity number is never echoed back
    db.session.expire_all()
    assert table_contents(exclude=()) == before


def test_change_role_ends_sessions_and_waits_for_open_cases(app, client, admin):
    anna, arvid = admin["anna"], admin["arvid"]
    factories.episode(admin["units"]["A"], anna, ref="ROLE-1")
    factories.commit()
    html = refused(client.post(f"/admin/staff/{anna.id}/role", data={"role-role": "unit_head"}),
                   "anna har 1 öppna ärenden")
    assert "ROLE-1" not in html
    browser = other_client(app, arvid)
    assert browser.get("/").status_code == 200
    assert client.post(f"/admin/staff/{arvid.id}/role", data={"role-role": "unit_head"}).status_code == 302
    db.session.expire_all()
    assert (anna.role, arvid.role) == ("therapist", "unit_head")
    assert logged_out(browser.get("/"))
    refused(client.post(f"/admin/staff/{admin['admin'].id}/role", data={"role-role": "therapist"}),
            "Du kan inte göra detta med ditt eget konto.")


def test_disabling_ends_an_active_session_at_once(app, client, admin):
    anna = admin["anna"]
    browser = other_client(app, anna)
    assert browser.get("/").status_code == 200
    response = client.post(f"/admin/staff/{anna.id}/disable")
    assert response.status_code == 302 and response.headers["Location"] == f"/admin/staff/{anna.id}"
    assert logged_out(browser.get("/"))
    db.session.expire_all()
    assert anna.is_enabled is False
    assert [a for a, _, _ in actions()] == ["disable_staff"] + [a for a, _, _ in actions()][1:]
    assert client.post(f"/admin/staff/{anna.id}/enable").status_code == 302
    db.session.expire_all()
    assert anna.is_enabled is True
    assert "admin_enable_staff" in [a for a, _, _ in actions()]


def test_the_administrator_cannot_disable_their_own_account(client, admin):
    client.post(f"/admin/staff/{admin['admin'].id}/disable")
    db.session.expire_all()
    assert admin["admin"].is_enabled and "disable_staff" not in [a for a, _, _ in actions()]


def test_set_a_new_password(app, client, admin):
    anna = admin["anna"]
    browser = other_client(app, anna)
    refused(client.post(f"/admin/staff/{anna.id}/password", data={"password-password": "sommar2024",
                                                                   "password-confirm": "sommar2024"}),
            "minst 12 tecken")
    assert browser.get("/").status_code == 200  # a refusal ends nothing
    client.post(f"/admin/staff/{anna.id}/password", data={"password-password": NEW_PASSWORD,
                                                           "password-confirm": NEW_PASSWORD})
    db.session.expire_all()
    assert verify_password(anna.password_hash, NEW_PASSWORD)
    assert logged_out(browser.get("/"))
    assert ("admin_set_password", str(anna.id), None) in actions()


def test_reset_the_second_factor(app, client, admin):
    quality = admin["kvalitet"]
    browser = other_client(app, quality)
    assert browser.get("/").status_code == 200
    client.post(f"/admin/staff/{quality.id}/second-factor/reset")
    db.session.expire_all()
    assert quality.totp_secret is None and quality.totp_last_step is None
    assert logged_out(browser.get("/"))
    # At the next login (password only now) the account must enrol again before anything else.
    again = other_client(app, quality, second_factor=False)
    response = again.get("/reports/definitions")
    assert response.status_code == 302 and response.headers["Location"] == "/account/two-factor"
    assert ("admin_reset_second_factor", str(quality.id), None) in actions()


def test_a_quality_groups_report_scope(client, admin):
    quality, d1 = admin["kvalitet"], admin["units"]["A"].district
    client.post(f"/admin/staff/{quality.id}/scope", data={"scope-district": str(d1.id)})
    db.session.expire_all()
    assert quality.scope_district_id == d1.id
    client.post(f"/admin/staff/{quality.id}/scope", data={"scope-district": ""})
    db.session.expire_all()
    assert quality.scope_district_id is None  # the whole city
    refused(client.post(f"/admin/staff/{admin['anna'].id}/scope", data={"scope-district": str(d1.id)}),
            "Bara konton i kvalitetsgruppen har ett rapporturval.")
    assert [a for a, _, _ in actions()] == ["admin_set_report_scope"] * 2


# ---------------------------------------------------------------- memberships


def test_add_and_end_a_membership(client, admin):
    bert, a, b = admin["bert"], admin["units"]["A"], admin["units"]["B"]
    team_a, team_b = factories._add(Team(unit=a, name="Team A")), factories._add(Team(unit=b, name="Team B"))
    factories.commit()
    url = f"/admin/staff/{bert.id}/memberships"
    refused(client.post(url, data={"membership-unit": str(a.id), "membership-team": str(team_b.id),
                                   "membership-valid_from": "2026-01-01"}), "Teamet hör inte till Familjeenheten A.")
    refused(client.post(url, data={"membership-unit": str(a.id), "membership-valid_from": "1 jan"}),
            "Skriv datumet som ÅÅÅÅ-MM-DD.")
    refused(client.post(url, data={"membership-unit": str(b.id), "membership-valid_from": "2026-01-01"}),
            "bert hör redan till Familjeenheten B")
    assert client.post(url, data={"membership-unit": str(a.id), "membership-team": str(team_a.id),
                                  "membership-valid_from": "2026-01-01"}).status_code == 302
    added = db.session.scalar(select(UnitMembership).where(UnitMembership.staff_id == bert.id,
                                                           UnitMembership.unit_id == a.id))
    assert (added.team_id, added.valid_from, added.valid_to) == (team_a.id, date(2026, 1, 1), None)

    end = f"/admin/staff/{bert.id}/memberships/{added.id}/end"
    refused(client.post(end, data={f"end-{added.id}-valid_to": "2025-12-31"}), "Slutdatumet kan inte vara före")
    assert client.post(end, data={f"end-{added.id}-valid_to": "2026-06-30"}).status_code == 302
    refused(client.post(end, data={f"end-{added.id}-valid_to": "2026-07-31"}), "Medlemskapet har redan avslutats.")
    db.session.expire_all()
    assert added.valid_to == date(2026, 6, 30)
    assert [(x, u) for x, _, u in actions()] == [("admin_add_membership", a.id), ("admin_end_membership", a.id)]


def test_a_membership_with_open_cases_is_not_simply_ended(client, admin):
    anna = admin["anna"]
    factories.episode(admin["units"]["A"], anna, ref="KEEP-1")
    factories.commit()
    membership = anna.memberships[0]
    refused(client.post(f"/admin/staff/{anna.id}/memberships/{membership.id}/end",
                        data={f"end-{membership.id}-valid_to": TODAY.isoformat()}), "anna har 1 öppna ärenden")
    db.session.expire_all()
    assert membership.valid_to is None


def test_another_accounts_membership_is_not_found(client, admin):
    membership = admin["arvid"].memberships[0]
    assert client.get(f"/admin/staff/{admin['anna'].id}/memberships/{membership.id}/move").status_code == 404
    assert client.post(f"/admin/staff/{admin['anna'].id}/memberships/{membership.id}/end",
                       data={f"end-{membership.id}-valid_to": "2026-01-01"}).status_code == 404


# ---------------------------------------------------------------- moving to another unit


@pytest.fixture
def cases_of_anna(admin):
    a, b = admin["units"]["A"], admin["units"]["B"]
    open_1 = factories.episode(a, admin["anna"], ref="MOVE-OPEN-1")
    open_2 = factories.episode(a, admin["anna"], ref="MOVE-OPEN-2")
    closed = factories.episode(a, admin["anna"], ref="MOVE-CLOSED", end_date=date(2025, 3, 1))
    elsewhere = factories.episode(b, admin["bert"], ref="MOVE-B")
    factories.commit()
    return {"open": [open_1.id, open_2.id], "closed": closed.id, "elsewhere": elsewhere.id}


def therapists() -> dict[int, int]:
    return dict(db.session.execute(select(Episode.id, Episode.therapist_id)).all())


def test_move_to_another_unit_hands_over_the_open_cases(client, admin, cases_of_anna):
    anna, arvid, a, b = admin["anna"], admin["arvid"], admin["units"]["A"], admin["units"]["B"]
    team_b = factories._add(Team(unit=b, name="Team B"))
    factories.commit()
    old = anna.memberships[0]
    url = f"/admin/staff/{anna.id}/memberships/{old.id}/move"
    page = client.get(url).get_data(as_text=True)
    assert "2 öppna ärenden" in page and "MOVE-" not in page  # counts, never the cases
    receivers = page[page.index('id="receiver"'):]
    receivers = receivers[:receivers.index("</select>")]
    assert f'value="{arvid.id}">arvid<' in receivers and ">anna<" not in receivers and ">chef_a<" not in receivers
    move_day = TODAY + timedelta(days=14)
    response = client.post(url, data={"unit": str(b.id), "team": str(team_b.id), "move_date": move_day.isoformat(),
                                      "receiver": str(arvid.id)})
    assert response.status_code == 302 and response.headers["Location"] == f"/admin/staff/{anna.id}"

    db.session.expire_all()
    owners = therapists()
    assert [owners[i] for i in cases_of_anna["open"]] == [arvid.id, arvid.id]
    assert owners[cases_of_anna["closed"]] == anna.id and owners[cases_of_anna["elsewhere"]] == admin["bert"].id
    # The cases stay in their unit; the history is kept: the old membership ends the day before the move.
    assert set(db.session.scalars(select(Episode.unit_id).where(Episode.id.in_(cases_of_anna["open"])))) == {a.id}
    memberships = [(m.unit_id, m.team_id, m.valid_from, m.valid_to) for m in anna.memberships]
    assert memberships == [(a.id, None, factories.LONG_AGO, move_day - timedelta(days=1)),
                           (b.id, team_b.id, move_day, None)]
    assert sorted(actions()) == sorted([
        ("reassign_episode", str(cases_of_anna["open"][0]), a.id),
        ("reassign_episode", str(cases_of_anna["open"][1]), a.id),
        ("admin_end_membership", str(old.id), a.id),
        ("admin_move_staff", str(anna.memberships[1].id), b.id),
    ])


def test_a_move_without_anybody_to_take_the_cases_is_refused(client, admin, cases_of_anna):
    bert, a = admin["bert"], admin["units"]["A"]
    old = bert.memberships[0]
    url = f"/admin/staff/{bert.id}/memberships/{old.id}/move"
    assert "Ingen annan behandlare hör till Familjeenheten B" in client.get(url).get_data(as_text=True)
    before = table_contents(exclude=())
    html = refused(client.post(url, data={"unit": str(a.id), "move_date": TODAY.isoformat()}),
                   "bert har 1 öppna ärenden i Familjeenheten B och ingen annan behandlare hör till enheten")
    assert "MOVE-B" not in html
    db.session.expire_all()
    assert table_contents(exclude=()) == before


def test_the_receiver_must_be_a_therapist_of_the_old_unit(client, admin, cases_of_anna):
    anna, b = admin["anna"], admin["units"]["B"]
    old = anna.memberships[0]
    url = f"/admin/staff/{anna.id}/memberships/{old.id}/move"
    before = table_contents(exclude=())
    for receiver in (admin["bert"].id, admin["chef_a"].id, anna.id, ""):  # other unit, not a therapist, herself, none
        refused(client.post(url, data={"unit": str(b.id), "move_date": TODAY.isoformat(), "receiver": str(receiver)}),
                "Välj den behandlare på Familjeenheten A som tar över de öppna ärendena.")
    refused(client.post(url, data={"unit": str(admin["units"]["A"].id), "move_date": TODAY.isoformat(),
                                   "receiver": str(admin["arvid"].id)}), "Välj en annan enhet än Familjeenheten A.")
    refused(client.post(url, data={"unit": str(b.id), "move_date": factories.LONG_AGO.isoformat(),
                                   "receiver": str(admin["arvid"].id)}), "Flytten måste komma efter")
    db.session.expire_all()
    assert table_contents(exclude=()) == before


def test_a_move_without_open_cases_needs_no_receiver(client, admin):
    arvid, c = admin["arvid"], admin["units"]["C"]
    old = arvid.memberships[0]
    response = client.post(f"/admin/staff/{arvid.id}/memberships/{old.id}/move",
                           data={"unit": str(c.id), "move_date": TODAY.isoformat()})
    assert response.status_code == 302
    db.session.expire_all()
    assert [m.unit_id for m in arvid.memberships] == [admin["units"]["A"].id, c.id]
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "reassign_episode")) == 0
