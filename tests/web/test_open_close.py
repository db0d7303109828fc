"""Opening a case with its family, closing it with a summary, and handing it to another therapist."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from fitapp.extensions import db
from fitapp.identity_numbers import looks_like_identity_number
from fitapp.models import AuditEvent, Episode, Participant, Person
from tests import factories
from tests.web.conftest import sign_in

TODAY = date.today()


def counts():
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Episode, Participant, Person))


def intervention_id(code="FFT"):
    return str(factories.intervention(code).id)


def member(row, role="", birth_year="", gender="not_recorded", existing=""):
    p = f"member-{row}"
    return {f"{p}-role": role, f"{p}-birth_year": birth_year, f"{p}-gender": gender, f"{p}-existing_ref": existing}


def open_form(**extra):
    data = {"intervention": intervention_id(), "referral_date": "2025-02-20", "start_date": "2025-03-03",
            **member(1, "index", "2015", "female"), **member(2, "index", "2010", "male"),
            **member(3, "parent", "1984", "female"), **member(4), **member(5)}
    data.update(extra)
    return data


# ---------------------------------------------------------------- open a case


def test_a_therapist_opens_a_case_with_three_family_members(client, org):
    sign_in(client, org["anna"])
    form = client.get("/cases/new").get_data(as_text=True)
    assert "Familjeenheten A" in form and "Befintlig personreferens" in form
    response = client.post("/cases/new", data=open_form())
    assert response.status_code == 302
    episode = db.session.scalars(select(Episode)).one()
    assert response.headers["Location"] == f"/cases/{episode.id}"
    assert (episode.unit_id, episode.therapist_id, episode.intervention.code) == (
        org["units"]["A"].id, org["anna"].id, "FFT")
    assert (episode.referral_date, episode.start_date, episode.end_date) == (date(2025, 2, 20), date(2025, 3, 3), None)
    assert re.fullmatch(r"2025-[A-Z2-9]{5}", episode.ref) and not looks_like_identity_number(episode.ref)
    people = [(p.role, p.person.birth_year, p.person.gender) for p in episode.participants]
    assert people == [("index", 2015, "female"), ("index", 2010, "male"), ("parent", 1984, "female")]
    assert all(re.fullmatch(r"P-[A-Z2-9]{7}", p.person.ref) for p in episode.participants)
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "open_episode")).all()
    assert event.object_id == str(episode.id) and event.unit_id == org["units"]["A"].id
    assert f"Ärende {episode.ref} är öppnat." in client.get(f"/cases/{episode.id}").get_data(as_text=True)


def test_a_case_closed_without_any_session_still_counts_its_index_persons(client, org):
    # The reports read index persons from a derived table: opening the case must already fill it.
    from fitapp.reports.queries import report_facts
    from fitapp.scoring.periods import tertial

    sign_in(client, org["anna"])
    assert client.post("/cases/new", data=open_form()).status_code == 302
    episode = db.session.scalars(select(Episode)).one()
    response = client.post(f"/cases/{episode.id}/close",
                           data=close_form(end_date="2025-05-20", child_took_part="no", child_reason="declined"))
    assert response.status_code == 302
    totals = report_facts(tertial(2025, 2), None, TODAY).unit_totals()[org["units"]["A"].id]
    assert totals.episodes["all"]["all"][0] == 1  # closed episodes
    assert totals.persons["all"]["all"][0] == 2  # its two index children, neither with a rating
    assert totals.persons["age_band"].keys() == {"6-12", "13-17"}


def test_a_returning_child_keeps_their_person_reference(client, org):
    old = factories.episode(org["units"]["B"], org["bert"], end_date=date(2025, 2, 1))
    factories.participant(old, "index", birth_year=2012, gender="male", ref="P-RETURN")
    factories.commit()
    sign_in(client, org["anna"])
    data = open_form(**member(1, "index", existing="P-RETURN"), **member(2), **member(3))
    assert client.post("/cases/new", data=data).status_code == 302
    episode = db.session.scalars(select(Episode).where(Episode.unit_id == org["units"]["A"].id)).one()
    [participant] = episode.participants
    assert participant.person.ref == "P-RETURN" and participant.person.birth_year == 2012
    assert db.session.scalar(select(func.count()).select_from(Person)) == 1


def test_a_person_reference_is_found_whatever_its_case(client, org):
    old = factories.episode(org["units"]["B"], org["bert"], end_date=date(2025, 2, 1))
    factories.participant(old, "index", birth_year=2012, gender="male", ref="P-MPYQYK9")
    factories.commit()
    sign_in(client, org["anna"])
    data = open_form(**member(1, "index", existing="p-mpyqyk9"), **member(2), **member(3))
    assert client.post("/cases/new", data=data).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Person)) == 1
    # The same person twice, in two spellings, is refused.
    data = open_form(**member(1, "index", existing="P-MPYQYK9"), **member(2, "index", existing="p-Mpyqyk9"),
                     **member(3))
    assert "samma personreferens" in client.post("/cases/new", data=data).get_data(as_text=True)


def test_a_child_with_an_open_case_gets_a_warning_before_a_second_one_is_opened(client, org):
    current = factories.episode(org["units"]["B"], org["bert"])
    factories.participant(current, "index", birth_year=2012, gender="male", ref="P-OPEN")
    factories.commit()
    sign_in(client, org["anna"])
    data = open_form(**member(1, "index", existing="P-OPEN"), **member(2), **member(3))
    response = client.post("/cases/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Familjemedlem 1 (P-OPEN) har redan ett öppet ärende i din förvaltning." in html
    assert counts() == (1, 1, 1)  # nothing saved
    key = re.search(r'name="accept_warnings" value="([^"]+)"', html).group(1)
    # A confirmation of other warnings is not one: the form is shown again.
    assert client.post("/cases/new", data={**data, "accept_warnings": "1:gender:P-OPEN:male"}).status_code == 200
    assert counts() == (1, 1, 1)
    assert client.post("/cases/new", data={**data, "accept_warnings": key}).status_code == 302
    assert counts() == (2, 2, 1)


def test_a_typed_birth_year_or_gender_that_differs_from_the_stored_person_is_pointed_out(client, org):
    old = factories.episode(org["units"]["A"], org["anna"], end_date=date(2025, 2, 1))
    factories.participant(old, "index", birth_year=2012, gender="male", ref="P-BACK")
    factories.commit()
    sign_in(client, org["anna"])
    data = open_form(**member(1, "index", "2013", "female", existing="P-BACK"), **member(2), **member(3))
    html = client.post("/cases/new", data=data).get_data(as_text=True)
    assert "det angivna födelseåret, 2013, skiljer sig från det sparade, 2012" in html
    assert "det angivna könet, kvinna/flicka, skiljer sig från det sparade, man/pojke" in html
    key = re.search(r'name="accept_warnings" value="([^"]+)"', html).group(1)
    assert client.post("/cases/new", data={**data, "accept_warnings": key}).status_code == 302
    person = db.session.scalars(select(Person).where(Person.ref == "P-BACK")).one()
    assert (person.birth_year, person.gender) == (2012, "male")  # the stored values are kept


def test_a_family_of_ten_can_be_opened(client, org):
    sign_in(client, org["anna"])
    form = client.get("/cases/new").get_data(as_text=True)
    assert 'id="member-10-role"' in form and 'id="member-11-role"' not in form
    assert "<details class=\"more-members\">" in form  # rows 6-10 folded away until needed
    members = {k: v for row in range(1, 11) for k, v in member(row, "index" if row == 1 else "other", "2000").items()}
    assert client.post("/cases/new", data=open_form(**members)).status_code == 302
    assert counts() == (1, 10, 10)
    response = client.post("/cases/new", data=open_form(**{**members, "member-7-birth_year": "x"}))
    assert response.status_code == 422 and '<details class="more-members" open>' in response.get_data(as_text=True)


@pytest.mark.parametrize("change, field, message", [
    ({"intervention": ""}, "intervention", "Insats: välj ett av alternativen."),
    ({"start_date": ""}, "start_date", "Startdatum: ange ett datum (ÅÅÅÅ-MM-DD)."),
    ({"start_date": (TODAY + timedelta(days=2)).isoformat()}, "start_date", "Startdatum: kan inte vara i framtiden."),
    ({"referral_date": "2025-03-04"}, "referral_date", "Aktualiseringsdatum: kan inte vara efter startdatum."),
    ({"member-2-birth_year": "10"}, "member-2-birth_year",
     "Familjemedlem 2: födelseåret ska vara fyra siffror mellan 1900 och"),
    ({"member-2-role": ""}, "member-2-role", "Familjemedlem 2: välj en roll."),
    ({"member-1-role": "parent", "member-2-role": "other"}, "member-1-role",
     "Familjemedlemmar: lägg till minst ett barn eller en ung person"),
    ({"member-1-existing_ref": "NO-SUCH-REF"}, "member-1-existing_ref",
     "Familjemedlem 1: det finns ingen person med den referensen i din förvaltning."),
])
def test_bad_input_opens_nothing_and_keeps_what_was_typed(client, org, change, field, message):
    sign_in(client, org["anna"])
    response = client.post("/cases/new", data=open_form(**change))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html and f'<a href="#{field}">' in html
    assert 'value="1984"' in html  # the third member's birth year is still there
    assert counts() == (0, 0, 0)


def test_a_person_known_only_in_another_district_is_not_found(client, org):
    far = factories.episode(org["units"]["C"], org["cecilia"])
    factories.participant(far, "index", birth_year=2012, ref="P-FAR")
    factories.commit()
    sign_in(client, org["anna"])
    response = client.post("/cases/new", data=open_form(**{"member-1-existing_ref": "P-FAR"}))
    assert response.status_code == 422
    assert "det finns ingen person med den referensen i din förvaltning" in response.get_data(as_text=True)


@pytest.mark.parametrize("typed", ["19850101-1234", "850101-1234", "ref 201512241234"])
def test_an_identity_number_is_refused_and_not_shown_again(client, org, typed):
    sign_in(client, org["anna"])
    response = client.post("/cases/new", data=open_form(**{"member-1-existing_ref": typed}))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "ser ut som ett personnummer" in html
    assert typed not in html
    assert counts() == (0, 0, 0)


def test_case_references_are_unique_within_the_unit(client, org, monkeypatch):
    from fitapp.cases import changes

    factories.episode(org["units"]["A"], org["anna"], ref="2025-AAAAA")
    factories.commit()
    # The person's reference is drawn first, then the case's: the first one is taken in the unit.
    drawn = iter("CCCCCCC" + "AAAAA" + "BBBBB")
    monkeypatch.setattr(changes.secrets, "choice", lambda alphabet: next(drawn))
    sign_in(client, org["anna"])
    assert client.post("/cases/new", data=open_form(**member(2), **member(3))).status_code == 302
    refs = set(db.session.scalars(select(Episode.ref)))
    assert refs == {"2025-AAAAA", "2025-BBBBB"}


def test_a_therapist_without_a_unit_today_cannot_open_cases(client, org):
    gone = factories.staff("gone", "therapist", [org["units"]["A"]], valid_to=TODAY - timedelta(days=1))
    factories.commit()
    sign_in(client, gone)
    html = client.get("/cases/new").get_data(as_text=True)
    assert "Du tillhör ingen enhet i dag" in html
    assert client.post("/cases/new", data=open_form()).status_code == 200
    assert counts() == (0, 0, 0)


# ---------------------------------------------------------------- close a case


@pytest.fixture
def family(org):
    """A hand-built family, all self-ratings (pcoms-2003 norms), case started 2025-01-13.

    - child born 2015 (10): CORS 24.0 -> 33.0, d = 9.0 >= 6, F < 32 <= L: recovered
    - sibling born 2010 (15): ORS 20.0 -> 26.0, d = 6.0 >= 5, L < 28: improved
    - mother born 1984 (41): ORS 30.0 -> 22.0, d = -8.0 <= -5: deteriorated
    - father born 1982: one ORS rating only: not paired
    - a small child born 2021 (4): YCORS 20 -> 30: not scored, not counted
    So "2 av 3 förbättrade (varav 1 återhämtad)", 1 deteriorated, 0 unchanged.
    """
    episode = factories.episode(org["units"]["A"], org["anna"], ref="CLOSE-1", start_date=date(2025, 1, 13))
    child = factories.participant(episode, "index", birth_year=2015, ref="P-C1")
    sibling = factories.participant(episode, "index", birth_year=2010, ref="P-C2")
    mother = factories.participant(episode, "parent", birth_year=1984, ref="P-M")
    father = factories.participant(episode, "parent", birth_year=1982, ref="P-F")
    small = factories.participant(episode, "index", birth_year=2021, ref="P-S")
    factories.series(episode, child, "CORS", ["24.0", "33.0"])
    factories.series(episode, sibling, "ORS", ["20.0", "26.0"])
    factories.series(episode, mother, "ORS", ["30.0", "22.0"])
    factories.series(episode, father, "ORS", ["25.0"])
    factories.series(episode, small, "YCORS", ["20.0", "30.0"])
    factories.series(episode, child, "ORS", ["10.0", "11.0"], rater=mother)  # collateral: not in the summary
    factories.commit()
    return episode


def close_form(**extra):
    data = {"end_date": "2025-02-01", "end_reason": "planned", "child_took_part": "yes", "child_reason": ""}
    data.update(extra)
    return data


def test_the_close_page_summarises_each_person_in_words_and_numbers(client, org, family):
    sign_in(client, org["anna"])
    html = client.get(f"/cases/{family.id}/close").get_data(as_text=True)
    assert re.search(r"2 av 3 förbättrade\s*\(varav återhämtade: 1\),\s*oförändrade: 0,\s*försämrade: 1\.", html)
    rows = re.findall(r"<tr>\s*<th scope=\"row\">(P-\w+).*?</tr>", html, re.S)
    assert rows == ["P-C1", "P-C2", "P-M", "P-F", "P-S"]
    for ref, cells in (("P-C1", ["CORS", "24,0", "33,0", "9,0", "2", "återhämtad"]),
                       ("P-C2", ["ORS", "20,0", "26,0", "6,0", "2", "förbättrad"]),
                       ("P-M", ["ORS", "30,0", "22,0", "-8,0", "2", "försämrad"]),
                       ("P-F", ["ORS", "25,0", "25,0", "–", "1", "en mätning"]),
                       ("P-S", ["YCORS", "20,0", "30,0", "10,0", "2", "ej poängsatt"])):
        row = re.search(rf"<th scope=\"row\">{ref} .*?</tr>", html, re.S).group(0)
        assert re.findall(r"<td[^>]*>(.*?)</td>", row) == cells


def test_closing_saves_the_end_and_is_audited(client, org, family):
    sign_in(client, org["anna"])
    response = client.post(f"/cases/{family.id}/close", data=close_form(end_reason="client_dropout"))
    assert response.status_code == 302
    db.session.expire_all()
    episode = db.session.get(Episode, family.id)
    assert (episode.end_date, episode.end_reason, episode.child_no_rating_reason) == (
        date(2025, 2, 1), "client_dropout", None)
    assert [e.action for e in db.session.scalars(select(AuditEvent))] == ["close_episode"]
    html = client.get(f"/cases/{family.id}").get_data(as_text=True)
    assert "avbrutet av familjen" in html and "<dd>ja</dd>" in html
    assert re.search(r"<h2 id=\"results-heading\">Resultat</h2>\s*<p class=\"closing__headline\">\s*2 av 3", html)
    # Closed: no more sessions, and the case moves to "closed in the last 30 days" if recent.
    assert client.get(f"/cases/{family.id}/sessions/new").status_code == 302


def test_a_child_who_did_not_take_part_needs_a_reason(client, org, family):
    sign_in(client, org["anna"])
    response = client.post(f"/cases/{family.id}/close", data=close_form(child_took_part="no"))
    assert response.status_code == 422
    assert "Skäl till att barnet eller den unga inte deltog: välj ett av alternativen." in response.get_data(
        as_text=True)
    client.post(f"/cases/{family.id}/close", data=close_form(child_took_part="no", child_reason="declined"))
    db.session.expire_all()
    assert db.session.get(Episode, family.id).child_no_rating_reason == "declined"


@pytest.mark.parametrize("change, message", [
    ({"end_date": "2025-01-01"}, "Slutdatum: kan inte vara före ärendets start (2025-01-13)."),
    ({"end_date": "2025-01-15"}, "Slutdatum: kan inte vara före det senaste samtalet (2025-01-20)."),
    ({"end_reason": ""}, "Avslutsorsak: välj ett av alternativen."),
    ({"end_reason": "fired"}, "Avslutsorsak: välj ett av alternativen."),
    ({"child_took_part": ""}, "Deltog barnet eller den unga?: välj ett av alternativen."),
])
def test_bad_closing_input_closes_nothing(client, org, family, change, message):
    sign_in(client, org["anna"])
    response = client.post(f"/cases/{family.id}/close", data=close_form(**change))
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Episode, family.id).end_date is None


# ---------------------------------------------------------------- reassign


def test_a_unit_head_reassigns_a_case_to_another_therapist_of_the_unit(client, org, family):
    sign_in(client, org["chef_a"])
    form = client.get(f"/cases/{family.id}/reassign").get_data(as_text=True)
    options = re.findall(r'<option value="\d+"[^>]*>(\w+)</option>', form)
    assert options == ["anna", "arvid"]  # therapists of unit A only
    response = client.post(f"/cases/{family.id}/reassign", data={"therapist": str(org["arvid"].id)})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    db.session.expire_all()
    assert db.session.get(Episode, family.id).therapist_id == org["arvid"].id
    [event] = [e for e in db.session.scalars(select(AuditEvent)) if e.action == "reassign_episode"]
    assert (event.object_id, event.actor_name) == (str(family.id), "chef_a")
    sign_in(client, org["anna"])
    assert client.get(f"/cases/{family.id}").status_code == 404
    sign_in(client, org["arvid"])
    assert client.get(f"/cases/{family.id}").status_code == 200


@pytest.mark.parametrize("who", ["bert", "chef_a", "kvalitet"])
def test_a_case_is_only_given_to_a_therapist_of_its_unit(client, org, family, who):
    sign_in(client, org["chef_a"])
    response = client.post(f"/cases/{family.id}/reassign", data={"therapist": str(org[who].id)})
    assert response.status_code == 422
    assert "Ny behandlare: välj ett av alternativen." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Episode, family.id).therapist_id == org["anna"].id


# ---------------------------------------------------------------- add a family member


def test_a_new_family_member_joins_an_open_case_and_counts_from_then_on(client, org, family):
    episode = family
    sign_in(client, org["anna"])
    page = client.get(f"/cases/{episode.id}").get_data(as_text=True)
    assert f'href="/cases/{episode.id}/members/new"' in page
    form = client.get(f"/cases/{episode.id}/members/new").get_data(as_text=True)
    assert 'id="member-6-role"' in form  # the case has five members: this is the sixth
    response = client.post(f"/cases/{episode.id}/members/new",
                           data=member(6, "index", "2019", "male"))
    assert response.status_code == 302 and response.headers["Location"] == f"/cases/{episode.id}"
    db.session.expire_all()
    people = [(p.role, p.person.birth_year) for p in db.session.get(Episode, episode.id).participants]
    assert people[-1] == ("index", 2019) and len(people) == 6
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "add_participant")).all()
    assert event.object_type == "participant" and event.unit_id == episode.unit_id
    assert "är nu familjemedlem i ärendet." in client.get(f"/cases/{episode.id}").get_data(as_text=True)


def test_a_returning_person_is_added_by_reference_with_the_same_warnings_as_at_opening(client, org, family):
    episode = family
    elsewhere = factories.episode(org["units"]["B"], org["bert"])
    factories.participant(elsewhere, "index", birth_year=2012, gender="male", ref="P-SIBLING")
    factories.commit()
    sign_in(client, org["anna"])
    data = member(6, "index", "2013", existing="p-sibling")
    html = client.post(f"/cases/{episode.id}/members/new", data=data).get_data(as_text=True)
    assert "Familjemedlem 6 (P-SIBLING) har redan ett öppet ärende i din förvaltning." in html
    assert "det angivna födelseåret, 2013, skiljer sig från det sparade, 2012" in html
    assert len(db.session.get(Episode, episode.id).participants) == 5  # nothing saved yet
    key = re.search(r'name="accept_warnings" value="([^"]+)"', html).group(1)
    assert client.post(f"/cases/{episode.id}/members/new", data={**data, "accept_warnings": key}).status_code == 302
    db.session.expire_all()
    added = db.session.get(Episode, episode.id).participants[-1].person
    assert (added.ref, added.birth_year) == ("P-SIBLING", 2012)
    # The same person twice in one case is refused.
    response = client.post(f"/cases/{episode.id}/members/new", data=member(7, "parent", existing="P-SIBLING"))
    assert response.status_code == 422 and "P-SIBLING är redan med i ärendet." in response.get_data(as_text=True)


@pytest.mark.parametrize("data, message", [
    (member(6), "Familjemedlem 6: välj en roll."),
    (member(6, "index", "20x9"), "Familjemedlem 6: födelseåret ska vara fyra siffror"),
    (member(6, "index", existing="P-NOBODY"), "det finns ingen person med den referensen i din förvaltning"),
    (member(6, "index", existing="19121212-1212"), "ser ut som ett personnummer"),
])
def test_a_bad_new_member_adds_nobody(client, org, family, data, message):
    sign_in(client, org["anna"])
    response = client.post(f"/cases/{family.id}/members/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html
    assert "19121212-1212" not in html
    assert len(db.session.get(Episode, family.id).participants) == 5


def test_members_are_added_only_to_open_cases_of_one_s_own_scope_and_up_to_ten(client, org, family):
    episode = family
    for who, status in (("bert", 404), ("cecilia", 404), ("kvalitet", 403), ("admin", 403)):
        sign_in(client, org[who])
        assert client.post(f"/cases/{episode.id}/members/new", data=member(6, "index", "2019")).status_code == status
    for n in range(5):
        factories.participant(episode, "other", birth_year=1990)
    factories.commit()
    sign_in(client, org["anna"])
    response = client.get(f"/cases/{episode.id}/members/new")
    assert response.status_code == 302
    assert "högst 10 familjemedlemmar" in client.get(f"/cases/{episode.id}").get_data(as_text=True)
    closed = factories.episode(org["units"]["A"], org["anna"], end_date=date(2025, 6, 1))
    factories.commit()
    assert client.post(f"/cases/{closed.id}/members/new", data=member(1, "index", "2019")).status_code == 302
    assert db.session.get(Episode, closed.id).participants == []
    assert len(db.session.get(Episode, episode.id).participants) == 10
