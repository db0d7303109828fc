"""The intervention catalogue: add, rename, deactivate and reactivate, delete only when unused; admins only."""
import pytest
from sqlalchemy import func, select

from fitapp.extensions import db
from fitapp.models import AuditEvent, Intervention
from tests import factories
from tests.admin.conftest import sign_in


def intervention(code: str) -> Intervention | None:
    db.session.expire_all()
    return db.session.scalar(select(Intervention).where(Intervention.code == code))


def audit_actions() -> list[tuple[str, str | None]]:
    db.session.expire_all()
    return [(e.action, e.object_id) for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def catalogue_size() -> int:
    return db.session.scalar(select(func.count()).select_from(Intervention))


@pytest.fixture
def admin(client, org):
    sign_in(client, org["admin"])
    return org["admin"]


def test_the_list_shows_the_catalogue_in_swedish(client, admin):
    html = client.get("/admin/catalogue").get_data(as_text=True)
    assert "Insatser" in html and "FAMBEH" in html and "Familjebehandling" in html
    assert "Lägg till insatsen" in html


def test_adding_an_intervention_is_audited(client, admin):
    response = client.post("/admin/catalogue", data={"code": "mst-2", "name": "Multisystemisk terapi 2",
                                                     "kind": "bistånd"})
    assert response.status_code == 302
    added = intervention("MST-2")  # codes are kept in capitals
    assert (added.name, added.kind, added.is_active) == ("Multisystemisk terapi 2", "bistånd", True)
    assert audit_actions() == [("admin_add_intervention", str(added.id))]


@pytest.mark.parametrize("data, field, message", [
    ({"code": "FAMBEH", "name": "Ny", "kind": "båda"}, "code", "Koden FAMBEH finns redan i katalogen."),
    ({"code": "fambeh", "name": "Ny", "kind": "båda"}, "code", "Koden FAMBEH finns redan i katalogen."),
    ({"code": "NY KOD", "name": "Ny", "kind": "båda"}, "code", "Använd versaler, siffror"),
    ({"code": "NY", "name": "", "kind": "båda"}, "name", "Fyll i fältet."),
    ({"code": "NY", "name": "Barn 19850101-1234", "kind": "båda"}, "name", "ser ut som ett personnummer"),
    ({"code": "NY", "name": "Ny", "kind": "okänd"}, "kind", "Välj ett av alternativen."),
    ({"code": "NY", "name": "x" * 201, "kind": "båda"}, "name", "Högst 200 tecken."),
])
def test_bad_input_is_refused_with_a_message_and_nothing_changes(client, admin, data, field, message):
    before = catalogue_size()
    response = client.post("/admin/catalogue", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html and f'href="#{field}"' in html
    assert catalogue_size() == before and audit_actions() == []


def test_renaming_changes_the_name_and_kind_not_the_code(client, admin):
    item = factories.intervention("FAMBEH")
    response = client.post(f"/admin/catalogue/{item.id}", data={"name": "Familjebehandling (FB)", "kind": "service"})
    assert response.status_code == 302
    renamed = intervention("FAMBEH")
    assert (renamed.name, renamed.kind) == ("Familjebehandling (FB)", "service")
    assert audit_actions() == [("admin_update_intervention", str(item.id))]
    # The same values again: nothing to change, nothing audited.
    client.post(f"/admin/catalogue/{item.id}", data={"name": "Familjebehandling (FB)", "kind": "service"})
    assert len(audit_actions()) == 1


def test_an_inactive_intervention_is_not_offered_but_stays_on_old_cases(client, admin, org):
    item = factories.intervention("FAMBEH")
    episode = factories.episode(org["units"]["A"], org["anna"], ref="KAT-1")
    factories.commit()
    assert client.post(f"/admin/catalogue/{item.id}/deactivate").status_code == 302
    assert intervention("FAMBEH").is_active is False

    sign_in(client, org["anna"])
    assert "Familjebehandling</option>" not in client.get("/cases/new").get_data(as_text=True)
    assert "Familjebehandling" in client.get(f"/cases/{episode.id}").get_data(as_text=True)

    sign_in(client, org["admin"])
    assert client.post(f"/admin/catalogue/{item.id}/reactivate").status_code == 302
    sign_in(client, org["anna"])
    assert "Familjebehandling</option>" in client.get("/cases/new").get_data(as_text=True)
    assert [a for a, _ in audit_actions() if a.startswith("admin_")] == [
        "admin_deactivate_intervention", "admin_reactivate_intervention"]


def test_an_unused_intervention_can_be_deleted_a_used_one_cannot(client, admin, org):
    used = factories.intervention("FAMBEH")
    factories.episode(org["units"]["A"], org["anna"])
    unused = factories.intervention("FAMPED")
    factories.commit()
    unused_id = unused.id

    response = client.post(f"/admin/catalogue/{used.id}/delete", follow_redirects=True)
    assert "FAMBEH används av ärenden och kan inte tas bort" in response.get_data(as_text=True)
    assert intervention("FAMBEH") is not None

    assert client.post(f"/admin/catalogue/{unused_id}/delete").status_code == 302
    assert intervention("FAMPED") is None
    assert audit_actions() == [("admin_delete_intervention", str(unused_id))]


def test_unknown_ids_are_not_found(client, admin):
    assert client.get("/admin/catalogue/999999").status_code == 404
    assert client.post("/admin/catalogue/999999/deactivate").status_code == 404


@pytest.mark.parametrize("who", ["anna", "chef_a", "kvalitet"])
def test_other_roles_are_refused(client, org, who):
    item = factories.intervention("FAMBEH")
    sign_in(client, org[who])
    for method, path in [("GET", "/admin/catalogue"), ("POST", "/admin/catalogue"),
                         ("GET", f"/admin/catalogue/{item.id}"), ("POST", f"/admin/catalogue/{item.id}"),
                         ("POST", f"/admin/catalogue/{item.id}/deactivate"),
                         ("POST", f"/admin/catalogue/{item.id}/reactivate"),
                         ("POST", f"/admin/catalogue/{item.id}/delete")]:
        response = client.open(path, method=method, data={"code": "X", "name": "X", "kind": "båda"})
        assert response.status_code == 403, (method, path)
    assert intervention("FAMBEH").is_active and intervention("X") is None and audit_actions() == []
