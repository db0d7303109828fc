"""Role × unit × district × date: every route of one episode refuses everybody but its therapist and
unit head, and those only while they belong to its unit (today, on the organisation's clock, by a confirmed membership).

The routes are found in the URL map (any rule with an ``episode_id``), so a new
object route is covered as soon as it exists. ASVS 5.0 V8.2.2 (object level) and
V8.4.1 (tenant isolation: a district's person-level data never reaches another district).
"""
from datetime import date

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
    "flyttad": {404},          # moved therapist: in unit A until 2025-06-30, in C (district 2) since
    "f_chef": {404},           # former unit head: head of A until 2025-06-30, of C since
    "importerad": {404},       # therapist of another district (C) named by an import as the case's therapist
    "vantande": {404},         # therapist of unit A whose membership waits for the unit head's confirmation
    "v_chef": {403, 404},      # unit head of unit A, made by the administrator, not confirmed yet
}
KNOWN_IDS = {"episode_id", "rating_id", "session_id"}
# Those the case names as its therapist (the moved therapist held it; the import named the other): a
# record of who held a case grants nothing, only membership of its unit today does (tests/security/
# test_moved_therapist.py walks their own cases).
NAMED_AS_THERAPIST = {"flyttad", "importerad", "vantande"}


@pytest.fixture
def people(org):
    org["chef_b"] = factories.staff("chef_b", "unit_head", [org["units"]["B"]])
    org["chef_c"] = factories.staff("chef_c", "unit_head", [org["units"]["C"]])
    for name, role in (("flyttad", "therapist"), ("f_chef", "unit_head")):
        org[name] = factories.staff(name, role, [org["units"]["A"]], valid_to=date(2025, 6, 30))
        org[name].memberships.append(factories.membership(org["units"]["C"], date(2025, 7, 1)))
    org["importerad"] = factories.staff("importerad", "therapist", [org["units"]["C"]])
    # Separation of duties (issue 12 item 2): what the administrator made grants nothing until confirmed.
    org["vantande"] = factories.staff("vantande", "therapist", [org["units"]["A"]], confirmed=False)
    org["v_chef"] = factories.staff("v_chef", "unit_head", [org["units"]["A"]], confirmed=False)
    factories.commit()
    return org


@pytest.fixture
def named_case(people):
    """An episode of unit A like the ``case`` one, recorded as held by ``who`` (set by the test)."""
    def make(who: str) -> dict:
        therapist = people[who] if who in NAMED_AS_THERAPIST else people["anna"]
        episode = factories.episode(people["units"]["A"], therapist, ref=f"NAMED-{who}", start_date=date(2025, 1, 13))
        child = factories.participant(episode, "index", birth_year=2015, ref=f"P-NAMED-{who}")
        rating = factories.rating(factories.session(episode, 1), "CORS", child, "20.0")
        factories.commit()
        return {"episode_id": episode.id, "rating_id": rating.id, "session_id": rating.session_id}
    return make


def episode_rules(app):
    rules = [rule for rule in app_rules(app) if "episode_id" in rule.arguments]
    assert len(rules) >= 8, "expected the case page and the workflow routes"
    return rules


def _refusals(app, client, who: str, case: dict) -> list:
    wrong = []
    for rule in episode_rules(app):
        path = rule_path(rule, case)
        for method in sorted(rule.methods & {"GET", "POST"}):
            status = client.open(path, method=method, data={"reason": "duplicate"}).status_code
            allowed = INTRUDERS[who] if rule.arguments <= KNOWN_IDS else INTRUDERS[who] | {404}
            if status not in allowed:
                wrong.append((method, rule.rule, status))
    return wrong


@pytest.mark.parametrize("who", list(INTRUDERS))
def test_intruders_are_refused_on_every_episode_route(app, client, people, case, who):
    before = table_contents()
    sign_in(client, people[who])
    wrong = _refusals(app, client, who, case)
    db.session.expire_all()
    assert wrong == []
    assert table_contents() == before  # a refusal writes nothing


@pytest.mark.parametrize("who", sorted(NAMED_AS_THERAPIST | {"f_chef", "v_chef"}))
def test_a_case_that_names_them_or_that_they_once_headed_is_refused_too(app, client, people, named_case, who):
    """The moved therapist's own old case, the imported case naming a therapist of another district, the
    pending therapist's own case, and a case of the unit the former (or the unconfirmed) unit head left or
    has not been confirmed in: every route is refused, and nothing is written."""
    case = named_case(who)
    before = table_contents()
    sign_in(client, people[who])
    wrong = _refusals(app, client, who, case)
    db.session.expire_all()
    assert wrong == []
    assert table_contents() == before


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
