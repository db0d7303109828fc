"""Role × unit × district: every route of one episode refuses everybody but its owner and unit head.

The routes are found in the URL map (any rule with an ``episode_id``), so a new
object route is covered as soon as it exists. ASVS 5.0 V8.2.2 (object level) and
V8.4.1 (tenant isolation: a district's person-level data never reaches another district).
"""
import pytest

from fitapp.extensions import db
from tests import factories
from tests.security.conftest import app_rules, rule_path, sign_in, table_contents

# Who, and what they must get on every route of an episode of therapist anna in unit A (district D1).
INTRUDERS = {
    "arvid": {404},            # therapist, same unit, not responsible for the case
    "bert": {404},             # therapist, another unit of the same district
    "cecilia": {404},          # therapist, another district
    "chef_b": {403, 404},      # unit head of another unit of the same district
    "chef_c": {403, 404},      # unit head in another district
    "kvalitet": {403},         # quality group: aggregates only, never person-level data
    "admin": {403},            # administrator: no clinical data
}
KNOWN_IDS = {"episode_id", "rating_id", "session_id"}


@pytest.fixture
def people(org):
    org["chef_b"] = factories.staff("chef_b", "unit_head", [org["units"]["B"]])
    org["chef_c"] = factories.staff("chef_c", "unit_head", [org["units"]["C"]])
    factories.commit()
    return org


def episode_rules(app):
    rules = [rule for rule in app_rules(app) if "episode_id" in rule.arguments]
    assert len(rules) >= 8, "expected the case page and the workflow routes"
    return rules


@pytest.mark.parametrize("who", list(INTRUDERS))
def test_intruders_are_refused_on_every_episode_route(app, client, people, case, who):
    before = table_contents()
    sign_in(client, people[who])
    wrong = []
    for rule in episode_rules(app):
        path = rule_path(rule, case)
        for method in sorted(rule.methods & {"GET", "POST"}):
            status = client.open(path, method=method, data={"reason": "duplicate"}).status_code
            allowed = INTRUDERS[who] if rule.arguments <= KNOWN_IDS else INTRUDERS[who] | {404}
            if status not in allowed:
                wrong.append((method, rule.rule, status))
    db.session.expire_all()
    assert wrong == []
    assert table_contents() == before  # a refusal writes nothing


def test_the_owner_and_the_unit_head_get_in(app, client, people, case):
    """The other side of the matrix: each GET route opens for the therapist or the unit head of the case."""
    statuses = {}
    for who in ("anna", "chef_a"):
        sign_in(client, people[who])
        for rule in episode_rules(app):
            if "GET" in rule.methods and rule.arguments <= KNOWN_IDS:
                statuses.setdefault(rule.rule, {})[who] = client.get(rule_path(rule, case)).status_code
    assert statuses and all(200 in by_who.values() for by_who in statuses.values()), statuses
    assert statuses["/cases/<int:episode_id>"] == {"anna": 200, "chef_a": 200}


def test_ids_of_another_district_are_not_found(client, people, case):
    """A unit head of district 2 probing district 1's ids sees the same 404 as for a missing id."""
    sign_in(client, people["chef_c"])
    assert client.get(f"/cases/{case['episode_id']}").status_code == 404
    assert client.get("/cases/999999").status_code == 404
