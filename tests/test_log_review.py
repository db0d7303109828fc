"""Log review (loggkontroll): highlights, month boundaries, unit scoping, access, the review recorded once, audit."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from fitapp.extensions import db
from fitapp.log_review import services
from fitapp.log_review.services import ORGANISATION_TIME, PAGE_SIZE, LogScope
from fitapp.models import AuditEvent, LogReview
from fitapp.models.audit import last_hash
from tests import factories
from tests.web.conftest import org, sign_in  # noqa: F401  (fixture and helper re-exported)

MARCH = date(2025, 3, 1)


@pytest.fixture(autouse=True)
def _app(app):
    """Every test on both backends, with the app context open before the organisation is built."""
    return app


def local(*fields) -> datetime:
    """An instant given on the organisation's clock (Stockholm), as UTC."""
    return datetime(*fields, tzinfo=ORGANISATION_TIME).astimezone(timezone.utc)


def add_events(*specs) -> None:
    """Chained audit events at chosen times: (action, at, actor, object_type, object_id, unit[, remote_addr])."""
    previous = last_hash()
    for action, at, actor, object_type, object_id, unit, *addr in specs:
        event = AuditEvent(at=at, actor_id=actor.id if actor else None, actor_name=actor.username if actor else None,
                           action=action, object_type=object_type,
                           object_id=None if object_id is None else str(object_id),
                           unit_id=unit.id if unit else None, remote_addr=addr[0] if addr else "10.0.0.1",
                           prev_hash=previous)
        event.hash = previous = event.compute_hash()
        db.session.add(event)
    db.session.commit()


def rows_of(scope, month=MARCH, only_highlighted=False, number=1):
    counts = services.log_counts(scope, month)
    return counts, services.log_page(scope, month, counts, number, only_highlighted, case_references=True)


@pytest.fixture
def cases(org):  # noqa: F811
    """Anna's case in unit A (with a session and a rating) and Bert's case in unit B."""
    a = factories.episode(org["units"]["A"], org["anna"], ref="LOG-A")
    child = factories.participant(a, "index", birth_year=2015, ref="P-LOG")
    rating = factories.rating(factories.session(a, 1), "CORS", child, "20.0")
    b = factories.episode(org["units"]["B"], org["bert"], ref="LOG-B")
    factories.commit()
    return {"a": a, "session": rating.session, "rating": rating, "b": b}


def test_own_case_is_plain_a_colleagues_case_is_highlighted_and_a_non_member_is_a_red_flag(org, cases):  # noqa: F811
    a, unit_a = cases["a"], org["units"]["A"]
    add_events(
        ("view_episode", local(2025, 3, 3, 9), org["anna"], "episode", a.id, unit_a),
        ("create_session", local(2025, 3, 3, 10), org["anna"], "session", cases["session"].id, unit_a),
        ("view_episode", local(2025, 3, 4, 9), org["arvid"], "episode", a.id, unit_a),
        ("correct_rating", local(2025, 3, 4, 10), org["arvid"], "rating", cases["rating"].id, unit_a),
        ("view_episode", local(2025, 3, 5, 9), org["chef_a"], "episode", a.id, unit_a),
        ("view_episode", local(2025, 3, 6, 9), org["bert"], "episode", a.id, unit_a),
        # Deletion after the retention period is the administrator's duty: shown, not highlighted.
        ("retention_prune_episode", local(2025, 3, 7, 9), org["admin"], "episode", a.id, unit_a),
        ("retention_delete_episode", local(2025, 3, 7, 9), org["admin"], "episode", 99999, unit_a),
    )
    counts, page = rows_of(LogScope(unit_a))
    assert counts == services.LogCounts(events=8, highlighted=4, not_member=1)
    flags = [(r.actor, r.action, r.case_ref, r.outside_caseload, r.not_member) for r in page.rows]
    assert flags == [
        ("anna", "view_episode", "LOG-A", False, False),
        ("anna", "create_session", "LOG-A", False, False),      # a session is traced to its case
        ("arvid", "view_episode", "LOG-A", True, False),
        ("arvid", "correct_rating", "LOG-A", True, False),      # so is a rating
        ("chef_a", "view_episode", "LOG-A", True, False),       # the unit head: highlighted, may be legitimate
        ("bert", "view_episode", "LOG-A", True, True),          # not in unit A at all
        ("admin", "retention_prune_episode", "LOG-A", False, False),
        ("admin", "retention_delete_episode", None, False, False),
    ]
    assert page.rows[0].actor_role == "therapist" and page.rows[4].actor_role == "unit_head"
    assert page.rows[0].at == datetime(2025, 3, 3, 9, tzinfo=ORGANISATION_TIME)
    _, only = rows_of(LogScope(unit_a), only_highlighted=True)
    assert [r.actor for r in only.rows] == ["arvid", "arvid", "chef_a", "bert"] and only.total == 4


