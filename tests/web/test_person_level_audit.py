"""Issue 12 item 5: every showing of person-level data is audited (ids only, never clinical content).

- the caseload: one ``view_caseload`` event per case shown (object "episode", its unit), once per
  user, case and organisation day (fitapp.cases.services.record_caseload_view says why);
- a refused form shown again with the family's references: ``view_episode``, as the form's GET;
- the follow-up list: one ``view_follow_up`` event per case shown, not one per period.
"""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from fitapp.cases import routes as case_routes
from fitapp.extensions import db
from fitapp.models import AuditEvent
from fitapp.organisation_time import organisation_today
from tests import factories
from tests.web.conftest import sign_in

T2 = "year=2025&tertial=2&span=tertial&as_of=2026-08-31"


def events(action: str) -> list[tuple]:
    return [(e.actor_name, e.object_type, e.object_id, e.unit_id) for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))]


# ---------------------------------------------------------------- the caseload


@pytest.fixture
def caseload(org):
    a, b, anna = org["units"]["A"], org["units"]["B"], org["anna"]
    today = organisation_today()
    cases = {
        "open": factories.episode(a, anna, ref="CL-OPEN"),
        "open_2": factories.episode(a, anna, ref="CL-OPEN-2"),
        "recently_closed": factories.episode(a, anna, ref="CL-CLOSED", start_date=today - timedelta(days=90),
                                             end_date=today - timedelta(days=3)),
        "long_closed": factories.episode(a, anna, ref="CL-OLD", end_date=date(2025, 3, 1)),
        "arvids": factories.episode(a, org["arvid"], ref="CL-ARVID"),
        "in_b": factories.episode(b, org["bert"], ref="CL-B"),
    }
    child = factories.participant(cases["open"], "index", birth_year=2014, ref="P-CL")
    factories.series(cases["open"], child, "CORS", ["20.0", "18.0", "14.0"])  # an alert naming P-CL
    factories.commit()
    return {name: (episode.id, episode.unit_id) for name, episode in cases.items()}


def shown(who: str, caseload: dict, *names: str) -> list[tuple]:
    return sorted((who, "episode", str(caseload[n][0]), caseload[n][1]) for n in names)


def test_the_caseload_audits_each_case_it_shows(client, org, caseload):
    sign_in(client, org["anna"])
    html = client.get("/").get_data(as_text=True)
    assert "CL-OPEN" in html and "CL-CLOSED" in html and "P-CL" in html
    assert sorted(events("view_caseload")) == shown("anna", caseload, "open", "open_2", "recently_closed",
                                                    "long_closed")


def test_the_unit_head_s_caseload_audits_each_case_of_the_unit(client, org, caseload):
    sign_in(client, org["chef_a"])
    client.get("/")
    assert sorted(events("view_caseload")) == shown("chef_a", caseload, "open", "open_2", "recently_closed",
                                                    "long_closed", "arvids")


def test_the_same_case_is_audited_once_a_day_per_user(client, org, caseload, monkeypatch):
    sign_in(client, org["anna"])
    client.get("/")
    client.get("/")
    once = shown("anna", caseload, "open", "open_2", "recently_closed", "long_closed")
    assert sorted(events("view_caseload")) == once
    sign_in(client, org["chef_a"])  # another user, the same cases: their own events
    client.get("/")
    assert len(events("view_caseload")) == 4 + 5
    # The next day on the organisation's clock, the caseload's cases are recorded again.
    tomorrow = organisation_today() + timedelta(days=1)
    monkeypatch.setattr(case_routes, "organisation_today", lambda: tomorrow)
    sign_in(client, org["anna"])
    client.get("/")
    assert sorted(e for e in events("view_caseload") if e[0] == "anna") == sorted(once * 2)


def test_an_empty_caseload_and_roles_without_one_write_nothing(client, org):
    for who in ("anna", "kvalitet", "admin"):
        sign_in(client, org[who])
        client.get("/")
    assert events("view_caseload") == []


