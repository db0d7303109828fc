"""Retention (gallring): which cases are due, what goes and what stays, audit, dry run, the command."""
from datetime import date, datetime, timedelta, timezone

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from fitapp import retention
from fitapp.audit import record, verify_chain, verify_log
from fitapp.extensions import db
from fitapp.models import (
    Attendance, AuditEvent, Episode, Participant, Person, Rating, RatingRevision, SeriesSummaryRecord, Session,
    SessionRevision,
)
from fitapp.reports.series_store import refresh_series
from tests import factories
from tests.security.conftest import table_contents
from tests.web.conftest import counted_queries

END = date(2019, 6, 10)  # the last entry of the cases built below
DAY_AFTER_PERIOD = date(2024, 6, 11)
PERSON_TABLES = (Episode, Participant, Person, Session, Rating, Attendance, SeriesSummaryRecord)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)


@pytest.fixture
def place():
    unit = factories.unit(code="A")
    return {"unit": unit, "therapist": factories.staff("anna", "therapist", [unit])}


def case(place, *, start=END - timedelta(days=60), end=END, roles=("index", "parent"), exempt=(), sessions=2,
         persons=None):
    """An episode whose members all attend and self-rate every session; every timestamp on its own date.

    ``exempt`` lists the positions (in ``roles``) of exempt persons; ``persons`` reuses existing persons.
    """
    episode = factories.episode(place["unit"], place["therapist"], start_date=start, end_date=end)
    episode.created_at = at(start)
    members = []
    for position, role in enumerate(roles):
        member = factories.participant(episode, role, birth_year=2012 if role == "index" else 1980)
        if persons and position < len(persons):
            db.session.delete(member.person)
            member.person = persons[position]
        member.person.retention_exempt = position in exempt
        members.append(member)
    for number in range(1, sessions + 1):
        session = factories.session(episode, number)
        session.created_at = at(session.date)
        for member in members:
            session.attendance.append(Attendance(participant=member))
            factories.rating(session, "ORS", member, "20.0").created_at = at(session.date)
    db.session.flush()
    return episode


def correct_rating(rating: Rating, day: date) -> None:
    db.session.add(RatingRevision(rating_id=rating.id, old_item1_x10=0, old_item2_x10=0, old_item3_x10=0,
                                  old_item4_x10=0, old_total_x10=0, reason="typing_error", changed_at=at(day)))


def correct_session(session: Session, day: date) -> None:
    db.session.add(SessionRevision(session_id=session.id, old_date=session.date, reason="wrong_date",
                                   changed_at=at(day)))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def counts() -> dict[str, int]:
    return {model.__tablename__: count(model) for model in PERSON_TABLES}


def run(app, *args):
    return app.test_cli_runner().invoke(args=["retention", *map(str, args)])


# ---------------------------------------------------------------- dates


def test_the_period_ends_on_the_same_date_and_29_february_on_28_february():
    assert retention.period_end(date(2019, 6, 10), 5) == date(2024, 6, 10)
    assert retention.period_end(date(2024, 2, 29), 5) == date(2029, 2, 28)
    assert retention.period_end(date(2024, 2, 29), 4) == date(2028, 2, 29)
    assert not retention.is_due(date(2024, 2, 29), 5, date(2029, 2, 28))
    assert retention.is_due(date(2024, 2, 29), 5, date(2029, 3, 1))


def test_overdue_after_31_december_of_the_year_after_the_period_ended():
    assert retention.deadline(date(2019, 6, 10), 5) == date(2025, 12, 31)
    assert not retention.is_overdue(date(2019, 6, 10), 5, date(2025, 12, 31))
    assert retention.is_overdue(date(2019, 6, 10), 5, date(2026, 1, 1))


def test_the_last_entry_is_the_latest_thing_written_into_the_case(app, place):
    episode = case(place)
    factories.commit()
    assert retention.last_entries([episode.id]) == {episode.id: END}
    session = episode.sessions[0]
    rating = session.ratings[0]
    correct_rating(rating, END + timedelta(days=3))
    factories.commit()
    assert retention.last_entries([episode.id]) == {episode.id: END + timedelta(days=3)}
    correct_session(session, END + timedelta(days=4))
    factories.commit()
    assert retention.last_entries([episode.id]) == {episode.id: END + timedelta(days=4)}
    # A deleted session still counts, and so does its deletion.
    session.deleted_at, session.delete_reason = at(END + timedelta(days=9)), "duplicate"
    factories.commit()
    assert retention.last_entries([episode.id]) == {episode.id: END + timedelta(days=9)}
    rating.created_at = at(END + timedelta(days=20))  # a rating entered late
    factories.commit()
    assert retention.last_entries([episode.id]) == {episode.id: END + timedelta(days=20)}


