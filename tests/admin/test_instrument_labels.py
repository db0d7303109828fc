"""Licensed item labels: entered by the administrator, shown wherever items are; "Del N" without them."""
from datetime import date

import pytest
from sqlalchemy import select

from fitapp.extensions import db
from fitapp.models import AuditEvent, InstrumentLabel, Participant
from tests import factories
from tests.admin.conftest import sign_in
from tests.web.conftest import counted_queries

ORS_LABELS = {"ORS_1": "Individuellt", "ORS_2": "Nära relationer", "ORS_3": "Socialt", "ORS_4": "Allmänt"}


def stored_labels() -> dict[tuple[str, int], str]:
    db.session.expire_all()
    return {(row.instrument, row.item): row.label for row in db.session.scalars(select(InstrumentLabel))}


def audit_events() -> list[tuple[str, str]]:
    db.session.expire_all()
    return [(e.action, e.object_id) for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


@pytest.fixture
def admin(client, org):
    sign_in(client, org["admin"])
    return org["admin"]


def test_labels_are_saved_changed_and_removed_with_an_audit_per_item(client, admin):
    assert client.post("/admin/instrument-labels", data=ORS_LABELS).status_code == 302
    assert stored_labels() == {("ORS", 1): "Individuellt", ("ORS", 2): "Nära relationer", ("ORS", 3): "Socialt",
                               ("ORS", 4): "Allmänt"}
    assert audit_events() == [("admin_set_instrument_label", f"ORS/{n}") for n in range(1, 5)]

    html = client.get("/admin/instrument-labels").get_data(as_text=True)
    assert 'value="Nära relationer"' in html

    # Item 2 changed, item 4 emptied (no licensed text), the rest as before.
    client.post("/admin/instrument-labels", data={**ORS_LABELS, "ORS_2": " Relationer ", "ORS_4": ""})
    assert stored_labels() == {("ORS", 1): "Individuellt", ("ORS", 2): "Relationer", ("ORS", 3): "Socialt"}
    assert audit_events()[4:] == [("admin_set_instrument_label", "ORS/2"), ("admin_remove_instrument_label", "ORS/4")]


@pytest.mark.parametrize("text, message", [
    ("Barnet 0501011234", "ser ut som ett personnummer"),
    ("x" * 81, "Högst 80 tecken."),
])
def test_bad_labels_are_refused_and_nothing_changes(client, admin, text, message):
    response = client.post("/admin/instrument-labels", data={**ORS_LABELS, "SRS_3": text})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html and 'href="#SRS_3"' in html
    assert stored_labels() == {} and audit_events() == []


@pytest.fixture
def case(org):
    episode = factories.episode(org["units"]["A"], org["anna"], start_date=date(2025, 1, 13))
    young = factories.participant(episode, "index", birth_year=date.today().year - 15)
    factories.commit()
    return {"episode": episode, "young": young.id}


def save_ors_labels(client, org):
    sign_in(client, org["admin"])
    client.post("/admin/instrument-labels", data=ORS_LABELS)
    sign_in(client, org["anna"])


def hand_over_ors(client, case):
    y = case["young"]
    return client.post(f"/cases/{case['episode'].id}/sessions/new/tablet", data={
        "date": date.today().isoformat(), f"present-{y}": "1", f"outcome-{y}-instrument": "ORS",
        f"alliance-{y}-instrument": "SRS", "tablet": f"outcome-{y}"})


def test_the_tablet_shows_the_licensed_labels(client, org, case):
    save_ors_labels(client, org)
    hand_over_ors(client, case)
    with counted_queries() as statements:
        html = client.get("/tablet").get_data(as_text=True)
    assert '<label class="vas-item__label" id="item-1-label" for="item-1">Individuellt</label>' in html
    assert ">Nära relationer</label>" in html and ">Del 1</label>" not in html
    # One lookup for the four labels of the page.
    assert len([s for s in statements if "instrument_label" in s]) == 1

    response = client.post("/tablet", data={"item-1": "5", "item-2": "", "item-3": "5", "item-4": "5"})
    assert "Nära relationer: markera linjen." in response.get_data(as_text=True)


def test_without_labels_the_tablet_shows_neutral_ones(client, org, case):
    sign_in(client, org["anna"])
    hand_over_ors(client, case)
    html = client.get("/tablet").get_data(as_text=True)
    assert all(f'for="item-{n}">Del {n}</label>' in html for n in range(1, 5))


def test_the_session_form_labels_items_by_the_chosen_form(client, org, case):
    save_ors_labels(client, org)
    html = client.get(f"/cases/{case['episode'].id}/sessions/new").get_data(as_text=True)
    y = case["young"]
    # The young person's outcome form is ORS (by age): licensed labels; their SRS has none: "Del N".
    assert f'for="outcome-{y}-2" data-item="2">Nära relationer</label>' in html
    assert f'for="alliance-{y}-2" data-item="2">Del 2</label>' in html
    # The labels of every form travel with the page, for when another form is chosen (item-labels.js).
    assert "data-item-labels='{" in html and '"ORS": ["Individuellt", "N\\u00e4ra relationer"' in html
    assert 'src="/static/js/item-labels.js"' in html and "<script>" not in html


def test_the_correction_page_labels_the_rating_s_items(client, org, case):
    save_ors_labels(client, org)
    young = db.session.get(Participant, case["young"])
    rating = factories.rating(factories.session(case["episode"], 1), "ORS", young, "20.0")
    factories.commit()
    html = client.get(f"/cases/{case['episode'].id}/ratings/{rating.id}/correct").get_data(as_text=True)
    assert 'for="item-3">Socialt</label>' in html


@pytest.mark.parametrize("who", ["anna", "chef_a", "kvalitet"])
def test_other_roles_are_refused(client, org, who):
    sign_in(client, org[who])
    assert client.get("/admin/instrument-labels").status_code == 403
    assert client.post("/admin/instrument-labels", data=ORS_LABELS).status_code == 403
    assert stored_labels() == {} and audit_events() == []
