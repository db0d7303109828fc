"""The retention page: only for administrators, counts without identities, audited changes and runs."""
import re
from datetime import date

import pytest
from sqlalchemy import select

from fitapp import retention
from fitapp.extensions import db
from fitapp.models import AuditEvent, Episode
from tests import factories
from tests.admin.conftest import sign_in
from tests.security.conftest import table_contents
from tests.test_retention import case

PAGES = (("GET", "/admin/retention"), ("POST", "/admin/retention/policy"), ("POST", "/admin/retention/run"))


@pytest.fixture
def due(org):
    """A closed case of unit A whose period ran out long ago, and an open one of unit A with no recent entry."""
    place = {"unit": org["units"]["A"], "therapist": org["anna"]}
    episode = case(place)
    case(place, end=None)
    factories.commit()
    return {"episode_id": episode.id, "refs": [episode.ref] + [p.person.ref for p in episode.participants]}


def actions() -> list[tuple[str, str | None]]:
    return db.session.execute(select(AuditEvent.action, AuditEvent.actor_name).order_by(AuditEvent.id)).all()


@pytest.mark.parametrize("who", ["anna", "chef_a", "kvalitet"])
def test_only_administrators_get_in(client, org, due, who):
    sign_in(client, org[who])
    before = table_contents()
    for method, path in PAGES:
        assert client.open(path, method=method, data={"years": "7", "confirm": "y"}).status_code == 403, path
    db.session.expire_all()
    assert table_contents() == before


def test_anonymous_users_are_sent_to_log_in(client, due):
    for method, path in PAGES:
        response = client.open(path, method=method)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), path


def test_the_page_shows_the_period_and_the_preview_counts_without_identities(client, org, due):
    sign_in(client, org["admin"])
    before = table_contents(exclude=())
    response = client.get("/admin/retention")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>Gallring</h1>" in html
    assert "Gäller: 5 år." in html
    # The unit's row: 1 case deleted, 0 kept, 2 sessions, 4 ratings, 2 persons, 1 overdue.
    cells = "".join(f"<td>{n}</td>" for n in (1, 0, 2, 4, 2, 1))
    assert f"FamiljeenhetenA(A)</th>{cells}" in re.sub(r"\s+", "", html)
    assert "öppna ärende(n) utan anteckning på mer än 5 år" in html
    assert "Försenat" in html  # overdue
    assert not [ref for ref in due["refs"] if ref in html]
    db.session.expire_all()
    assert table_contents(exclude=()) == before  # the preview writes nothing, not even to the audit log


def test_changing_the_period_is_audited_and_shown_in_the_history(client, org):
    sign_in(client, org["admin"])
    response = client.post("/admin/retention/policy", data={"years": " 07 "}, follow_redirects=True)
    assert "Gallringstiden är nu 7 år." in response.get_data(as_text=True)
    assert retention.years_in_force() == 7
    assert actions() == [("retention_policy_change", "admin")]
    html = client.get("/admin/retention").get_data(as_text=True)
    assert "Gäller: 7 år." in html and "<td>7</td><td>admin</td>" in html


@pytest.mark.parametrize(("years", "message"), [
    ("0", "Gallringstiden måste vara minst 1 år."),
    ("51", "51 år är inte en rimlig gallringstid"),
    ("fem", "Ange gallringstiden som ett helt antal år"),
    ("", "Ange gallringstiden som ett helt antal år"),
    ("-3", "Ange gallringstiden som ett helt antal år"),
    ("²", "Ange gallringstiden som ett helt antal år"),
])
def test_silly_periods_are_refused_with_a_clear_message(client, org, years, message):
    sign_in(client, org["admin"])
    response = client.post("/admin/retention/policy", data={"years": years})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert retention.years_in_force() == 5 and actions() == []


def test_the_run_needs_the_confirmation(client, org, due):
    sign_in(client, org["admin"])
    before = table_contents(exclude=())
    response = client.post("/admin/retention/run", data={})
    assert response.status_code == 422
    assert "Kryssa i rutan för att bekräfta gallringen" in response.get_data(as_text=True)
    db.session.expire_all()
    assert table_contents(exclude=()) == before


def test_the_confirmed_run_deletes_with_the_administrator_as_actor(client, org, due):
    sign_in(client, org["admin"])
    response = client.post("/admin/retention/run", data={"confirm": "y"}, follow_redirects=True)
    assert response.status_code == 200
    assert "1 ärenden gallrade" in response.get_data(as_text=True)
    assert db.session.get(Episode, due["episode_id"]) is None
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor_id, e.actor_name) for e in events] == [
        ("retention_delete_episode", org["admin"].id, "admin"), ("retention_run", org["admin"].id, "admin")]
    assert retention.plan(date.today()).total.is_empty