@pytest.mark.parametrize(("today", "due"), [(DAY_AFTER_PERIOD - timedelta(days=1), 0), (DAY_AFTER_PERIOD, 1)])
def test_a_case_is_due_the_day_after_its_period_ends(app, place, today, due):
    case(place)
    factories.commit()
    assert retention.plan(today).total.episodes == due
    assert retention.apply(today).total.episodes == due
    assert count(Episode) == 1 - due


def test_the_period_in_force_is_the_newest_change(app, place):
    assert retention.years_in_force() == 5 and retention.policy_history() == []
    admin = factories.staff("admin", "admin")
    assert retention.change_policy(3, admin)
    assert not retention.change_policy(3, admin)  # already in force: nothing recorded
    assert retention.change_policy(7, admin)
    assert retention.years_in_force() == 7
    assert [(c.years, c.changed_by) for c in retention.policy_history()] == [(7, "admin"), (3, "admin")]
    case(place)
    factories.commit()
    assert retention.plan(date(2026, 6, 10)).total.episodes == 0  # 7 years: not yet
    assert retention.plan(date(2026, 6, 11)).total.episodes == 1
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions == ["retention_policy_change", "retention_policy_change"]


@pytest.mark.parametrize(("years", "message"), [(0, "at least 1 year"), (51, "not a sensible retention period")])
def test_silly_periods_are_refused(app, years, message):
    admin = factories.staff("admin", "admin")
    with app.test_request_context(), force_locale("en"), pytest.raises(retention.PolicyRefused, match=message):
        retention.change_policy(years, admin)
    assert retention.years_in_force() == 5


# ---------------------------------------------------------------- what goes and what stays


def test_a_due_case_goes_entirely_with_its_persons(app, place):
    old = case(place)
    session = old.sessions[0]
    correct_session(session, END)
    correct_rating(session.ratings[0], END)
    recent = case(place, start=date(2024, 1, 8), end=date(2024, 3, 1))
    factories.commit()
    refresh_series()
    assert count(SeriesSummaryRecord) == 4
    result = retention.apply(DAY_AFTER_PERIOD)
    assert (result.total.episodes, result.total.sessions, result.total.ratings, result.total.persons) == (1, 2, 4, 2)
    assert db.session.scalars(select(Episode.id)).all() == [recent.id]
    assert counts() == {"episode": 1, "participant": 2, "person": 2, "session": 2, "rating": 4, "attendance": 4,
                        "series_summary": 2}
    assert count(SessionRevision) == 0 and count(RatingRevision) == 0


def test_a_person_with_a_newer_case_is_kept(app, place):
    old = case(place)
    family = [p.person for p in old.participants]
    case(place, start=date(2024, 1, 8), end=None, persons=family)
    factories.commit()
    result = retention.apply(DAY_AFTER_PERIOD)
    assert (result.total.episodes, result.total.persons) == (1, 0)
    assert count(Person) == 2 and count(Participant) == 2


def test_open_cases_are_never_deleted_but_reported_when_old(app, place):
    case(place, end=None)
    factories.commit()
    before = counts()
    result = retention.apply(DAY_AFTER_PERIOD)
    assert result.total.episodes == 0 and result.open_and_old == 1
    assert counts() == before


def test_the_exempt_persons_data_stay_and_the_rest_of_the_family_goes(app, place):
    """Child exempt; the parent rated the child (kept as rater); a sibling only rated themself (goes)."""
    episode = case(place, roles=("index", "parent", "other"), exempt=(0,))
    child, parent, sibling = episode.participants
    by_parent = factories.rating(episode.sessions[0], "CORS", child, "25.0", rater=parent)
    by_parent.created_at = at(episode.sessions[0].date)
    factories.commit()
    refresh_series()
    child_ratings = {r.id for r in db.session.scalars(select(Rating).where(Rating.subject_id == child.id))}
    result = retention.apply(DAY_AFTER_PERIOD)
    total = result.total
    assert (total.episodes, total.pruned, total.sessions, total.ratings, total.persons) == (0, 1, 0, 4, 1)
    db.session.expire_all()
    assert db.session.get(Episode, episode.id) is not None and count(Session) == 2
    assert set(db.session.scalars(select(Rating.id))) == child_ratings
    assert set(db.session.scalars(select(Participant.id))) == {child.id, parent.id}
    assert count(Person) == 2  # the child, and the parent as the rater of the child's rating
    assert {r.subject_id for r in db.session.scalars(select(SeriesSummaryRecord))} == {child.id}
    assert {a.participant_id for a in db.session.scalars(select(Attendance))} == {child.id, parent.id}
    assert db.session.scalars(select(AuditEvent.action)).all() == ["retention_prune_episode", "retention_run"]
    again = retention.plan(DAY_AFTER_PERIOD + timedelta(days=1)).total
    assert again.is_empty and again.ratings == 0


def test_a_case_of_exempt_persons_only_is_left_alone(app, place):
    case(place, exempt=(0, 1))
    factories.commit()
    before = table_contents(exclude=())
    assert retention.plan(DAY_AFTER_PERIOD).total.is_empty
    retention.apply(DAY_AFTER_PERIOD)
    assert table_contents() == {k: v for k, v in before.items() if k != "audit_event"}


