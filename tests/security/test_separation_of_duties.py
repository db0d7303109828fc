"""Separation of duties (issue 12 item 2), tried as the administrator would try to get around it.

The administrator cannot open a case to anyone alone: accounts and memberships it makes reach
nothing until a unit head of the unit (or, for a unit without one, a second administrator)
confirms them; a password it resets must be changed before anything else opens, the user is told,
and the account's case access waits for the unit head again; administrators get no clinical role;
the administrator's log review names no case. ASVS 5.0 V8.2 (authorisation), V2.3.5 (multi-user
approval of a sensitive operation), V6.4.x (reset credentials), V16.2.x (the log tells no secrets).
"""
import re
from datetime import date

import pytest
from sqlalchemy import select

from fitapp.extensions import db
from fitapp.models import AuditEvent, Staff, UnitMembership
from fitapp.organisation_time import organisation_today
from tests import factories
from tests.security.conftest import app_rules, rule_path, sign_in, table_contents
from tests.security.test_access_matrix import episode_rules

INITIAL = "ett nytt långt lösenord 7"
RESET = "administratörens lösenord 9"
OWN = "bara jag vet detta 42"
# What a case is called in the log: its pseudonymous references (Ä-…, P-…) and "(id N)" of a case object.
CASE_REFERENCE = re.compile(r"\b(?:Ä|P)-\d{4}\b")


@pytest.fixture
def city(org):
    """The web tests' two districts plus a third (unit E, no unit head), a case in A, C and E each,
    and a second administrator."""
    d3 = factories.district("D3", "Förvaltning Väster")
    org["units"]["E"] = factories.unit(d3, "E", "Familjeenheten E")
    org["emil"] = factories.staff("emil", "therapist", [org["units"]["E"]])
    org["admin2"] = factories.staff("admin2", "admin", [])
    holders = {"A": org["anna"], "C": org["cecilia"], "E": org["emil"]}
    org["cases"] = {}
    for code, holder in holders.items():
        episode = factories.episode(org["units"][code], holder, ref=f"Ä-47{len(org['cases'])}1")
        child = factories.participant(episode, "index", birth_year=2014, ref=f"P-47{len(org['cases'])}1")
        rating = factories.rating(factories.session(episode, 1), "CORS", child, "21.0")
        org["cases"][code] = {"episode_id": episode.id, "rating_id": rating.id, "session_id": rating.session_id}
    factories.commit()
    return org


def _admin_creates(client, username: str, role: str, unit_id: int) -> Staff:
    """Through the administration pages, as the administrator would: the account, then its membership."""
    response = client.post("/admin/staff", data={"new-username": username, "new-role": role,
                                                 "new-password": INITIAL, "new-confirm": INITIAL})
    assert response.status_code == 302, response.get_data(as_text=True)
    staff = db.session.scalar(select(Staff).where(Staff.username == username))
    response = client.post(f"/admin/staff/{staff.id}/memberships",
                           data={"membership-unit": str(unit_id), "membership-valid_from": "2020-01-01"})
    assert response.status_code == 302
    return staff


def _statuses(app, client, case: dict) -> set[int]:
    """The statuses of every GET route of one case."""
    return {client.get(rule_path(rule, case)).status_code for rule in episode_rules(app)
            if "GET" in rule.methods and rule.arguments <= set(case)}


def _membership(staff: Staff) -> UnitMembership:
    db.session.expire_all()
    return db.session.scalar(select(UnitMembership).where(UnitMembership.staff_id == staff.id))


def _actions(action: str) -> list[tuple]:
    return list(db.session.execute(select(AuditEvent.actor_name, AuditEvent.object_id)
                                   .where(AuditEvent.action == action)))


