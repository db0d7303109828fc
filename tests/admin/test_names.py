"""Codes and names on the administration pages: one rule (fitapp.names), refused with a message, nothing written.

Issue 12, item 7: a code such as =HYPERLINK(...) would become a live formula in
every report file that names it; an identity number in a name would be stored
and shown everywhere, so it is also never shown back on the page.
"""
import pytest

from fitapp.extensions import db
from tests.admin.conftest import sign_in
from tests.security.conftest import table_contents

HYPERLINK = '=HYPERLINK("http://x","y")'
IDENTITY = "Enhet 19121212-1212"


@pytest.fixture
def admin(client, org):
    sign_in(client, org["admin"])
    return org


def refused(response, message: str) -> str:
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Ingenting sparades" in html and message in html, html
    return html


FORMULA = "Får inte börja med =, +, - eller @"
CODE_SHAPE = "Använd bokstäver (a–z, å, ä, ö), siffror, - och _"
IDENTITY_MESSAGE = "Det här ser ut som ett personnummer."


@pytest.mark.parametrize("code, message", [
    (HYPERLINK, FORMULA), ("=1+2", FORMULA), ("@SUM(1,2)", FORMULA), ("+1", FORMULA), ("-1+1", FORMULA),
    (IDENTITY, IDENTITY_MESSAGE), ("19121212-1212", IDENTITY_MESSAGE), ("NY ENHET", CODE_SHAPE), ("U/1", CODE_SHAPE),
])
def test_a_unit_or_district_code_outside_the_rule_is_refused(client, admin, code, message):
    a = admin["units"]["A"]
    before = table_contents(exclude=())
    html = refused(client.post("/admin/organisation/units", data={
        "unit-code": code, "unit-name": "Ny enhet", "unit-district": str(a.district_id)}), message)
    assert "19121212" not in html  # never shown back
    refused(client.post("/admin/organisation/districts", data={"district-code": code, "district-name": "Ny"}),
            message)
    db.session.expire_all()
    assert table_contents(exclude=()) == before  # not even an audit event


@pytest.mark.parametrize("name, message", [
    (HYPERLINK, FORMULA), ("@SUM(1,2)", FORMULA), ("-1+1", FORMULA),
    (IDENTITY, IDENTITY_MESSAGE), ("Norr\u202eroN", "Använd bara skrivbara tecken"),
])
def test_a_name_outside_the_rule_is_refused_everywhere_a_name_is_given(client, admin, name, message):
    a = admin["units"]["A"]
    district = a.district
    before = table_contents(exclude=())
    for url, data in (
        ("/admin/organisation/units", {"unit-code": "NY", "unit-name": name, "unit-district": str(district.id)}),
        ("/admin/organisation/districts", {"district-code": "NY", "district-name": name}),
        (f"/admin/organisation/districts/{district.id}", {"rename-name": name}),
        (f"/admin/organisation/units/{a.id}", {"rename-name": name}),
        (f"/admin/organisation/units/{a.id}/teams", {"team-name": name}),
    ):
        html = refused(client.post(url, data=data), message)
        assert "19121212" not in html, url
    db.session.expire_all()
    assert table_contents(exclude=()) == before


@pytest.mark.parametrize("data, message", [
    ({"code": HYPERLINK, "name": "Ny", "kind": "båda"}, FORMULA),
    ({"code": "-1+1", "name": "Ny", "kind": "båda"}, FORMULA),
    ({"code": "NY", "name": "=1+2", "kind": "båda"}, FORMULA),
    ({"code": "NY", "name": "@SUM(1,2)", "kind": "båda"}, FORMULA),
    ({"code": IDENTITY, "name": "Ny", "kind": "båda"}, "ser ut som ett personnummer"),
    ({"code": "NY", "name": IDENTITY, "kind": "båda"}, "ser ut som ett personnummer"),
])
def test_an_intervention_code_or_name_outside_the_rule_is_refused(client, admin, data, message):
    before = table_contents(exclude=())
    html = refused(client.post("/admin/catalogue", data=data), message)
    assert "19121212" not in html
    db.session.expire_all()
    assert table_contents(exclude=()) == before


def test_renaming_an_intervention_to_a_formula_is_refused(client, admin):
    from tests import factories

    item = factories.intervention("FAMBEH")
    before = table_contents(exclude=())
    refused(client.post(f"/admin/catalogue/{item.id}", data={"name": "+SUM(1)", "kind": "båda"}), FORMULA)
    db.session.expire_all()
    assert table_contents(exclude=()) == before


def test_good_codes_and_names_are_still_accepted(client, admin):
    a = admin["units"]["A"]
    response = client.post("/admin/organisation/units", data={
        "unit-code": "NO-FAM_2", "unit-name": "Familjeenheten Norr – 13-17 år", "unit-district": str(a.district_id)})
    assert response.status_code == 302
    assert client.post("/admin/catalogue", data={"code": "ny-kod", "name": "Ny insats (1:a linjen)",
                                                 "kind": "båda"}).status_code == 302