# ---------------------------------------------------------------- dry run, audit, repetition


def test_the_dry_run_counts_what_the_run_deletes_and_changes_nothing(app, place, monkeypatch):
    """Batches of two episodes; a family with two due cases in different batches is counted once."""
    monkeypatch.setattr(retention, "EPISODES_PER_BATCH", 2)
    first = case(place)
    case(place)
    case(place, exempt=(1,))
    case(place, persons=[p.person for p in first.participants])
    case(place, end=None)
    factories.commit()
    before = table_contents(exclude=())
    preview = retention.plan(DAY_AFTER_PERIOD)
    assert table_contents(exclude=()) == before
    done = retention.apply(DAY_AFTER_PERIOD)
    assert done.total == preview.total
    assert (done.total.episodes, done.total.pruned, done.total.persons) == (3, 1, 5)
    assert preview.open_and_old == done.open_and_old == 1


def test_every_deleted_case_is_audited_and_the_chain_still_verifies(app, place):
    first, second, unit_id = case(place).id, case(place).id, place["unit"].id
    factories.commit()
    retention.apply(date(2026, 1, 2))
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.action, e.object_type, e.object_id, e.unit_id, e.actor_name, e.actor_id) for e in events] == [
        ("retention_delete_episode", "episode", str(first), unit_id, "cli", None),
        ("retention_delete_episode", "episode", str(second), unit_id, "cli", None),
        ("retention_run", "retention_run", "2/0/4/8/4", None, "cli", None),
    ]
    assert verify_chain() == (3, None)


def test_retention_deletes_clinical_rows_never_audit_entries(app, place):
    """The audit log is not part of the case file: the entries about deleted cases stay, unchanged, and
    the log still verifies against its checkpoint (the database would refuse a DELETE anyway)."""
    doomed = case(place)
    factories.commit()
    record("view_episode", object_type="episode", object_id=doomed.id, unit_id=place["unit"].id,
           actor_id=place["therapist"].id, actor_name="anna")
    db.session.commit()
    before = table_contents(exclude=())["audit_event"]
    done = retention.apply(DAY_AFTER_PERIOD)
    assert done.total.episodes == 1 and count(Episode) == 0
    after = table_contents(exclude=())["audit_event"]
    assert set(before) <= set(after) and len(after) == len(before) + 2  # the case's event and the run's
    result = verify_log()
    assert result.ok and result.checkpoint.count == len(after)


def test_a_second_run_deletes_nothing(app, place):
    case(place)
    case(place, exempt=(0,))
    factories.commit()
    first = retention.apply(DAY_AFTER_PERIOD).total
    assert (first.episodes, first.pruned) == (1, 1)
    before = table_contents()
    second = retention.apply(DAY_AFTER_PERIOD).total
    assert second == retention.Counts()
    assert table_contents() == before
    assert verify_chain()[1] is None


def test_the_plan_reads_in_batches_not_per_case(app, place):
    case(place)
    factories.commit()
    with counted_queries() as few:
        retention.plan(DAY_AFTER_PERIOD)
    for _ in range(6):
        case(place)
    factories.commit()
    with counted_queries() as more:
        retention.plan(DAY_AFTER_PERIOD)
    assert len(more) == len(few)


# ---------------------------------------------------------------- the command


def test_the_command_reports_the_plan_then_deletes(app, place):
    case(place)
    case(place, end=None)
    factories.commit()
    before = table_contents(exclude=())
    dry = run(app, "--dry-run", "--today", "2026-01-02")
    assert dry.exit_code == 0, dry.output
    assert table_contents(exclude=()) == before
    lines = dry.stdout.splitlines()
    assert lines[0] == "Retention period 5 years, today 2026-01-02."
    assert lines[1] == ("OVERDUE: 1 case(s) are past the deadline for deletion "
                        "(31 December of the year after their period ended).")
    assert "  A: episodes 1, kept for exempt persons 0, sessions 2, ratings 4, persons 2, overdue 1" in lines
    assert "Total to delete: episodes 1, kept for exempt persons 0, sessions 2, ratings 4, persons 2." in lines
    assert any(line.startswith("WARNING: A: 1 open case(s) with no entry for more than 5 years") for line in lines)
    assert lines[-1] == "Dry run: nothing deleted."
    real = run(app, "--today", "2026-01-02")
    assert real.exit_code == 0, real.output
    assert "Total deleted: episodes 1, kept for exempt persons 0, sessions 2, ratings 4, persons 2." in real.stdout
    assert "OVERDUE: 1 case(s) were past the deadline" in real.stdout
    assert count(Episode) == 1
    again = run(app, "--today", "2026-01-02")
    assert "Total deleted: episodes 0, kept for exempt persons 0, sessions 0, ratings 0, persons 0." in again.stdout