def test_what_the_administrator_creates_reaches_no_case_until_the_units_head_confirms(app, client, city):
    """A therapist in A and unit heads in A, C and E (three districts): none of them reaches a case,
    on any route, until confirmed; the head of A confirms A's, a second administrator C's and E's."""
    units = city["units"]
    sign_in(client, city["admin"])
    made = {"t_new": ("A", _admin_creates(client, "t_new", "therapist", units["A"].id)),
            "h_a": ("A", _admin_creates(client, "h_a", "unit_head", units["A"].id)),
            "h_c": ("C", _admin_creates(client, "h_c", "unit_head", units["C"].id)),
            "h_e": ("E", _admin_creates(client, "h_e", "unit_head", units["E"].id))}
    # The new therapist holds a case of A, as a reassignment would give one.
    episode_of_t = factories.episode(units["A"], made["t_new"][1], ref="Ä-4799")
    factories.commit()
    t_case = {"episode_id": episode_of_t.id}
    for name, (code, staff) in made.items():
        sign_in(client, staff)
        case = t_case if name == "t_new" else city["cases"][code]
        assert _statuses(app, client, case) == {404}, name
        assert not CASE_REFERENCE.search(client.get("/").get_data(as_text=True)), name

    # The head of A confirms A's two; the new head of A is still pending, so confirms nothing.
    sign_in(client, made["h_a"][1])
    assert client.post(f"/confirmations/{_membership(made['t_new'][1]).id}/confirm").status_code == 404
    sign_in(client, city["chef_a"])
    page = client.get("/confirmations/").get_data(as_text=True)
    assert "t_new" in page and "h_a" in page and "h_c" not in page and "h_e" not in page
    for name in ("t_new", "h_a"):
        assert client.post(f"/confirmations/{_membership(made[name][1]).id}/confirm").status_code == 303
    # ... but not C's: another unit (another district) is not theirs, and is not even revealed.
    assert client.post(f"/confirmations/{_membership(made['h_c'][1]).id}/confirm").status_code == 404

    # C and E have no unit head: the administrator who made the change cannot confirm it ...
    sign_in(client, city["admin"])
    assert "h_c" not in client.get("/confirmations/").get_data(as_text=True)
    before = table_contents()
    client.post(f"/confirmations/{_membership(made['h_c'][1]).id}/confirm")
    db.session.expire_all()
    assert table_contents() == before
    # ... a second administrator can.
    sign_in(client, city["admin2"])
    assert "h_c" in client.get("/confirmations/").get_data(as_text=True)
    assert client.post(f"/confirmations/{_membership(made['h_c'][1]).id}/confirm").status_code == 303

    for name, expected in (("t_new", 200), ("h_a", 200), ("h_c", 200), ("h_e", 404)):
        code, staff = made[name]
        sign_in(client, staff)
        case = t_case if name == "t_new" else city["cases"][code]
        assert 200 in _statuses(app, client, case) if expected == 200 else _statuses(app, client, case) == {404}
    confirmed = _actions("confirm_membership")
    assert sorted(actor for actor, _id in confirmed) == ["admin2", "chef_a", "chef_a"]


def test_a_second_administrator_cannot_confirm_where_the_unit_has_a_head(client, city):
    sign_in(client, city["admin"])
    staff = _admin_creates(client, "t_new", "therapist", city["units"]["A"].id)
    sign_in(client, city["admin2"])
    assert "t_new" not in client.get("/confirmations/").get_data(as_text=True)
    client.post(f"/confirmations/{_membership(staff).id}/confirm")
    assert not _membership(staff).is_confirmed


def test_refusing_removes_the_membership_and_is_audited(client, city):
    sign_in(client, city["admin"])
    staff = _admin_creates(client, "t_new", "therapist", city["units"]["A"].id)
    membership_id = _membership(staff).id
    sign_in(client, city["chef_a"])
    assert client.post(f"/confirmations/{membership_id}/refuse").status_code == 303
    assert _membership(staff) is None
    assert _actions("refuse_membership") == [("chef_a", str(membership_id))]


def test_the_unit_head_sees_the_number_waiting(client, city):
    sign_in(client, city["admin"])
    _admin_creates(client, "t_new", "therapist", city["units"]["A"].id)
    sign_in(client, city["chef_a"])
    header = client.get("/").get_data(as_text=True)
    assert re.search(r'href="/confirmations/">[^<]*<span class="site-header__count">1</span>', header)


