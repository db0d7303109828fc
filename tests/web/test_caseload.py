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


def open_refs(html: str) -> list[str]:
    """References in the open cases' table (the closed cases follow it)."""
    end = html.find('id="closed-caption"')
    return listed_refs(html if end == -1 else html[:end])


def closed_refs(html: str) -> list[str]:
    start = html.find('id="closed-caption"')
    return [] if start == -1 else listed_refs(html[start:])


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
    # Newest start first; the closed case below them.
    assert open_refs(html) == ["A-2", "A-1"]
    assert closed_refs(html) == ["A-3"]


def test_a_unit_head_sees_the_open_cases_of_their_unit(client, org, cases):
    sign_in(client, org["chef_a"])
    html = client.get("/").get_data(as_text=True)
    assert "<h1>Enhetens ärenden</h1>" in html
    assert sorted(open_refs(html)) == ["A-1", "A-2", "A-4"]
    assert closed_refs(html) == ["A-3"]
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
    # The scope (the therapist's memberships today and teammates for team visibility; the unit
    # head's memberships), the open rows, the number of closed cases (none here: no page query),
    # the live ratings of the open cases and the expected lines their alerts need (one query for
    # every intake band), the active norm set, and for the unit head the therapists of the filter.
    assert len(therapist_queries) == 7
    assert len(unit_head_queries) == 7

    sign_in(client, org["anna"])
    client.get("/")  # the day's first showing records each case once (fitapp.cases.services.record_caseload_view)
    with counted_queries() as page_queries:
        html = client.get("/").get_data(as_text=True)
    assert len(listed_refs(html)) == 30
    # The session read and saved (fitapp.session_store), the logged-in user, the seven above and the
    # day's caseload events already written (nothing per row).
    assert len(page_queries) <= 11


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
    # Closed cases: listed apart, without alerts, latest closed first.
    assert [(r.ref, r.alerts) for r in caseload.closed] == [("CLOSED", ()), ("OLD", ())]

    sign_in(client, org["anna"])
    html = client.get("/").get_data(as_text=True)
    assert listed_refs(html) == ["WORSE", "ALLIANCE", "NO-PROG", "QUIET", "RECENT", "CLOSED", "OLD"]
    # Alerts name the person as the room knows them: reference, role, birth year.
    assert "försämring: P-WORSE (barn/ung, född 2010), ORS" in html
    assert "allians under 36: P-WORSE (barn/ung, född 2010), SRS" in html
    assert "Avslutade ärenden: 2" in html


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


# ---------------------------------------------------------------- search, filters and pages


def test_search_finds_a_case_or_person_reference_whatever_its_case(client, org):
    episode = factories.episode(org["units"]["A"], org["anna"], ref="FAM-Mpyqyk9")
    factories.participant(episode, birth_year=2012, ref="P-K3M9")
    factories.episode(org["units"]["A"], org["anna"], ref="FAM-OTHER")
    factories.commit()
    sign_in(client, org["anna"])
    assert open_refs(client.get("/?q=mpyq").get_data(as_text=True)) == ["FAM-Mpyqyk9"]
    assert open_refs(client.get("/?q=p-k3m9").get_data(as_text=True)) == ["FAM-Mpyqyk9"]
    html = client.get("/?q=%25").get_data(as_text=True)  # a LIKE wildcard is a plain character
    assert open_refs(html) == [] and "Inget öppet ärende matchar sökningen." in html
    assert 'value="%"' in html and 'href="/">Visa alla ärenden</a>' in html
    assert sorted(open_refs(client.get("/").get_data(as_text=True))) == ["FAM-Mpyqyk9", "FAM-OTHER"]


def test_the_alert_filter_keeps_the_cases_with_that_alert(client, org):
    a, anna = org["units"]["A"], org["anna"]
    worse = factories.episode(a, anna, ref="WORSE")
    factories.series(worse, factories.participant(worse, birth_year=2010), "ORS", ["25.0", "18.0"])
    alliance = factories.episode(a, anna, ref="ALLIANCE")
    factories.series(alliance, factories.participant(alliance, birth_year=2010), "SRS", ["38.0", "35.0"])
    factories.episode(a, anna, ref="QUIET")
    factories.episode(a, anna, ref="CLOSED", end_date=date.today() - timedelta(days=3))
    factories.commit()
    sign_in(client, anna)
    html = client.get("/?alert=deterioration").get_data(as_text=True)
    assert open_refs(html) == ["WORSE"] and closed_refs(html) == []  # closed cases have no alerts
    assert '<option value="deterioration" selected>' in html
    assert open_refs(client.get("/?alert=any").get_data(as_text=True)) == ["WORSE", "ALLIANCE"]
    # An unknown value is left out: the whole list, as an old bookmark would expect.
    assert len(open_refs(client.get("/?alert=bogus").get_data(as_text=True))) == 3


def test_a_unit_head_filters_by_therapist_and_the_filter_never_widens_anyone_s_scope(client, org, cases):
    sign_in(client, org["chef_a"])
    html = client.get(f"/?therapist={org['arvid'].id}").get_data(as_text=True)
    assert open_refs(html) == ["A-4"] and closed_refs(html) == []
    assert f'<option value="{org["arvid"].id}" selected>arvid</option>' in html
    # bert works in unit B: naming him shows nothing of unit B.
    assert open_refs(client.get(f"/?therapist={org['bert'].id}").get_data(as_text=True)) == []
    # A therapist has no therapist filter: the parameter is ignored, the list stays their own.
    sign_in(client, org["anna"])
    html = client.get(f"/?therapist={org['bert'].id}").get_data(as_text=True)
    assert open_refs(html) == ["A-2", "A-1"] and 'name="therapist"' not in html
    assert open_refs(client.get(f"/?q=B-1").get_data(as_text=True)) == []


def test_every_closed_case_is_reachable_page_by_page_and_only_the_shown_page_is_audited(client, org):
    from sqlalchemy import func, select

    from fitapp.models import AuditEvent

    for n in range(30):
        factories.episode(org["units"]["A"], org["anna"], ref=f"C-{n:02d}", start_date=date(2023, 1, 2),
                          end_date=date(2024, 1, 1) + timedelta(days=n))
    factories.commit()
    sign_in(client, org["anna"])
    first = client.get("/").get_data(as_text=True)
    assert closed_refs(first) == [f"C-{n:02d}" for n in range(29, 4, -1)]  # latest closed first, 25 a page
    assert "Avslutade ärenden: 30" in first and "Sida 1 av 2" in first and "Nästa sida" in first
    shown = db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "view_caseload"))
    assert shown == 25
    second = client.get("/?page=2").get_data(as_text=True)
    assert closed_refs(second) == ["C-04", "C-03", "C-02", "C-01", "C-00"]
    assert "Sida 2 av 2" in second and "Föregående sida" in second and "Nästa sida" not in second
    assert closed_refs(client.get("/?page=99").get_data(as_text=True)) == closed_refs(second)
    assert closed_refs(client.get("/?page=x").get_data(as_text=True)) == closed_refs(first)
    shown = db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "view_caseload"))
    assert shown == 30
