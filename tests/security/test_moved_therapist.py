"""Issue 12 item 1, tried as the intruder: access follows membership of the case's unit *today*.

Three people whom a case of unit A (district D1) names, or who once worked there, and who are
somewhere else today:

- the moved therapist: in unit A until 30 June 2025, in unit C of district D2 since 1 July 2025;
  they are still recorded as the therapist of A's cases (a closed one, which a move never hands
  over, and an open one, as an unfinished hand-over or an old import leaves it);
- the former unit head: head of unit A until 30 June 2025, head of unit C since;
- the therapist of another district named by an import: a therapist of unit C whom a row of A's
  case named (what ``import-ratings`` accepted before it checked memberships).

Each is refused every URL of those cases: every rule of the URL map with an ``episode_id``, by GET
and by POST with a body that would be valid, so a refusal cannot come from bad input (404, as for
another unit's case); nothing is written or audited as theirs; no page they can open shows the cases.
"""
from datetime import date

import pytest
from sqlalchemy import select

from fitapp.extensions import db
from fitapp.models import AuditEvent, Rating
from tests import factories
from tests.security.conftest import app_rules, rule_path, sign_in, table_contents

LEFT_A = date(2025, 6, 30)
IN_C = date(2025, 7, 1)
T2 = "year=2025&tertial=2&span=tertial&as_of=2026-08-31"


def _member_of_a_then_c(username: str, role: str, org) -> object:
    person = factories.staff(username, role, [org["units"]["A"]], valid_to=LEFT_A)
    person.memberships.append(factories.membership(org["units"]["C"], IN_C))
    db.session.flush()
    return person


def _case(org, unit: str, therapist, ref: str, *, end_date: date | None = None) -> dict:
    episode = factories.episode(org["units"][unit], therapist, ref=ref, start_date=date(2025, 1, 13),
                                end_date=end_date)
    child = factories.participant(episode, "index", birth_year=2014, ref=f"P-{ref}")
    rating = factories.rating(factories.session(episode, 1), "CORS", child, "20.0")
    return {"episode_id": episode.id, "rating_id": rating.id, "session_id": rating.session_id,
            "participant_id": child.id, "ref": ref, "person_ref": f"P-{ref}"}


@pytest.fixture
def history(org):
    moved = _member_of_a_then_c("flyttad", "therapist", org)
    former_head = _member_of_a_then_c("f_chef", "unit_head", org)
    named = factories.staff("importerad", "therapist", [org["units"]["C"]])
    cases = {
        "moved therapist": [_case(org, "A", moved, "OLD-CLOSED", end_date=date(2025, 6, 2)),
                            _case(org, "A", moved, "OLD-OPEN")],
        "former unit head": [_case(org, "A", org["anna"], "HEAD-OLD"),
                             _case(org, "A", org["anna"], "HEAD-OLD-CLOSED", end_date=date(2025, 5, 5))],
        "therapist of another district named by an import": [_case(org, "A", named, "IMPORTED")],
    }
    own_now = {"moved therapist": _case(org, "C", moved, "NEW-C1"),
               "former unit head": _case(org, "C", org["cecilia"], "NEW-C2"),
               "therapist of another district named by an import": _case(org, "C", named, "NEW-C3")}
    factories.commit()
    people = {"moved therapist": moved, "former unit head": former_head,
              "therapist of another district named by an import": named}
    return {"org": org, "people": people, "cases": cases, "own_now": own_now}


# A body per endpoint that the form would accept, so a refusal is the access rule's and not the form's.
VALID_BODIES = {
    "cases.new_session": lambda c: {"date": "2025-02-01", f"present-{c['participant_id']}": "1",
                                    f"outcome-{c['participant_id']}-instrument": "CORS",
                                    **{f"outcome-{c['participant_id']}-{n}": "5" for n in range(1, 5)}},
    "cases.tablet_start": lambda c: {"tablet": f"outcome-{c['participant_id']}",
                                     f"outcome-{c['participant_id']}-instrument": "CORS"},
    "cases.correct_rating": lambda c: {"item-1": "9", "item-2": "5", "item-3": "5", "item-4": "5",
                                       "reason": "typing_error"},
    "cases.delete_rating": lambda c: {"reason": "duplicate"},
    "cases.correct_session": lambda c: {"date": "2025-01-14", "reason": "wrong_date"},
    "cases.delete_session": lambda c: {"reason": "duplicate"},
    "cases.close_case": lambda c: {"end_date": "2025-03-01", "end_reason": "planned", "child_took_part": "yes"},
    "cases.reassign": lambda c: {"therapist": "1"},
}


def case_rules(app):
    """Every route of one case, from the URL map: a new one is covered as soon as it exists."""
    rules = [rule for rule in app_rules(app) if "episode_id" in rule.arguments]
    endpoints = {rule.endpoint for rule in rules}
    # The case page, the session form and the tablet hand-over, corrections and deletions, closing, reassigning.
    assert {"cases.episode", "cases.new_session", "cases.tablet_start", "cases.correct_rating",
            "cases.delete_rating", "cases.correct_session", "cases.delete_session", "cases.close_case",
            "cases.reassign"} <= endpoints
    return rules