# ---------------------------------------------------------------- forms shown again after a refusal


@pytest.fixture
def case(org):
    episode = factories.episode(org["units"]["A"], org["anna"], ref="FORM-1")
    child = factories.participant(episode, "index", birth_year=2014, ref="P-FORM")
    rating = factories.rating(factories.session(episode, 1), "CORS", child, "20.0")
    factories.commit()
    return {"episode": episode.id, "unit": episode.unit_id, "child": child.id, "rating": rating.id}


def test_a_refused_session_form_shown_again_is_audited_like_the_form(client, org, case):
    sign_in(client, org["anna"])
    url = f"/cases/{case['episode']}/sessions/new"
    client.get(url)
    assert events("view_episode") == [("anna", "episode", str(case["episode"]), case["unit"])]
    c = case["child"]
    refused = client.post(url, data={"date": (organisation_today() - timedelta(days=1)).isoformat(),
                                     f"present-{c}": "1", f"outcome-{c}-instrument": "CORS",
                                     f"outcome-{c}-1": "11", f"outcome-{c}-2": "5", f"outcome-{c}-3": "5",
                                     f"outcome-{c}-4": "5"})
    assert refused.status_code == 422 and "P-FORM" in refused.get_data(as_text=True)
    assert events("view_episode") == [("anna", "episode", str(case["episode"]), case["unit"])] * 2


def test_a_refused_correction_shown_again_is_audited_too(client, org, case):
    sign_in(client, org["anna"])
    refused = client.post(f"/cases/{case['episode']}/ratings/{case['rating']}/correct",
                          data={"item-1": "99", "item-2": "5", "item-3": "5", "item-4": "5", "reason": "typing_error"})
    assert refused.status_code == 422 and "P-FORM" in refused.get_data(as_text=True)
    assert events("view_episode") == [("anna", "episode", str(case["episode"]), case["unit"])]


# ---------------------------------------------------------------- the follow-up list


@pytest.fixture
def follow_up(org):
    a, b = org["units"]["A"], org["units"]["B"]
    head = factories.staff("chef_ab", "unit_head", [a, b])
    closed = {"end_date": date(2025, 6, 2), "start_date": date(2025, 2, 3)}
    two_children = factories.episode(a, org["anna"], ref="FU-A1", **closed)
    factories.participant(two_children, "index", birth_year=2012, ref="P-FU-1")
    factories.participant(two_children, "index", birth_year=2014, ref="P-FU-2")  # two rows, one case
    in_b = factories.episode(b, org["bert"], ref="FU-B1", **closed)
    factories.participant(in_b, "index", birth_year=2013, ref="P-FU-3")
    in_c = factories.episode(org["units"]["C"], org["cecilia"], ref="FU-C1", **closed)  # not the head's
    factories.participant(in_c, "index", birth_year=2013, ref="P-FU-4")
    factories.commit()
    return {"head": head, "a": (two_children.id, a.id), "b": (in_b.id, b.id), "c": in_c.id}


def test_the_follow_up_list_audits_each_case_it_shows(client, follow_up):
    sign_in(client, follow_up["head"])
    html = client.get(f"/reports/follow-up?{T2}").get_data(as_text=True)
    assert "P-FU-1" in html and "P-FU-2" in html and "FU-B1" in html and "FU-C1" not in html
    assert events("view_follow_up") == [("chef_ab", "episode", str(episode_id), unit_id)
                                        for episode_id, unit_id in (follow_up["a"], follow_up["b"])]


def test_the_follow_up_list_of_one_unit_audits_only_that_unit_s_cases(client, follow_up):
    sign_in(client, follow_up["head"])
    client.get(f"/reports/follow-up?{T2}&unit=B")
    episode_id, unit_id = follow_up["b"]
    assert events("view_follow_up") == [("chef_ab", "episode", str(episode_id), unit_id)]
