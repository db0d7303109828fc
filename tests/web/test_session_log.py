"""Logging a session: defaults by age, comma decimals, collateral ratings, reasons, and bad input."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from fitapp.extensions import db
from fitapp.models import Attendance, AuditEvent, Rating, Session
from tests import factories
from tests.web.conftest import counted_queries, sign_in


@pytest.fixture
def family(org):
    """Child born 2021 (young: YCORS), child born 2015 (CORS), mother 1985 (ORS); case from 2025."""
    episode = factories.episode(org["units"]["A"], org["anna"], ref="LOG-1", start_date=date(2025, 1, 13))
    small = factories.participant(episode, "index", birth_year=date.today().year - 4, ref="P-SMALL")
    child = factories.participant(episode, "index", birth_year=date.today().year - 10, ref="P-CHILD")
    mother = factories.participant(episode, "parent", birth_year=1985, ref="P-MUM")
    factories.commit()
    return {"episode": episode, "small": small, "child": child, "mother": mother}


def page(client, family):
    return client.get(f"/cases/{family['episode'].id}/sessions/new")


def scale(prefix, values, instrument=None):
    data = {f"{prefix}-{n}": v for n, v in enumerate(values, start=1)}
    if instrument:
        data[f"{prefix}-instrument"] = instrument
    return data


def person(p, outcome=None, alliance=None, *, present=True, o_inst=None, a_inst=None, reason=""):
    pid = p.id
    data = {f"outcome-{pid}-instrument": o_inst, f"alliance-{pid}-instrument": a_inst, f"reason-{pid}": reason}
    if present:
        data[f"present-{pid}"] = "1"
    data.update(scale(f"outcome-{pid}", outcome or ["", "", "", ""]))
    data.update(scale(f"alliance-{pid}", alliance or ["", "", "", ""]))
    return data


def full_form(family, day=None):
    """A valid session: everyone present and rating both scales with the instruments for their age."""
    return {
        "date": (day or date.today()).isoformat(),
        **person(family["small"], ["5", "5", "5", "5"], ["9", "9", "9", "9"], o_inst="YCORS", a_inst="YCSRS"),
        **person(family["child"], ["7,5", "6,0", "5.5", "8"], ["9,5", "9", "9", "9,9"], o_inst="CORS", a_inst="CSRS"),
        **person(family["mother"], ["4", "5", "6", "7"], ["10", "9", "9", "8,5"], o_inst="ORS", a_inst="SRS"),
    }


def counts():
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Session, Attendance, Rating))


def post(client, family, data):
    return client.post(f"/cases/{family['episode'].id}/sessions/new", data=data)


def test_the_form_defaults_instruments_by_age_and_everyone_present(client, org, family):
    sign_in(client, org["anna"])
    html = page(client, family).get_data(as_text=True)
    for p, outcome, alliance in (("small", "YCORS", "YCSRS"), ("child", "CORS", "CSRS"), ("mother", "ORS", "SRS")):
        pid = family[p].id
        assert re.search(rf'id="outcome-{pid}-instrument".*?<option value="{outcome}" selected>', html, re.S)
        assert re.search(rf'id="alliance-{pid}-instrument".*?<option value="{alliance}" selected>', html, re.S)
        assert f'name="present-{pid}" value="1" checked' in html
    assert f'value="{date.today().isoformat()}"' in html
    # The fast path starts in the first item; the script for live totals is a file (CSP: no inline JS).
    assert re.search(rf'id="outcome-{family["small"].id}-1"[^>]*autofocus', html)
    assert '<script src="/static/js/session-form.js" defer></script>' in html
    assert "<script>" not in html


def test_a_session_is_saved_with_comma_and_point_decimals(client, org, family):
    sign_in(client, org["anna"])
    response = post(client, family, full_form(family))
    assert response.status_code == 302 and response.headers["Location"] == f"/cases/{family['episode'].id}"
    session = db.session.scalars(select(Session)).one()
    assert (session.number, session.date, session.created_by_id) == (1, date.today(), org["anna"].id)
    ratings = {(r.subject_id, r.instrument): r for r in db.session.scalars(select(Rating))}
    assert len(ratings) == 6
    child = ratings[(family["child"].id, "CORS")]
    assert [str(i) for i in child.items] == ["7.5", "6", "5.5", "8"] and child.total_x10 == 270
    assert ratings[(family["child"].id, "CSRS")].total_x10 == 374
    assert all(r.rater_id == r.subject_id for r in ratings.values())
    assert len(db.session.scalars(select(Attendance)).all()) == 3
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "create_session")).all()
    assert (event.object_type, event.object_id, event.actor_name) == ("session", str(session.id), "anna")
    assert "Samtal 1 är sparat." in client.get(response.headers["Location"]).get_data(as_text=True)


def test_the_next_session_gets_the_next_number_even_after_a_deletion(client, org, family):
    sign_in(client, org["anna"])
    post(client, family, full_form(family, date.today() - timedelta(days=14)))
    post(client, family, full_form(family, date.today() - timedelta(days=7)))
    second = db.session.scalars(select(Session).where(Session.number == 2)).one()
    client.post(f"/cases/{family['episode'].id}/sessions/{second.id}/delete", data={"reason": "duplicate"})
    post(client, family, full_form(family))
    assert sorted(db.session.scalars(select(Session.number))) == [1, 2, 3]


def test_the_save_takes_few_queries(client, org, family):
    sign_in(client, org["anna"])
    data, url = full_form(family), f"/cases/{family['episode'].id}/sessions/new"
    with counted_queries() as queries:
        assert client.post(url, data=data).status_code == 302
    # The web session read first and saved last (fitapp.session_store: 2, in their own transactions);
    # between them user, episode, the user's memberships (access follows today's membership of the
    # case's unit), participants; then number, session, attendance, ratings; the episode's derived
    # rows (norm set with its rows, ratings, live sessions counted, delete and insert of the series and
    # of the tallies, index participants read, delete and insert of the index persons); audit last
    # (chain lock on PostgreSQL, hash, event): nothing per person or rating, and everything in one
    # transaction.
    assert len(queries) == 22 + (db.engine.dialect.name == "postgresql"), queries
    assert queries[0].startswith("SELECT web_session.") and queries[-1].startswith("UPDATE web_session SET data=")
    assert queries[-2].startswith("INSERT INTO audit_event")
    for table in ("rating", "series_summary", "episode_summary", "index_person_summary"):
        assert sum(q.startswith(f"INSERT INTO {table}") for q in queries) == 1


def test_a_collateral_rating(client, org, family):
    """The mother rates the small child on YCORS; the child does not rate (too young)."""
    sign_in(client, org["anna"])
    data = full_form(family)
    data.update(person(family["small"], o_inst="YCORS", a_inst="YCSRS", reason="too_young"))
    data.update({"collateral-1-subject": str(family["small"].id), "collateral-1-rater": str(family["mother"].id),
                 "collateral-1-instrument": "YCORS", **scale("collateral-1", ["3", "4,5", "5", "6"])})
    assert post(client, family, data).status_code == 302
    [collateral] = db.session.scalars(select(Rating).where(Rating.rater_id != Rating.subject_id)).all()
    assert (collateral.subject_id, collateral.rater_id, collateral.instrument, collateral.total_x10) == (
        family["small"].id, family["mother"].id, "YCORS", 185)
    assert db.session.scalars(select(Rating).where(Rating.subject_id == family["small"].id)).all() == [collateral]
    reasons = {a.participant_id: a.no_rating_reason for a in db.session.scalars(select(Attendance))}
    assert reasons == {family["small"].id: "too_young", family["child"].id: None, family["mother"].id: None}
    html = client.get(f"/cases/{family['episode'].id}").get_data(as_text=True)
    assert "YCORS, skattad av P-MUM (förälder)" in html


def test_the_collateral_instrument_defaults_by_the_age_of_the_person_rated(client, org, family):
    sign_in(client, org["anna"])
    data = full_form(family)
    data.update({"collateral-1-subject": str(family["child"].id), "collateral-1-rater": str(family["mother"].id),
                 **scale("collateral-1", ["3", "4", "5", "6"])})
    assert post(client, family, data).status_code == 302
    [collateral] = db.session.scalars(select(Rating).where(Rating.rater_id != Rating.subject_id)).all()
    assert collateral.instrument == "CORS"


def test_an_absent_person_needs_no_ratings(client, org, family):
    sign_in(client, org["anna"])
    data = full_form(family)
    data.update(person(family["mother"], present=False, o_inst="ORS", a_inst="SRS"))
    del data[f"present-{family['mother'].id}"]
    assert post(client, family, data).status_code == 302
    assert {a.participant_id for a in db.session.scalars(select(Attendance))} == {
        family["small"].id, family["child"].id}


def test_the_instrument_can_be_changed(client, org, family):
    sign_in(client, org["anna"])
    data = full_form(family)
    data[f"outcome-{family['child'].id}-instrument"] = "ORS"
    assert post(client, family, data).status_code == 302
    assert db.session.scalar(select(Rating.instrument).where(
        Rating.subject_id == family["child"].id, Rating.instrument.in_(["ORS", "CORS"]))) == "ORS"


BAD_INPUT = [
    # (change to the valid form, field with the message, words of the message)
    (lambda f: {"outcome-{child}-2": "11"}, "outcome-{child}-2", "P-CHILD CORS del 2: 11 ligger utanför 0–10."),
    (lambda f: {"outcome-{child}-2": "7,25"}, "outcome-{child}-2", "P-CHILD CORS del 2: 7,25 har mer än en decimal."),
    (lambda f: {"outcome-{child}-2": "sju"}, "outcome-{child}-2", "P-CHILD CORS del 2: ”sju” är inget tal"),
    (lambda f: {"outcome-{child}-4": ""}, "outcome-{child}-4",
     "P-CHILD CORS del 4: fyll i alla fyra delarna, eller lämna alla fyra tomma."),
    (lambda f: {f"alliance-{{child}}-{n}": "" for n in range(1, 5)}, "reason-{child}",
     "P-CHILD (barn/ung): ingen skattning av allians; välj ett skäl, eller fyll i skalan."),
    (lambda f: {"present-{mother}": None}, "present-{mother}",
     "P-MUM (förälder): har skattningar men är inte markerad som närvarande."),
    (lambda f: {"date": "2024-12-31"}, "date", "Datum: kan inte vara före ärendets start (2025-01-13)."),
    (lambda f: {"date": (date.today() + timedelta(days=1)).isoformat()}, "date", "Datum: kan inte vara i framtiden."),
    (lambda f: {"date": "31/12"}, "date", "Datum: ”31/12” är inget datum"),
    (lambda f: {"outcome-{child}-instrument": "SRS"}, "outcome-{child}-instrument",
     "P-CHILD (barn/ung): välj ett formulär för utfallsskalan."),
    (lambda f: {"collateral-1-subject": "{mother}", "collateral-1-rater": "{mother}", "collateral-1-1": "1",
                "collateral-1-2": "1", "collateral-1-3": "1", "collateral-1-4": "1"}, "collateral-1-rater",
     "Skattning av någon annan, rad 1: en skattning av någon annan kräver två olika personer"),
]


@pytest.mark.parametrize("change, field, message", BAD_INPUT)
def test_bad_input_is_shown_and_nothing_is_saved(client, org, family, change, field, message):
    ids = {"child": family["child"].id, "mother": family["mother"].id, "small": family["small"].id}
    data = full_form(family)
    for key, value in change(data).items():
        key = key.format(**ids)
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value.format(**ids)
    sign_in(client, org["anna"])
    before = counts()
    response = post(client, family, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert counts() == before == (0, 0, 0)
    assert "Ingenting sparades. Rätta följande:" in html
    field = field.format(**ids)
    assert f'<a href="#{field}">' in html and message in html
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', html)
    # Nothing typed is lost: every other value comes back as typed.
    mother_first = data["outcome-%d-1" % ids["mother"]]
    assert f'value="{mother_first}"' in html
    assert 'value="7,5"' in html


def test_a_reason_is_needed_only_when_a_scale_is_missing(client, org, family):
    sign_in(client, org["anna"])
    data = full_form(family)
    data[f"reason-{family['child'].id}"] = "declined"  # both scales filled in: the reason is not stored
    assert post(client, family, data).status_code == 302
    assert db.session.scalar(select(Attendance.no_rating_reason).where(
        Attendance.participant_id == family["child"].id)) is None


def test_server_computed_totals_are_shown_when_the_form_comes_back(client, org, family):
    sign_in(client, org["anna"])
    data = full_form(family)
    data["date"] = "nonsense"
    html = post(client, family, data).get_data(as_text=True)
    assert re.search(rf'id="outcome-{family["child"].id}-total"[^>]*>27,0<', html)


def test_nothing_can_be_logged_on_a_closed_case(client, org):
    episode = factories.episode(org["units"]["A"], org["anna"], end_date=date(2025, 6, 1))
    factories.participant(episode, "index", birth_year=2015)
    factories.commit()
    sign_in(client, org["anna"])
    response = client.get(f"/cases/{episode.id}/sessions/new")
    assert response.status_code == 302 and response.headers["Location"] == f"/cases/{episode.id}"
    assert client.post(f"/cases/{episode.id}/sessions/new", data={"date": "2025-05-01"}).status_code == 302
    assert counts() == (0, 0, 0)
