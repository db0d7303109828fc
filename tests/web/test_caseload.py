"""The caseload: a therapist's own open cases, a unit head's unit, nothing for other roles."""
import re
from datetime import date, timedelta

import pytest

from fitapp.cases.services import caseload_for
from fitapp.extensions import db
from fitapp.models import Staff
from tests import factories
from tests.web.conftest import counted_queries, sign_in


def listed_refs(html: str) -> list[str]:
    return re.findall(r'<a href="/cases/\d+">([^<]+)</a>', html)


@pytest.fixture
def cases(org):
    a, b = org["units"]["A"], org["units"]["B"]
    made = {
        "anna_open": factories.episode(a, org["anna"], ref="A-1", start_date=date(2025, 2, 3)),
        "anna_open_2": factories.episode(a, org["anna"], ref="A-2", start_date=date(2025, 3, 3)),
        "anna_closed": factories.episode(a, org["anna"], ref="A-3", end_date=date(2025, 4, 1)),
        "arvid_open": factories.episode(a, org["arvid"], ref="A-4"),
        "bert_open": factories.episode(b, org["bert"], ref="B-1"),
    }
    factories.commit()
    return made


def test_a_therapist_sees_their_own_open_cases_only(client, org, cases):
    sign_in(client, org["anna"])
    html = client.get("/").get_data(as_text=True)
    assert "<h1>Mina ärenden</h1>" in html
    # Newest start first.
    assert listed_refs(html) == ["A-2", "A-1"]


def test_a_unit_head_sees_the_open_cases_of_their_unit(client, org, cases):
    sign_in(client, org["chef_a"])
    html = client.get("/").get_data(as_text=True)
    assert "<h1>Enhetens ärenden</h1>" in html
    assert sorted(listed_refs(html)) == ["A-1", "A-2", "A-4"]
    assert "<th scope=\"col\">Behandlare</th>" in html and "<td>arvid</td>" in html


def test_a_unit_head_whose_membership_ended_sees_no_cases(client, org, cases):
    former = factories.staff("former", "unit_head", [org["units"]["A"]],
                             valid_from=date(2020, 1, 1), valid_to=date.today() - timedelta(days=1))
    factories.commit()
    sign_in(client, former)
    html = client.get("/").get_data(as_text=True)
    assert listed_refs(html) == []
    assert "Inga öppna ärenden." in html


