"""The administrator's organisation pages: districts, units, teams, team visibility; refusals change nothing."""
from datetime import date

import pytest
from sqlalchemy import select

from fitapp.extensions import db
from fitapp.models import AuditEvent, District, Team, Unit
from tests import factories
from tests.admin.conftest import sign_in
from tests.security.conftest import table_contents


@pytest.fixture
def admin(client, org):
    sign_in(client, org["admin"])
    return org


def actions() -> list[tuple[str, int | None]]:
    return [(e.action, e.unit_id) for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def refused(response, message: str) -> str:
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Ingenting sparades" in html and message in html, html
    return html


def test_create_a_district_a_unit_and_a_team_then_rename_them(client, admin):
    response = client.post("/admin/organisation/districts", data={"district-code": "D3", "district-name": "Väster"})
    district = db.session.scalar(select(District).where(District.code == "D3"))
    assert response.status_code == 302 and response.headers["Location"] == f"/admin/organisation/districts/{district.id}"
    response = client.post("/admin/organisation/units", data={
        "unit-code": "W1", "unit-name": "Familjeenheten Väster", "unit-district": str(district.id)})
    unit = db.session.scalar(select(Unit).where(Unit.code == "W1"))
    assert response.headers["Location"] == f"/admin/organisation/units/{unit.id}"
    assert unit.district_id == district.id and unit.team_cases_visible is False
    client.post(f"/admin/organisation/units/{unit.id}/teams", data={"team-name": "Team Syd"})
    team = db.session.scalar(select(Team).where(Team.unit_id == unit.id))
    assert team.name == "Team Syd"

    client.post(f"/admin/organisation/districts/{district.id}", data={"rename-name": "Förvaltning Väster"})
    client.post(f"/admin/organisation/units/{unit.id}", data={"rename-name": "Familjecentrum Väster"})
    client.post(f"/admin/organisation/teams/{team.id}", data={f"team-{team.id}-name": "Team Nord"})
    db.session.expire_all()
    assert (district.name, unit.name, team.name) == ("Förvaltning Väster", "Familjecentrum Väster", "Team Nord")
    assert actions() == [
        ("admin_create_district", None), ("admin_create_unit", unit.id), ("admin_create_team", unit.id),
        ("admin_rename_district", None), ("admin_rename_unit", unit.id), ("admin_rename_team", unit.id),
    ]
    html = client.get("/admin/organisation").get_data(as_text=True)
    assert "Förvaltning Väster" in html and "Familjecentrum Väster" in html and "Team Nord" in html


def test_duplicates_and_empty_names_are_refused_and_change_nothing(client, admin):
    a = admin["units"]["A"]
    factories.commit()
    before = table_contents(exclude=())
    refused(client.post("/admin/organisation/units", data={
        "unit-code": "a", "unit-name": "Ny", "unit-district": str(a.district_id)}),
        "Det finns redan en enhet med koden a.")
    refused(client.post("/admin/organisation/districts", data={"district-code": "D1", "district-name": "X"}),
            "Det finns redan en förvaltning med koden D1.")
    refused(client.post("/admin/organisation/units", data={"unit-code": "N", "unit-name": " ",
                                                         "unit-district": str(a.district_id)}),
            "Fyll i fältet.")
    refused(client.post("/admin/organisation/units", data={"unit-code": "N", "unit-name": "N", "unit-district": "999"}),
            "Välj ett av alternativen.")
    refused(client.post(f"/admin/organisation/units/{a.id}", data={"rename-name": ""}), "Fyll i fältet.")
    db.session.expire_all()
    assert table_contents(exclude=()) == before  # not even an audit event


def test_a_team_name_is_unique_within_its_unit_only(client, admin):
    a, b = admin["units"]["A"], admin["units"]["B"]
    first = factories._add(Team(unit=a, name="Team 1"))
    second = factories._add(Team(unit=a, name="Team 2"))
    factories.commit()
    refused(client.post(f"/admin/organisation/units/{a.id}/teams", data={"team-name": "team 1"}),
            "Enheten har redan ett team som heter team 1.")
    refused(client.post(f"/admin/organisation/teams/{second.id}", data={f"team-{second.id}-name": "Team 1"}),
            "Enheten har redan ett team som heter Team 1.")
    assert client.post(f"/admin/organisation/units/{b.id}/teams", data={"team-name": "Team 1"}).status_code == 302
    assert client.post(f"/admin/organisation/teams/{first.id}", data={f"team-{first.id}-name": "Team 1"}).status_code == 302
    assert sorted(db.session.scalars(select(Team.name).where(Team.unit_id == b.id))) == ["Team 1"]


def test_team_cases_visibility_is_the_units_choice(client, admin):
    a = admin["units"]["A"]
    client.post(f"/admin/organisation/units/{a.id}/team-cases", data={"visibility-visible": "on"})
    db.session.expire_all()
    assert a.team_cases_visible is True
    assert 'selected value="on"' in client.get(f"/admin/organisation/units/{a.id}").get_data(as_text=True)
    client.post(f"/admin/organisation/units/{a.id}/team-cases", data={"visibility-visible": "off"})
    db.session.expire_all()
    assert a.team_cases_visible is False
    refused(client.post(f"/admin/organisation/units/{a.id}/team-cases", data={"visibility-visible": "maybe"}),
            "Välj ett av alternativen.")
    assert actions() == [("admin_team_cases_on", a.id), ("admin_team_cases_off", a.id)]


def test_only_unused_rows_can_be_deleted(client, admin):
    a, b = admin["units"]["A"], admin["units"]["B"]
    factories.episode(b, admin["bert"], ref="DEL-1")
    empty_unit = factories.unit(a.district, "EMPTY", "Tom enhet")
    empty_district = factories.district("D9", "Tom förvaltning")
    used_team, unused_team = factories._add(Team(unit=a, name="Used")), factories._add(Team(unit=a, name="Unused"))
    admin["anna"].memberships[0].team_id = used_team.id
    factories.commit()

    for url, back in ((f"/admin/organisation/units/{b.id}/delete", f"/admin/organisation/units/{b.id}"),
                      (f"/admin/organisation/districts/{a.district_id}/delete",
                       f"/admin/organisation/districts/{a.district_id}"),
                      (f"/admin/organisation/teams/{used_team.id}/delete", f"/admin/organisation/units/{a.id}")):
        response = client.post(url)
        assert response.status_code == 302 and response.headers["Location"] == back
        assert "används" in client.get(back).get_data(as_text=True)  # the flashed reason
    assert "ärenden" in _flash_after(client, f"/admin/organisation/units/{b.id}/delete")

    gone = {Team: unused_team.id, Unit: empty_unit.id, District: empty_district.id}
    kept = {Unit: b.id, Team: used_team.id, District: a.district_id}
    for url in (f"/admin/organisation/teams/{gone[Team]}/delete", f"/admin/organisation/units/{gone[Unit]}/delete",
                f"/admin/organisation/districts/{gone[District]}/delete"):
        assert client.post(url).status_code == 302
    db.session.expire_all()
    assert all(db.session.get(model, id_) is None for model, id_ in gone.items())
    assert all(db.session.get(model, id_) is not None for model, id_ in kept.items())
    assert [a for a, _ in actions()] == ["admin_delete_team", "admin_delete_unit", "admin_delete_district"]


def _flash_after(client, url: str) -> str:
    response = client.post(url)
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_the_organisation_page_shows_counts_not_cases(client, admin):
    a = admin["units"]["A"]
    factories.episode(a, admin["anna"], ref="SECRET-OPEN")
    factories.episode(a, admin["anna"], ref="SECRET-CLOSED", end_date=date(2025, 3, 1))
    factories.commit()
    html = client.get("/admin/organisation").get_data(as_text=True)
    assert "SECRET" not in html
    row = html[html.index(f'/admin/organisation/units/{a.id}"'):]
    row = row[:row.index("</tr>")]
    # Staff today in A: anna, arvid, chef_a, kvalitet; one open case.
    assert '<td class="num">4</td>' in row and '<td class="num">1</td>' in row
