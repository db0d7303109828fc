"""Every route of the therapist workflow: who may use it, and that refused requests write nothing."""
from datetime import date

import pytest
from sqlalchemy import func, select

from fitapp.extensions import db
from fitapp.models import AuditEvent, Episode, Rating, RatingRevision, Session, SessionRevision
from tests import factories
from tests.web.conftest import sign_in


@pytest.fixture
def case(org):
    episode = factories.episode(org["units"]["A"], org["anna"], ref="ACC-1", start_date=date(2025, 1, 13))
    child = factories.participant(episode, "index", birth_year=2015, ref="P-ACC")
    rating = factories.rating(factories.session(episode, 1), "CORS", child, "20.0")
    factories.commit()
    return {"episode": episode, "rating": rating, "session": rating.session}


ROUTES = {
    "new_session": "/cases/{e}/sessions/new",
    "correct_rating": "/cases/{e}/ratings/{r}/correct",
    "delete_rating": "/cases/{e}/ratings/{r}/delete",
    "correct_session": "/cases/{e}/sessions/{s}/correct",
    "delete_session": "/cases/{e}/sessions/{s}/delete",
    "close": "/cases/{e}/close",
    "reassign": "/cases/{e}/reassign",
}

# A POST body that would be valid for each route, so a refusal cannot come from bad input.
VALID_POSTS = {
    "new_session": {"date": "2025-02-01", "present-{c}": "1", "outcome-{c}-instrument": "CORS",
                    "alliance-{c}-instrument": "CSRS", **{f"outcome-{{c}}-{n}": "5" for n in range(1, 5)},
                    **{f"alliance-{{c}}-{n}": "9" for n in range(1, 5)}},
    "correct_rating": {"item-1": "9", "item-2": "5", "item-3": "5", "item-4": "5", "reason": "typing_error"},
    "delete_rating": {"reason": "duplicate"},
    "correct_session": {"date": "2025-01-14", "reason": "wrong_date"},
    "delete_session": {"reason": "duplicate"},
    "close": {"end_date": "2025-03-01", "end_reason": "planned", "child_took_part": "yes"},
    "reassign": {"therapist": "{arvid}"},
}


def url(name, case):
    return ROUTES[name].format(e=case["episode"].id, r=case["rating"].id, s=case["session"].id)


def body(name, case, org):
    child_id = case["rating"].subject_id
    return {k.format(c=child_id): v.format(arvid=org["arvid"].id) for k, v in VALID_POSTS[name].items()}


def snapshot():
    """Everything a workflow route could write."""
    count = lambda model: db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
    episode = db.session.scalars(select(Episode)).first()
    ratings = [(r.total_x10, r.deleted_at) for r in db.session.scalars(select(Rating).order_by(Rating.id))]
    sessions = [(s.date, s.deleted_at) for s in db.session.scalars(select(Session).order_by(Session.id))]
    return (ratings, sessions, count(RatingRevision), count(SessionRevision),
            (episode.therapist_id, episode.end_date),
            [e.action for e in db.session.scalars(select(AuditEvent)) if e.action != "view_episode"])


# Unit heads may use every route; the therapist every route but reassigning.
EXPECTED_GET = {
    "anna": {name: 200 for name in ROUTES} | {"reassign": 403},
    "chef_a": {name: 200 for name in ROUTES},
    "arvid": {name: 404 for name in ROUTES},    # same unit, not responsible
    "bert": {name: 404 for name in ROUTES},     # another unit of the district
    "cecilia": {name: 404 for name in ROUTES},  # another district
    "kvalitet": {name: 403 for name in ROUTES},
    "admin": {name: 403 for name in ROUTES},
}


@pytest.mark.parametrize("who", list(EXPECTED_GET))
def test_who_may_open_each_page(client, org, case, who):
    sign_in(client, org[who])
    got = {name: client.get(url(name, case)).status_code for name in ROUTES}
    assert got == EXPECTED_GET[who]


@pytest.mark.parametrize("who", ["arvid", "bert", "cecilia", "kvalitet", "admin"])
def test_refused_users_change_nothing(client, org, case, who):
    before = snapshot()
    sign_in(client, org[who])
    statuses = {name: client.post(url(name, case), data=body(name, case, org)).status_code for name in ROUTES}
    assert set(statuses.values()) == {EXPECTED_GET[who]["close"]}
    db.session.expire_all()
    assert snapshot() == before


def test_a_therapist_cannot_reassign_their_own_case(client, org, case):
    sign_in(client, org["anna"])
    assert client.post(url("reassign", case), data=body("reassign", case, org)).status_code == 403
    db.session.expire_all()
    assert db.session.get(Episode, case["episode"].id).therapist_id == org["anna"].id


def test_the_head_of_another_unit_gets_404_everywhere(client, org, case):
    head_b = factories.staff("chef_b", "unit_head", [org["units"]["B"]])
    factories.commit()
    sign_in(client, head_b)
    assert {client.get(url(name, case)).status_code for name in ROUTES} == {404}


def test_anonymous_visitors_are_sent_to_login(client, case, org):
    for name in ROUTES:
        for response in (client.get(url(name, case)), client.post(url(name, case), data=body(name, case, org))):
            assert response.status_code == 302
            assert response.headers["Location"].startswith("/login?next=")
    assert client.get("/cases/new").status_code == 302


@pytest.mark.parametrize("who, status", [("anna", 200), ("chef_a", 403), ("kvalitet", 403), ("admin", 403)])
def test_only_therapists_open_cases(client, org, who, status):
    sign_in(client, org[who])
    assert client.get("/cases/new").status_code == status


def test_a_rating_or_session_of_another_case_is_not_found(client, org, case):
    other = factories.episode(org["units"]["A"], org["anna"], ref="ACC-2")
    factories.commit()
    sign_in(client, org["anna"])
    for name in ("correct_rating", "delete_rating", "correct_session", "delete_session"):
        wrong = ROUTES[name].format(e=other.id, r=case["rating"].id, s=case["session"].id)
        assert client.get(wrong).status_code == 404


def test_state_changes_need_the_csrf_token(app, client, org, case):
    app.config["WTF_CSRF_ENABLED"] = True
    sign_in(client, org["anna"])
    before = snapshot()
    for name in ROUTES:
        assert client.post(url(name, case), data=body(name, case, org)).status_code == 400
    db.session.expire_all()
    assert snapshot() == before


def test_workflow_pages_are_never_cached_and_reads_are_audited(client, org, case):
    sign_in(client, org["anna"])
    for name in ROUTES:
        if name != "reassign":
            assert client.get(url(name, case)).headers["Cache-Control"] == "no-store"
    views = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "view_episode")).all()
    assert len(views) == len(ROUTES) - 1