@pytest.mark.parametrize("role", ["kvalitet", "admin"])
def test_quality_and_admin_have_no_case_list(client, org, cases, role):
    sign_in(client, org[role])
    response = client.get("/")
    if role == "admin":  # the administrator starts on the administration page
        assert response.status_code == 302 and response.headers["Location"] == "/admin/"
        response = client.get("/admin/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert ("Din roll har ingen ärendelista" in html) == (role == "kvalitet")
    assert listed_refs(html) == []


def test_rows_count_sessions_and_participants(client, org):
    episode = factories.episode(org["units"]["A"], org["anna"], ref="A-9", start_date=date(2025, 1, 13))
    child = factories.participant(episode, "index", birth_year=2012)
    factories.participant(episode, "parent", birth_year=1980)
    factories.participant(episode, "parent", birth_year=1982)
    factories.series(episode, child, "ORS", ["20.0", "22.0", "25.0"])
    factories.commit()
    [row] = caseload_for(org["anna"], date.today()).rows
    assert (row.ref, row.intervention, row.start_date) == ("A-9", "Familjebehandling", date(2025, 1, 13))
    assert (row.sessions, row.last_session, row.participants) == (3, date(2025, 1, 27), 3)


def test_an_episode_without_sessions_is_listed_with_zero_sessions(client, org):
    factories.episode(org["units"]["A"], org["anna"], ref="A-0")
    factories.commit()
    [row] = caseload_for(org["anna"], date.today()).rows
    assert (row.sessions, row.last_session, row.participants) == (0, None, 0)
    sign_in(client, org["anna"])
    assert "inget ännu" in client.get("/").get_data(as_text=True)


def test_the_caseload_takes_the_same_few_queries_for_thirty_cases(client, org):
    for n in range(30):
        episode = factories.episode(org["units"]["A"], org["anna"], ref=f"A-{n:02d}")
        child = factories.participant(episode, "index", birth_year=2012)
        factories.participant(episode, "parent", birth_year=1980)
        factories.series(episode, child, "ORS", ["20.0", "22.0", "25.0"])
    factories.commit()
    db.session.expire_all()
    therapist, unit_head = db.session.get(Staff, org["anna"].id), db.session.get(Staff, org["chef_a"].id)
    with counted_queries() as therapist_queries:
        rows = caseload_for(therapist, date.today()).rows
    with counted_queries() as unit_head_queries:
        unit_rows = caseload_for(unit_head, date.today()).rows
    assert len(rows) == len(unit_rows) == 30
    assert {(r.sessions, r.participants) for r in rows} == {(3, 2)}
    # Rows, the active norm set with its parameters, the live ratings of the open cases for the alerts,
    # and the scope: the therapist's memberships today and teammates (team visibility), the unit head's
    # memberships.
    assert len(therapist_queries) == 5
    assert len(unit_head_queries) == 4

    sign_in(client, org["anna"])
    client.get("/")  # the day's first showing records each case once (fitapp.cases.services.record_caseload_view)
    with counted_queries() as page_queries:
        html = client.get("/").get_data(as_text=True)
    assert len(listed_refs(html)) == 30
    # The session read and saved (fitapp.session_store), the logged-in user, the five above and the
    # day's caseload events already written (nothing per row).
    assert len(page_queries) <= 9


# ---------------------------------------------------------------- alerts and order (metrics.md §8)


def test_the_most_urgent_cases_come_first_with_their_alerts(client, org):
    a, anna = org["units"]["A"], org["anna"]
    quiet = factories.episode(a, anna, ref="QUIET")         # no ratings, no alert
    recent = factories.episode(a, anna, ref="RECENT")       # unchanged, later last session
    progress = factories.episode(a, anna, ref="NO-PROG")    # 4 ORS ratings below cutoff, d < RC
    alliance = factories.episode(a, anna, ref="ALLIANCE")   # SRS 38 -> 35: low and dropped
    worse = factories.episode(a, anna, ref="WORSE")         # ORS 25 -> 18: d <= -5
    factories.series(recent, factories.participant(recent, birth_year=2010), "ORS", ["20.0", "21.0"],
                     first_session=3)
    factories.series(progress, factories.participant(progress, birth_year=2010), "ORS",
                     ["20.0", "21.0", "22.0", "23.0"])
    factories.series(alliance, factories.participant(alliance, birth_year=2010), "SRS", ["38.0", "35.0"])
    teen = factories.participant(worse, birth_year=2010, ref="P-WORSE")
    factories.series(worse, teen, "ORS", ["25.0", "18.0"])
    factories.series(worse, teen, "SRS", ["30.0"])
    closed = factories.episode(a, anna, ref="CLOSED", end_date=date.today() - timedelta(days=3))
    factories.episode(a, anna, ref="OLD", end_date=date.today() - timedelta(days=40))
    factories.series(closed, factories.participant(closed, birth_year=2010), "ORS", ["25.0", "18.0"])
    factories.commit()

    caseload = caseload_for(org["anna"], date.today())
    assert [r.ref for r in caseload.rows] == ["WORSE", "ALLIANCE", "NO-PROG", "QUIET", "RECENT"]
    by_ref = {r.ref: [a.kind for a in r.alerts] for r in caseload.rows}
    assert by_ref == {"WORSE": ["deterioration", "alliance_low"], "ALLIANCE": ["alliance_low", "alliance_drop"],
                      "NO-PROG": ["no_progress"], "QUIET": [], "RECENT": []}
    # Closed in the last 30 days: listed apart, without alerts; older ones are gone.
    assert [(r.ref, r.alerts) for r in caseload.closed] == [("CLOSED", ())]

    sign_in(client, org["anna"])
    html = client.get("/").get_data(as_text=True)
    assert listed_refs(html) == ["WORSE", "ALLIANCE", "NO-PROG", "QUIET", "RECENT", "CLOSED"]
    assert "försämring: P-WORSE ORS" in html and "allians under 36: P-WORSE SRS" in html
    assert "Avslutade de senaste 30 dagarna: 1" in html


def test_a_collateral_alliance_drop_names_the_rater(client, org):
    episode = factories.episode(org["units"]["A"], org["anna"], ref="COLL")
    child = factories.participant(episode, birth_year=2016, ref="P-KID")
    mother = factories.participant(episode, "parent", birth_year=1980, ref="P-MOTHER")
    factories.series(episode, child, "CSRS", ["39.0", "37.5"], rater=mother)
    factories.commit()
    [row] = caseload_for(org["anna"], date.today()).rows
    assert [(a.kind, a.person_ref, a.rater_ref) for a in row.alerts] == [("alliance_drop", "P-KID", "P-MOTHER")]


def test_a_unit_head_gets_a_reassign_link_per_case(client, org, cases):
    sign_in(client, org["chef_a"])
    html = client.get("/").get_data(as_text=True)
    assert f'href="/cases/{cases["arvid_open"].id}/reassign"' in html
    sign_in(client, org["anna"])
    assert "/reassign" not in client.get("/").get_data(as_text=True)
