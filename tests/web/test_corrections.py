"""Corrections keep the old value; deletions are soft and hide the row from every view."""
import re
from datetime import date

import pytest
from sqlalchemy import select

from fitapp.cases.services import caseload_for, episode_view
from fitapp.extensions import db
from fitapp.models import AuditEvent, Rating, RatingRevision, SeriesSummaryRecord, Session, SessionRevision
from tests import factories
from tests.web.conftest import sign_in


@pytest.fixture
def case(org):
    """CORS 30.0 -> 20.0 for a child born 2015: d = -10 <= -RC 6: a deterioration alert."""
    episode = factories.episode(org["units"]["A"], org["anna"], ref="COR-1", start_date=date(2025, 1, 13))
    child = factories.participant(episode, "index", birth_year=2015, ref="P-COR")
    first, second = factories.series(episode, child, "CORS", ["30.0", "20.0"])
    factories.commit()
    return {"episode": episode, "child": child, "first": first, "second": second}


def actions():
    return [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
            if e.action != "view_episode"]


def kinds(episode):
    return [a.kind for a in episode_view(episode).alerts]


def test_correcting_a_rating_keeps_the_old_value(client, org, case):
    sign_in(client, org["anna"])
    url = f"/cases/{case['episode'].id}/ratings/{case['second'].id}/correct"
    form = client.get(url).get_data(as_text=True)
    assert 'value="5,0"' in form  # the current items, in the UI's decimal style
    assert 'id="item-1" name="item-1" value="5,0" autofocus>' in form  # the first field has the focus
    response = client.post(url, data={"item-1": "7,5", "item-2": "7,5", "item-3": "7,5", "item-4": "7,5",
                                      "reason": "typing_error"})
    assert response.status_code == 302
    # Back at the corrected row.
    assert response.headers["Location"] == f"/cases/{case['episode'].id}#rating-{case['second'].id}"
    db.session.expire_all()
    rating = db.session.get(Rating, case["second"].id)
    assert rating.total_x10 == 300 and rating.deleted_at is None
    [revision] = db.session.scalars(select(RatingRevision)).all()
    assert (revision.rating_id, revision.old_total_x10, revision.old_item1_x10) == (rating.id, 200, 50)
    assert (revision.reason, revision.changed_by_id) == ("typing_error", org["anna"].id)
    assert actions() == ["correct_rating"]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "correct_rating")).one()
    assert (event.object_type, event.object_id) == ("rating", str(rating.id))
    html = client.get(f"/cases/{case['episode'].id}").get_data(as_text=True)
    assert "30,0 <span class=\"corrected\">(rättad)</span>" in html


def test_a_correction_removes_the_alert_it_caused(client, org, case):
    assert kinds(case["episode"]) == ["deterioration"]
    sign_in(client, org["anna"])
    client.post(f"/cases/{case['episode'].id}/ratings/{case['second'].id}/correct",
                data={"item-1": "7,5", "item-2": "7,5", "item-3": "7,5", "item-4": "7,5", "reason": "typing_error"})
    db.session.expire_all()
    assert kinds(case["episode"]) == []
    # The reports' series summaries follow the correction.
    summary = db.session.scalars(select(SeriesSummaryRecord)).one()
    assert (summary.last_x10, summary.category) == (300, "unchanged")


