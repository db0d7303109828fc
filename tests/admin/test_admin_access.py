"""Only the administrator reaches the administration, and it never shows a case."""
from datetime import date

import pytest

from fitapp.extensions import db
from fitapp.models import Team
from tests import factories
from tests.admin.conftest import sign_in
from tests.security.conftest import app_rules, rule_path, table_contents

MY_SECTIONS = ("admin.organisation", "admin.staff_list")


def admin_rules(app):
    rules = [rule for rule in app_rules(app) if rule.rule.startswith("/admin")]
    assert {"admin.index", *MY_SECTIONS} <= {rule.endpoint for rule in rules}
    return rules


@pytest.fixture
def ids(org):
    a = org["units"]["A"]
    team = factories._add(Team(unit=a, name="Team A"))
    episode = factories.episode(a, org["anna"], ref="ADM-SECRET-1")
    person = factories.participant(episode, "index", birth_year=2014, ref="P-ADM-SECRET")
    factories.rating(factories.session(episode, 1), "CORS", person, "20.0")
    factories.episode(a, org["anna"], ref="ADM-SECRET-2", end_date=date(2025, 3, 1))
    factories.commit()
    return {"unit_id": a.id, "district_id": a.district_id, "team_id": team.id, "staff_id": org["anna"].id,
            "membership_id": org["anna"].memberships[0].id}


@pytest.mark.parametrize("who", ["anna", "chef_a", "kvalitet"])
def test_other_roles_get_403_on_every_admin_page(app, client, org, ids, who):
    before = table_contents()
    sign_in(client, org[who])
    wrong = []
    for rule in admin_rules(app):
        for method in sorted(rule.methods & {"GET", "POST"}):
            status = client.open(rule_path(rule, ids), method=method, data={"rename-name": "x"}).status_code
            if status != 403:
                wrong.append((method, rule.rule, status))
    db.session.expire_all()
    assert wrong == []
    assert table_contents() == before


def test_admin_pages_show_no_case_or_person_reference(app, client, org, ids):
    sign_in(client, org["admin"])
    pages = {}
    for rule in admin_rules(app):
        if "GET" in rule.methods:
            response = client.get(rule_path(rule, ids))
            pages[rule.rule] = response.status_code
            assert "ADM-SECRET" not in response.get_data(as_text=True), rule.rule
    mine = [r for r in pages if r.startswith(("/admin/organisation", "/admin/staff"))]
    assert len(mine) >= 6 and all(pages[r] == 200 for r in mine), pages


def test_admin_pages_are_listed_on_the_start_page(client, org):
    sign_in(client, org["admin"])
    html = client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/organisation"' in html and 'href="/admin/staff"' in html