def test_a_case_shown_on_someone_s_case_list_is_in_the_log_and_judged_like_a_read(org, cases):  # noqa: F811
    # The caseload names each case's references (fitapp.cases.services.record_caseload_view): the
    # review sees who had which case in front of them, and a colleague's list is highlighted.
    a, unit_a = cases["a"], org["units"]["A"]
    add_events(
        ("view_caseload", local(2025, 3, 3, 8), org["anna"], "episode", a.id, unit_a),
        ("view_caseload", local(2025, 3, 3, 8), org["arvid"], "episode", a.id, unit_a),
    )
    counts, page = rows_of(LogScope(unit_a))
    assert counts == services.LogCounts(events=2, highlighted=1, not_member=0)
    assert [(r.actor, r.action, r.case_ref, r.outside_caseload) for r in page.rows] == [
        ("anna", "view_caseload", "LOG-A", False), ("arvid", "view_caseload", "LOG-A", True)]


def test_membership_is_judged_on_the_organisations_day_of_the_access(org, cases):  # noqa: F811
    unit_a = org["units"]["A"]
    leaver = factories.staff("leaver", "therapist", [unit_a], valid_to=date(2025, 3, 10))
    factories.commit()
    add_events(
        ("view_episode", local(2025, 3, 10, 23, 30), leaver, "episode", cases["a"].id, unit_a),
        # 00:30 on the 11th in Stockholm is still the 10th in UTC: the day after the membership ended.
        ("view_episode", local(2025, 3, 11, 0, 30), leaver, "episode", cases["a"].id, unit_a),
    )
    _, page = rows_of(LogScope(unit_a))
    assert [r.not_member for r in page.rows] == [False, True]


def test_a_month_is_the_organisations_month_not_utcs(org, cases):  # noqa: F811
    unit_a, a = org["units"]["A"], cases["a"].id
    add_events(
        ("view_episode", local(2025, 2, 28, 23, 59, 59), org["anna"], "episode", a, unit_a, "before"),
        ("view_episode", local(2025, 3, 1, 0, 0, 0), org["anna"], "episode", a, unit_a, "first"),
        # Summer time began on 30 March: the month ends at 22:00 UTC, not 23:00.
        ("view_episode", local(2025, 3, 31, 23, 59, 59), org["anna"], "episode", a, unit_a, "last"),
        ("view_episode", local(2025, 4, 1, 0, 0, 0), org["anna"], "episode", a, unit_a, "after"),
    )
    assert [r.remote_addr for r in rows_of(LogScope(unit_a))[1].rows] == ["first", "last"]
    assert [r.remote_addr for r in rows_of(LogScope(unit_a), date(2025, 2, 1))[1].rows] == ["before"]
    assert [r.remote_addr for r in rows_of(LogScope(unit_a), date(2025, 4, 1))[1].rows] == ["after"]


def test_a_units_log_holds_its_own_person_level_events_only(org, cases):  # noqa: F811
    unit_a, unit_b = org["units"]["A"], org["units"]["B"]
    add_events(
        ("view_episode", local(2025, 3, 3, 9), org["anna"], "episode", cases["a"].id, unit_a, "a-read"),
        ("view_episode", local(2025, 3, 3, 9), org["bert"], "episode", cases["b"].id, unit_b, "b-read"),
        ("login", local(2025, 3, 3, 8), org["anna"], "staff", org["anna"].id, None, "login"),
        ("view_access_log", local(2025, 3, 3, 8), org["chef_a"], "log_month", "2025-02", unit_a, "log"),
        # The tablet's return is written without a unit: the unit finds it through the case.
        ("tablet_return", local(2025, 3, 3, 11), org["anna"], "episode", cases["a"].id, None, "tablet"),
        ("view_follow_up", local(2025, 3, 3, 12), org["chef_a"], "report_period", "2025-T1", unit_a, "list"),
    )
    addresses = lambda scope: [r.remote_addr for r in rows_of(scope)[1].rows]  # noqa: E731
    assert addresses(LogScope(unit_a)) == ["a-read", "tablet", "list"]
    assert addresses(LogScope(unit_b)) == ["b-read"]
    assert sorted(addresses(LogScope(None))) == ["a-read", "b-read", "list", "tablet"]
    # In the organisation's log each access is judged against the unit of its case.
    assert not any(r.highlighted for r in rows_of(LogScope(None))[1].rows)