@pytest.mark.parametrize("data, field, message", [
    ({"item-1": "5", "item-2": "5", "item-3": "5", "item-4": "5", "reason": ""}, "reason",
     "Skäl till rättelsen: välj ett av alternativen."),
    ({"item-1": "5", "item-2": "5", "item-3": "5", "item-4": "5", "reason": "typing_error"}, "item-1",
     "värdena är desamma som förut; inget att rätta."),
    ({"item-1": "12", "item-2": "5", "item-3": "5", "item-4": "5", "reason": "typing_error"}, "item-1",
     "P-COR CORS del 1: 12 ligger utanför 0–10."),
])
def test_a_bad_correction_changes_nothing(client, org, case, data, field, message):
    sign_in(client, org["anna"])
    response = client.post(f"/cases/{case['episode'].id}/ratings/{case['second'].id}/correct", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html and f'<a href="#{field}">' in html
    assert 'value="12"' in html or data["item-1"] != "12"
    db.session.expire_all()
    assert db.session.get(Rating, case["second"].id).total_x10 == 200
    assert db.session.scalars(select(RatingRevision)).all() == [] and actions() == []


def test_correcting_a_session_date_keeps_the_old_date(client, org, case):
    sign_in(client, org["anna"])
    session = case["second"].session
    old = session.date
    form = client.get(f"/cases/{case['episode'].id}/sessions/{session.id}/correct").get_data(as_text=True)
    assert re.search(r'name="date" value="[\d-]+" autofocus>', form)
    response = client.post(f"/cases/{case['episode'].id}/sessions/{session.id}/correct",
                           data={"date": "2025-01-22", "reason": "wrong_date"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/cases/{case['episode'].id}#session-{session.id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'<tr id="session-{session.id}">' in page and f'<tr id="rating-{case["second"].id}">' in page
    db.session.expire_all()
    assert db.session.get(Session, session.id).date == date(2025, 1, 22)
    [revision] = db.session.scalars(select(SessionRevision)).all()
    assert (revision.old_date, revision.reason) == (old, "wrong_date")
    assert actions() == ["correct_session"]


def test_a_session_correction_needs_a_reason(client, org, case):
    sign_in(client, org["anna"])
    session = case["second"].session
    response = client.post(f"/cases/{case['episode'].id}/sessions/{session.id}/correct",
                           data={"date": "2025-01-22", "reason": ""})
    assert response.status_code == 422
    assert 'value="2025-01-22"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalars(select(SessionRevision)).all() == []


def test_a_deleted_rating_disappears_everywhere_but_is_kept(client, org, case):
    sign_in(client, org["anna"])
    assert [r.alerts[0].kind for r in caseload_for(org["anna"], date.today()).rows] == ["deterioration"]
    response = client.post(f"/cases/{case['episode'].id}/ratings/{case['second'].id}/delete",
                           data={"reason": "wrong_person"})
    assert response.status_code == 302
    db.session.expire_all()
    rating = db.session.get(Rating, case["second"].id)
    assert rating.deleted_at is not None and rating.deleted_by_id == org["anna"].id
    assert rating.delete_reason == "wrong_person"
    assert actions() == ["delete_rating"]
    # Case page: one rating left, no alert.
    html = client.get(f"/cases/{case['episode'].id}").get_data(as_text=True)
    assert "20,0" not in html and "Inga varningar." in html
    assert re.search(r"<dt>Skattningar</dt><dd>1</dd>", html)
    # Caseload: no alert either; the session still counts (only the rating was deleted).
    [row] = caseload_for(org["anna"], date.today()).rows
    assert row.alerts == () and row.sessions == 2


def test_a_deleted_rating_can_be_entered_again(client, org, case):
    sign_in(client, org["anna"])
    client.post(f"/cases/{case['episode'].id}/ratings/{case['second'].id}/delete", data={"reason": "wrong_person"})
    again = factories.rating(case["second"].session, "CORS", case["child"], "25.0")
    factories.commit()
    live = db.session.scalars(select(Rating).where(Rating.deleted_at.is_(None))).all()
    assert sorted(r.total_x10 for r in live) == [250, 300] and again.id != case["second"].id


def test_two_live_ratings_of_the_same_series_in_one_session_are_refused(app, org, case):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        factories.rating(case["second"].session, "CORS", case["child"], "25.0")
    db.session.rollback()


def test_a_deleted_session_hides_its_ratings_and_counts(client, org, case):
    sign_in(client, org["anna"])
    session = case["second"].session
    assert client.post(f"/cases/{case['episode'].id}/sessions/{session.id}/delete",
                       data={"reason": "duplicate"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Session, session.id).delete_reason == "duplicate"
    [row] = caseload_for(org["anna"], date.today()).rows
    assert (row.sessions, row.alerts) == (1, ())
    view = episode_view(case["episode"])
    assert view.session_count == 1 and [r.total for r in view.participants[0].ratings] == [30]
    assert actions() == ["delete_session"]
    # A deleted session cannot be corrected or deleted again.
    assert client.get(f"/cases/{case['episode'].id}/sessions/{session.id}/correct").status_code == 404


def test_deleting_needs_a_reason(client, org, case):
    sign_in(client, org["anna"])
    response = client.post(f"/cases/{case['episode'].id}/ratings/{case['second'].id}/delete", data={})
    assert response.status_code == 422
    assert "Skäl till borttagning: välj ett av alternativen." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Rating, case["second"].id).deleted_at is None and actions() == []