def _log_in(client, username: str, password: str):
    return client.post("/login", data={"username": username, "password": password})


def test_a_password_reset_forces_a_change_tells_the_user_and_gives_the_administrator_no_case(app, client, city):
    anna, case = city["anna"], city["cases"]["A"]
    sign_in(client, city["admin"])
    client.post(f"/admin/staff/{anna.id}/password", data={"password-password": RESET, "password-confirm": RESET})

    # The administrator logs in as anna with the password it set: only the change page opens ...
    client.post("/logout")
    assert _log_in(client, "anna", RESET).status_code == 302
    for path in ("/", f"/cases/{case['episode_id']}", "/account/two-factor", "/reports/"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith("/account/password"), path
    page = client.get("/account/password").get_data(as_text=True)
    # ... and it says who reset the password: the real user, logging in with it, is told.
    assert 'id="password-reset-notice"' in page and "(admin)" in page
    # Keeping the administrator's password is refused.
    kept = client.post("/account/password", data={"current_password": RESET, "new_password": RESET,
                                                   "confirm": RESET})
    assert kept.status_code == 422
    assert client.get("/").status_code == 302
    # After a change, the one who changed it knows the password, but no case opens until the unit
    # head has confirmed anna again: the administrator got nothing from the reset.
    changed = client.post("/account/password", data={"current_password": RESET, "new_password": OWN,
                                                      "confirm": OWN})
    assert changed.status_code == 302
    assert _statuses(app, client, case) == {404}
    sign_in(client, city["chef_a"])
    page = client.get("/confirmations/").get_data(as_text=True)
    assert "anna" in page
    client.post(f"/confirmations/{_membership(anna).id}/confirm")
    sign_in(client, anna)
    assert 200 in _statuses(app, client, case)


def test_the_administrator_cannot_confirm_the_access_of_a_reset_account_of_a_unit_without_head(client, city):
    cecilia = city["cecilia"]
    sign_in(client, city["admin"])
    client.post(f"/admin/staff/{cecilia.id}/password", data={"password-password": RESET,
                                                             "password-confirm": RESET})
    membership = _membership(cecilia)
    assert not membership.is_confirmed and membership.pending_reason == "password_reset"
    client.post(f"/confirmations/{membership.id}/confirm")
    assert not _membership(cecilia).is_confirmed


def test_the_administration_gives_no_administrator_a_clinical_role(client, city):
    admin2, anna = city["admin2"], city["anna"]
    sign_in(client, city["admin"])
    before = table_contents()
    refusals = [
        client.post(f"/admin/staff/{admin2.id}/role", data={"role-role": "unit_head"}),
        client.post(f"/admin/staff/{admin2.id}/role", data={"role-role": "therapist"}),
        client.post(f"/admin/staff/{anna.id}/role", data={"role-role": "admin"}),
        client.post(f"/admin/staff/{admin2.id}/memberships",
                    data={"membership-unit": str(city["units"]["A"].id), "membership-valid_from": "2020-01-01"}),
        client.post("/admin/staff", data={"new-username": "admin3", "new-role": "admin",
                                          "new-password": INITIAL, "new-confirm": INITIAL}),
    ]
    assert [r.status_code for r in refusals] == [422] * 5
    db.session.expire_all()
    assert table_contents() == before
    assert "administratör" not in client.get("/admin/staff").get_data(as_text=True).split('id="new-account"')[1]


def test_a_role_change_to_a_case_role_waits_for_the_unit_head(app, client, city):
    kvalitet = city["kvalitet"]  # a member of A, seeing aggregates only
    sign_in(client, city["admin"])
    client.post(f"/admin/staff/{kvalitet.id}/role", data={"role-role": "unit_head"})
    db.session.expire_all()
    assert kvalitet.role == "unit_head"
    sign_in(client, kvalitet)
    assert _statuses(app, client, city["cases"]["A"]) == {404}


def test_the_administrators_log_review_names_no_case_the_unit_heads_does(app, client, city):
    case = city["cases"]["A"]
    sign_in(client, city["anna"])
    assert client.get(f"/cases/{case['episode_id']}").status_code == 200
    month = organisation_today().strftime("%Y-%m")
    unit_a = city["units"]["A"].id
    sign_in(client, city["admin"])
    html = client.get(f"/log-review/?unit={unit_a}&month={month}").get_data(as_text=True)
    assert "anna" in html  # who, and what kind of access, are there
    assert not CASE_REFERENCE.search(html)
    assert f"(id {case['episode_id']})" not in html
    whole = client.get(f"/log-review/?unit=all&month={month}").get_data(as_text=True)
    assert "anna" in whole and not CASE_REFERENCE.search(whole)
    sign_in(client, city["chef_a"])
    html = client.get(f"/log-review/?unit={unit_a}&month={month}").get_data(as_text=True)
    assert CASE_REFERENCE.search(html).group() == "Ä-4701"


CONFIRMATION_ROUTES = "confirmations."


def _confirmation_rules(app):
    rules = [rule for rule in app_rules(app) if rule.endpoint.startswith(CONFIRMATION_ROUTES)]
    assert {rule.endpoint for rule in rules} == {"confirmations.index", "confirmations.confirm",
                                                 "confirmations.refuse"}
    return rules


@pytest.mark.parametrize("who", ["anna", "kvalitet", "cecilia"])
def test_the_confirmation_routes_refuse_roles_that_confirm_nothing(app, client, city, who):
    sign_in(client, city["admin"])
    staff = _admin_creates(client, "t_new", "therapist", city["units"]["A"].id)
    ids = {"membership_id": _membership(staff).id}
    before = table_contents()
    sign_in(client, city[who])
    statuses = {(rule.rule, method): client.open(rule_path(rule, ids), method=method).status_code
                for rule in _confirmation_rules(app) for method in sorted(rule.methods & {"GET", "POST"})}
    db.session.expire_all()
    assert set(statuses.values()) == {403}, statuses
    assert table_contents() == before


def test_a_unit_head_of_another_unit_finds_nothing(app, client, city):
    chef_b = factories.staff("chef_b", "unit_head", [city["units"]["B"]])
    factories.commit()
    sign_in(client, city["admin"])
    staff = _admin_creates(client, "t_new", "therapist", city["units"]["A"].id)
    membership_id = _membership(staff).id
    sign_in(client, chef_b)
    assert "t_new" not in client.get("/confirmations/").get_data(as_text=True)
    assert client.post(f"/confirmations/{membership_id}/confirm").status_code == 404
    assert client.post(f"/confirmations/{membership_id}/refuse").status_code == 404
    assert not _membership(staff).is_confirmed


def test_nobody_confirms_their_own_access(client, city):
    """A unit head whose password was reset (their membership pending again) cannot confirm it themselves."""
    chef_a = city["chef_a"]
    sign_in(client, city["admin"])
    client.post(f"/admin/staff/{chef_a.id}/password", data={"password-password": RESET,
                                                            "password-confirm": RESET})
    db.session.expire_all()
    chef_a.must_change_password = False  # as if changed: the gate is tested above
    factories.commit()
    sign_in(client, chef_a)
    assert "chef_a" not in client.get("/confirmations/").get_data(as_text=True).split("<main")[1]
    client.post(f"/confirmations/{_membership(chef_a).id}/confirm")
    assert not _membership(chef_a).is_confirmed
    # Unit A now has no confirmed unit head: a second administrator confirms.
    sign_in(client, city["admin2"])
    client.post(f"/confirmations/{_membership(chef_a).id}/confirm")
    assert _membership(chef_a).is_confirmed


def test_ended_memberships_wait_for_nobody(client, city):
    sign_in(client, city["admin"])
    staff = _admin_creates(client, "t_old", "therapist", city["units"]["A"].id)
    membership = _membership(staff)
    membership.valid_to = date(2020, 6, 30)
    factories.commit()
    sign_in(client, city["chef_a"])
    assert "t_old" not in client.get("/confirmations/").get_data(as_text=True)


# ---------------------------------------------------------------- the command line


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_create_staff_on_the_command_line_waits_too_and_confirm_access_starts_a_unit(app, client, city):
    """A unit nobody heads (E): its first unit head is made and confirmed on the command line, both audited as cli."""
    made = _cli(app, "create-staff", "h_e", "--role", "unit_head", "--unit", "E", "--password", INITIAL)
    assert made.exit_code == 0, made.output
    h_e = db.session.scalar(select(Staff).where(Staff.username == "h_e"))
    sign_in(client, h_e)
    assert _statuses(app, client, city["cases"]["E"]) == {404}
    confirmed = _cli(app, "confirm-access", "h_e")
    assert confirmed.exit_code == 0 and "Confirmed h_e in E" in confirmed.output
    assert _actions("confirm_membership") == [("cli", str(_membership(h_e).id))]
    assert 200 in _statuses(app, client, city["cases"]["E"])
    # Nothing left to confirm, or an unknown account: one line, exit 1.
    again = _cli(app, "confirm-access", "h_e")
    assert again.exit_code == 1 and "no membership" in again.output
    assert _cli(app, "confirm-access", "nobody").exit_code == 1


def test_an_administrator_account_is_made_on_the_command_line_only_and_without_units(app, city):
    with_unit = _cli(app, "create-staff", "admin3", "--role", "admin", "--unit", "A", "--password", INITIAL)
    assert with_unit.exit_code == 1 and "no clinical role" in with_unit.output
    assert _cli(app, "create-staff", "admin3", "--role", "admin", "--password", INITIAL).exit_code == 0


# ---------------------------------------------------------------- the migration


@pytest.fixture
def database_at_0009(backend, request, tmp_path):
    from tests.own_database import app_at_revision

    with app_at_revision("0009", backend, request, tmp_path) as app:
        yield app


def test_the_migration_confirms_every_stored_membership(database_at_0009):
    """Running units keep working: what was in force before the upgrade is confirmed by it."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO district (id, code, name) VALUES (1, 'D1', 'Förvaltning 1')"))
        conn.execute(text("INSERT INTO unit (id, district_id, code, name) VALUES (1, 1, 'A', 'Enhet A')"))
        for staff_id, role in ((1, "therapist"), (2, "unit_head")):
            conn.execute(text("INSERT INTO staff (id, username, role, is_enabled, created_at) "
                              "VALUES (:id, :name, :role, :on, CURRENT_TIMESTAMP)"),
                         {"id": staff_id, "name": f"s{staff_id}", "role": role, "on": True})
            conn.execute(text("INSERT INTO unit_membership (staff_id, unit_id, valid_from) "
                              "VALUES (:id, 1, '2020-01-01')"), {"id": staff_id})
    upgrade()
    memberships = db.session.scalars(select(UnitMembership).order_by(UnitMembership.id)).all()
    assert len(memberships) == 2 and all(m.is_confirmed for m in memberships)
    assert all(m.confirmed_by_id is None and m.pending_reason is None for m in memberships)
    assert {s.must_change_password for s in db.session.scalars(select(Staff))} == {False}
    assert db.session.get(Staff, 1).unit_ids_on(date(2025, 1, 1)) == {1}


def test_no_administrator_sets_another_administrators_password_on_the_page(app, client, city):
    """Else one administrator could log in as the second one and confirm its own change."""
    admin2 = city["admin2"]
    sign_in(client, city["admin"])
    before = table_contents()
    response = client.post(f"/admin/staff/{admin2.id}/password",
                           data={"password-password": RESET, "password-confirm": RESET})
    assert response.status_code == 422 and "flask set-password" in response.get_data(as_text=True)
    db.session.expire_all()
    assert table_contents() == before
    # On the command line it works, audited as cli, and forces a change at the next login.
    done = _cli(app, "set-password", "admin2", "--password", RESET)
    assert done.exit_code == 0, done.output
    db.session.expire_all()
    assert admin2.must_change_password and admin2.password_reset_by_id is None
    assert _actions("admin_set_password") == [("cli", str(admin2.id))]
    assert _cli(app, "set-password", "admin2", "--password", "kort").exit_code == 1