def test_pages_hold_at_most_page_size_rows_and_count_the_whole_month(client, org, cases):  # noqa: F811
    unit_a = org["units"]["A"]
    add_events(*[("view_episode", local(2025, 3, 2, 8, n // 60, n % 60), org["arvid"], "episode", cases["a"].id,
                  unit_a, "10.9.9.9") for n in range(PAGE_SIZE + 5)])
    counts, first = rows_of(LogScope(unit_a))
    _, second = rows_of(LogScope(unit_a), number=2)
    assert counts.events == counts.highlighted == PAGE_SIZE + 5
    assert (len(first.rows), len(second.rows), first.pages) == (PAGE_SIZE, 5, 2)
    assert rows_of(LogScope(unit_a), number=3)[1] is None
    sign_in(client, org["chef_a"])
    html = client.get(f"/log-review/?unit={unit_a.id}&month=2025-03&page=2").get_data(as_text=True)
    assert html.count("10.9.9.9") == 5
    assert client.get(f"/log-review/?unit={unit_a.id}&month=2025-03&page=3").status_code == 404


# ---------------------------------------------------------------- access


@pytest.fixture
def people(org):  # noqa: F811
    org["chef_b"] = factories.staff("chef_b", "unit_head", [org["units"]["B"]])
    org["chef_ab"] = factories.staff("chef_ab", "unit_head", [org["units"]["A"], org["units"]["B"]])
    org["former_chef"] = factories.staff("former_chef", "unit_head", [org["units"]["A"]], valid_to=date(2024, 12, 31))
    factories.commit()
    return org


def test_who_may_see_which_log(client, people):
    a, b = people["units"]["A"].id, people["units"]["B"].id
    expected = {
        # who: (own unit A, unit B, the whole organisation, no unit given)
        "anna": (403, 403, 403, 403),
        "kvalitet": (403, 403, 403, 403),
        "chef_a": (200, 404, 404, 200),
        "chef_ab": (200, 200, 404, 200),
        "admin": (200, 200, 200, 200),
        "former_chef": (404, 404, 404, 200),  # no unit today: told so, nothing else
    }
    found = {}
    for who in expected:
        sign_in(client, people[who])
        found[who] = tuple(client.get(path).status_code for path in (
            f"/log-review/?unit={a}", f"/log-review/?unit={b}", "/log-review/?unit=all", "/log-review/"))
    assert found == expected


def test_anonymous_users_are_sent_to_log_in(client, org):  # noqa: F811
    assert client.get("/log-review/").headers["Location"].startswith("/login")
    response = client.post("/log-review/review", data={"unit": org["units"]["A"].id, "month": "2025-03"})
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("query", ["unit=x", "unit=", "unit=1.0", "unit=99999"])
def test_an_unknown_unit_is_not_found(client, org, query):  # noqa: F811
    sign_in(client, org["admin"])
    expected = 200 if query == "unit=" else 404  # empty: the default scope
    assert client.get(f"/log-review/?{query}").status_code == expected


@pytest.mark.parametrize("query", ["month=2025-13", "month=2025-3", "month=March", "month=1999-12", "month=2999-01",
                                   "page=0", "page=-1", "page=two", "show=everything"])
def test_malformed_choices_are_refused_with_a_message(client, org, query):  # noqa: F811
    sign_in(client, org["chef_a"])
    response = client.get(f"/log-review/?unit={org['units']['A'].id}&{query}")
    assert response.status_code == 422
    assert 'class="alert alert--error error-summary"' in response.get_data(as_text=True)


def test_refused_reviews_write_nothing(client, people):
    b = people["units"]["B"].id
    for who, unit, status in (("anna", b, 403), ("kvalitet", b, 403), ("chef_a", b, 404), ("chef_a", "all", 404)):
        sign_in(client, people[who])
        assert client.post("/log-review/review", data={"unit": unit, "month": "2025-03"}).status_code == status
    sign_in(client, people["chef_a"])
    for month in ("2025-3", "", "2999-01"):
        response = client.post("/log-review/review", data={"unit": people["units"]["A"].id, "month": month})
        assert response.status_code == 400
    assert db.session.scalars(select(LogReview)).all() == []
    assert db.session.scalars(select(AuditEvent)).all() == []


def test_the_header_links_to_the_log_review_for_unit_heads_and_administrators(client, org):  # noqa: F811
    for who, shown in (("chef_a", True), ("admin", True), ("anna", False), ("kvalitet", False)):
        sign_in(client, org[who])
        assert ('href="/log-review/"' in client.get("/reports/definitions").get_data(as_text=True)) is shown, who


# ---------------------------------------------------------------- the review


def test_a_month_is_reviewed_once_with_the_counts_seen(client, org, cases):  # noqa: F811
    unit_a = org["units"]["A"]
    add_events(
        ("view_episode", local(2025, 3, 3, 9), org["anna"], "episode", cases["a"].id, unit_a),
        ("view_episode", local(2025, 3, 4, 9), org["arvid"], "episode", cases["a"].id, unit_a),
        ("view_episode", local(2025, 3, 5, 9), org["bert"], "episode", cases["a"].id, unit_a),
    )
    sign_in(client, org["chef_a"])
    page = client.get(f"/log-review/?unit={unit_a.id}&month=2025-03").get_data(as_text=True)
    assert "Markera månaden som granskad" in page
    response = client.post("/log-review/review", data={"unit": unit_a.id, "month": "2025-03"},
                           follow_redirects=True)
    assert response.status_code == 200
    review = db.session.scalars(select(LogReview)).one()
    assert (review.unit_id, review.month, review.reviewed_by_id, review.events_count, review.flagged_count) == (
        unit_a.id, MARCH, org["chef_a"].id, 3, 2)
    html = response.get_data(as_text=True)
    assert "Granskad av chef_a" in html and "Markera månaden som granskad" not in html

    sign_in(client, org["admin"])
    again = client.post("/log-review/review", data={"unit": unit_a.id, "month": "2025-03"}, follow_redirects=True)
    assert "redan granskad av chef_a" in again.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalars(select(LogReview)).one().reviewed_by_id == org["chef_a"].id


def test_the_organisations_review_is_recorded_once_too(client, org):  # noqa: F811
    # unit_id NULL is not covered by the unique constraint: the service itself refuses the second.
    sign_in(client, org["admin"])
    for _ in range(2):
        client.post("/log-review/review", data={"unit": "all", "month": "2025-03"})
    review = db.session.scalars(select(LogReview)).one()
    assert (review.unit_id, review.events_count, review.flagged_count) == (None, 0, 0)


def test_a_month_that_has_not_ended_cannot_be_marked_as_reviewed(client, org):  # noqa: F811
    this_month = services.today_local().replace(day=1)
    sign_in(client, org["chef_a"])
    html = client.get(f"/log-review/?unit={org['units']['A'].id}&month={this_month:%Y-%m}").get_data(as_text=True)
    assert "Markera månaden som granskad" not in html
    response = client.post("/log-review/review", data={"unit": org["units"]["A"].id, "month": f"{this_month:%Y-%m}"},
                           follow_redirects=True)
    assert "har inte tagit slut" in response.get_data(as_text=True)
    assert db.session.scalars(select(LogReview)).all() == []


def test_the_overview_shows_the_last_twelve_months_reviewed_or_not(org):  # noqa: F811
    unit_a = org["units"]["A"]
    today = date(2025, 4, 15)
    services.record_review(org["chef_a"], LogScope(unit_a), MARCH, today)
    db.session.add(LogReview(unit_id=unit_a.id, month=date(2024, 3, 1), reviewed_by_id=org["chef_a"].id,
                             events_count=0, flagged_count=0))  # thirteen months back: out of the overview
    db.session.commit()
    history = services.review_history([LogScope(None), LogScope(unit_a)], today)
    months = [s.month for s in history[str(unit_a.id)]]
    assert months[0] == MARCH and months[-1] == date(2024, 4, 1) and len(months) == 12
    assert [s.reviewer for s in history[str(unit_a.id)]] == ["chef_a"] + [None] * 11
    assert not any(s.is_reviewed for s in history["all"])


def test_the_default_is_the_previous_month(client, org, cases):  # noqa: F811
    previous = services.previous_month(services.today_local())
    add_events(("view_episode", local(previous.year, previous.month, 2, 12), org["arvid"], "episode",
                cases["a"].id, org["units"]["A"], "10.7.7.7"))
    sign_in(client, org["chef_a"])
    assert "10.7.7.7" in client.get("/log-review/").get_data(as_text=True)


# ---------------------------------------------------------------- audit


def test_reading_the_log_and_recording_the_review_are_audited(client, org):  # noqa: F811
    unit_a = org["units"]["A"]
    sign_in(client, org["chef_a"])
    client.get(f"/log-review/?unit={unit_a.id}&month=2025-03")
    client.post("/log-review/review", data={"unit": unit_a.id, "month": "2025-03"})
    sign_in(client, org["admin"])
    client.get("/log-review/?unit=all&month=2025-03")
    events = [(e.action, e.actor_name, e.object_type, e.object_id, e.unit_id)
              for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert events == [
        ("view_access_log", "chef_a", "log_month", "2025-03", unit_a.id),
        ("record_log_review", "chef_a", "log_month", "2025-03", unit_a.id),
        ("view_access_log", "admin", "log_month", "2025-03", None),
    ]