def page_rules(app):
    """GET pages without URL variables: the caseload, reports, log review, account, the tablet screen."""
    return [rule for rule in app_rules(app) if not rule.arguments and "GET" in rule.methods]


WHO = ["moved therapist", "former unit head", "therapist of another district named by an import"]


@pytest.mark.parametrize("who", WHO)
def test_every_url_of_the_old_units_cases_is_refused(app, client, history, who):
    before = table_contents()
    sign_in(client, history["people"][who])
    wrong = []
    for case in history["cases"][who]:
        for rule in case_rules(app):
            path = rule_path(rule, case)
            for method in sorted(rule.methods & {"GET", "POST"}):
                data = VALID_BODIES.get(rule.endpoint, lambda c: {})(case) if method == "POST" else None
                status = client.open(path, method=method, data=data).status_code
                if status != 404:
                    wrong.append((method, path, status))
    assert wrong == []
    db.session.expire_all()
    assert table_contents() == before  # nothing written
    person = history["people"][who]
    assert db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == person.id)).all() == []


@pytest.mark.parametrize("who", WHO)
def test_no_page_they_can_open_shows_the_old_cases(app, client, history, who):
    sign_in(client, history["people"][who])
    shown = []
    for rule in page_rules(app):
        for query in ("", f"?{T2}", f"?{T2}&unit=A"):
            response = client.get(rule.rule + query)
            if not response.mimetype.startswith("text/"):
                # A workbook (zipped): never of unit A, as the next assertions show.
                assert not query.endswith("unit=A") or response.status_code in (403, 404), rule.rule
                continue
            html = response.get_data(as_text=True)
            for case in history["cases"][who]:
                if case["ref"] in html or case["person_ref"] in html or f"/cases/{case['episode_id']}" in html:
                    shown.append((rule.rule + query, response.status_code, case["ref"]))
    assert shown == []
    for report in ("/reports/follow-up", "/reports/export.csv", "/reports/export.xlsx", "/reports/print"):
        assert client.get(f"{report}?{T2}&unit=A").status_code in (403, 404), report


@pytest.mark.parametrize("who", WHO)
def test_they_still_work_in_the_unit_they_belong_to_today(client, history, who):
    """The other side: the same account opens the cases of unit C, so the refusals above are the rule's."""
    sign_in(client, history["people"][who])
    case = history["own_now"][who]
    assert client.get(f"/cases/{case['episode_id']}").status_code == 200
    assert case["ref"] in client.get("/").get_data(as_text=True)


def test_the_moved_therapist_cannot_correct_a_closed_case_of_the_old_unit(client, history):
    """The issue's finding: 'a correction saved and audited as theirs'."""
    case = history["cases"]["moved therapist"][0]
    sign_in(client, history["people"]["moved therapist"])
    response = client.post(f"/cases/{case['episode_id']}/ratings/{case['rating_id']}/correct",
                           data=VALID_BODIES["cases.correct_rating"](case))
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Rating, case["rating_id"]).items[0] != 9
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "correct_rating")).all() == []


def test_the_cases_stay_with_their_unit(client, history):
    """The unit head of A today sees the moved therapist's old cases, open and closed, and the imported one."""
    sign_in(client, history["org"]["chef_a"])
    for who in ("moved therapist", "therapist of another district named by an import"):
        for case in history["cases"][who]:
            assert client.get(f"/cases/{case['episode_id']}").status_code == 200, case["ref"]


def test_a_membership_that_ends_today_still_counts_today_and_not_tomorrow(client, org, monkeypatch):
    """'Today' is the organisation's day (fitapp.organisation_time), ends included."""
    from fitapp.cases import access
    from fitapp.organisation_time import organisation_today

    today = organisation_today()
    leaving = factories.staff("sista_dagen", "therapist", [org["units"]["A"]], valid_to=today)
    case = _case(org, "A", leaving, "LAST-DAY")
    factories.commit()
    sign_in(client, leaving)
    assert client.get(f"/cases/{case['episode_id']}").status_code == 200
    monkeypatch.setattr(access, "organisation_today", lambda: date.fromordinal(today.toordinal() + 1))
    assert client.get(f"/cases/{case['episode_id']}").status_code == 404


def test_a_unit_head_reports_on_the_units_of_the_organisations_day(client, org, monkeypatch):
    """Report scope follows the same day as case access: a unit head whose membership ends today
    still gets the unit's report today and a 404 for it tomorrow (not the server's day)."""
    from fitapp.organisation_time import organisation_today
    from fitapp.reports import routes as report_routes

    today = organisation_today()
    leaving = factories.staff("sista_chefdag", "unit_head", [org["units"]["A"]], valid_to=today)
    factories.commit()
    sign_in(client, leaving)
    url = f"/reports/?unit=A&{T2}"
    assert client.get(url).status_code == 200
    monkeypatch.setattr(report_routes, "organisation_today", lambda: date.fromordinal(today.toordinal() + 1))
    assert client.get(url).status_code in (403, 404)
