"""The demo data (`flask demo`): shape, determinism, refusal, and every rule the importer enforces."""
import hashlib
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import aliased

from fitapp.auth.passwords import MIN_LENGTH, verify_password
from fitapp.demo.families import CHILD_NO_RATING, plan_demo
from fitapp.demo.generator import DemoRefused, demo_logins, fill_demo
from fitapp.extensions import db
from fitapp.identity_numbers import looks_like_identity_number
from fitapp.models import (
    Attendance, AuditEvent, District, Episode, Intervention, NormSetRecord, Participant, Person, Rating,
    SeriesSummaryRecord, Session, Staff, Team, Unit, UnitMembership,
)
from fitapp.models.cases import NO_RATING_REASONS
from fitapp.norms_service import active_norm_set
from fitapp.reference_data import default_interventions
from fitapp.scoring.instruments import OUTCOME_INSTRUMENTS, default_instrument, is_outcome
from fitapp.scoring.series import CATEGORIES, RatingPoint, select_index_series, summarise_series
from fitapp.staff_service import create_staff

TODAY = date(2026, 3, 15)
SEED = 7
# A quarter of the full caseload: every rule and category still shows up, and the tests stay fast.
SCALE = 0.25


@pytest.fixture
def demo(app):
    return fill_demo(seed=SEED, today=TODAY, if_empty=False, scale=SCALE)


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# --- the plan at full size (pure: no database) ---------------------------------

@pytest.fixture(scope="module")
def full_plan():
    catalogue = {row["code"]: row["kind"] for row in default_interventions()}
    return plan_demo(1, TODAY, scale=1.0, interventions=catalogue)


def test_full_size_plan_has_two_years_of_a_believable_caseload(full_plan):
    episodes = full_plan.episodes
    assert 350 <= len(episodes) <= 500
    closed = [e for e in episodes if e.end_date is not None]
    assert 0.65 <= len(closed) / len(episodes) <= 0.85
    reasons = Counter(e.end_reason for e in closed)
    assert 0.6 <= reasons["planned"] / len(closed) <= 0.8
    assert 0.1 <= reasons["client_dropout"] / len(closed) <= 0.25
    assert reasons["moved"] and reasons["other"]
    assert min(e.start_date for e in episodes) >= TODAY - timedelta(days=800)
    assert all(len(e.sessions) <= 20 for e in episodes)
    # Open episodes are the current caseload: started within the last year.
    assert all(e.start_date >= TODAY - timedelta(days=365) for e in episodes if e.end_date is None)


def test_full_size_plan_has_the_intended_mix_of_families(full_plan):
    episodes = full_plan.episodes
    children = Counter(id(e.index_participant.person) for e in episodes)
    assert 0.04 <= sum(1 for n in children.values() if n > 1) / len(children) <= 0.12
    no_rating = sum(e.child_no_rating_reason is not None for e in episodes) / len(episodes)
    assert 0.05 <= no_rating <= 0.2
    genders = Counter(e.index_participant.person.gender for e in episodes)
    assert genders["other"] and genders[None] and genders["female"] > 100 and genders["male"] > 100
    ages = [e.start_date.year - e.index_participant.person.birth_year for e in episodes]
    assert min(ages) >= 4 and max(ages) <= 20
    parents = [sum(p.role == "parent" for p in e.participants) for e in episodes]
    assert set(parents) == {1, 2}


def test_the_printed_therapist_has_the_fullest_list_of_open_cases(full_plan):
    open_cases = Counter(e.therapist for e in full_plan.episodes if e.end_date is None)
    therapist = demo_logins()[0].username
    assert open_cases[therapist] >= 8
    assert open_cases[therapist] == max(open_cases.values())


def test_no_rating_reasons_come_from_the_model():
    assert set(CHILD_NO_RATING) <= set(NO_RATING_REASONS)


# --- filling the database ------------------------------------------------------

def test_demo_fills_an_empty_database_with_the_organisation(demo):
    assert _count(District) == 3
    assert _count(Unit) == 6
    assert _count(Team) >= 6
    roles = Counter(db.session.scalars(select(Staff.role)))
    assert roles["unit_head"] == 3 and roles["quality"] == 1 and roles["admin"] == 1
    for unit in db.session.scalars(select(Unit)):
        open_members = _count(UnitMembership, UnitMembership.unit_id == unit.id,
                              UnitMembership.valid_to.is_(None),
                              UnitMembership.staff_id.in_(select(Staff.id).where(Staff.role == "therapist")))
        assert 4 <= open_members <= 5, unit.code
        assert unit.teams
    episodes = _count(Episode)
    assert 80 <= episodes <= 150
    assert demo.created and f"{episodes} episodes" in demo.summary()
    assert demo.counts["ratings"] == _count(Rating)


def test_every_demo_login_exists_and_its_password_verifies(demo):
    logins = demo_logins()
    accounts = {s.username: s for s in db.session.scalars(select(Staff))}
    for login in logins:
        assert len(login.password) >= MIN_LENGTH
        assert verify_password(accounts[login.username].password_hash, login.password), login.username
    assert {accounts[login.username].role for login in logins} == {"therapist", "unit_head", "quality", "admin"}
    # Exactly the printed accounts can log in.
    assert {name for name, staff in accounts.items() if staff.password_hash} == {login.username for login in logins}


def test_one_therapist_moved_unit_a_year_ago(demo):
    moved = [s for s in db.session.scalars(select(Staff).where(Staff.role == "therapist"))
             if len(s.memberships) == 2]
    assert len(moved) == 1
    before, after = moved[0].memberships
    assert before.valid_to is not None and after.valid_to is None
    assert before.unit_id != after.unit_id and before.valid_to < after.valid_from
    assert TODAY - timedelta(days=400) <= after.valid_from <= TODAY - timedelta(days=330)


def test_the_responsible_therapist_belongs_to_the_unit_on_the_episodes_last_day(demo):
    for episode in db.session.scalars(select(Episode)):
        last_day = episode.end_date or TODAY
        assert episode.unit_id in episode.therapist.unit_ids_on(last_day), episode.ref


def test_one_audit_event_records_the_demo_without_clinical_content(demo):
    events = db.session.scalars(select(AuditEvent)).all()
    assert [(e.action, e.object_type, e.object_id) for e in events] == [("demo_data", "database", f"seed {SEED}")]


# --- determinism and refusal ---------------------------------------------------

def _digest() -> str:
    """A stable fingerprint of the demo's rows, by references rather than database ids."""
    therapist = aliased(Staff)
    subject, rater = aliased(Participant), aliased(Participant)
    subject_person, rater_person = aliased(Person), aliased(Person)
    queries = [
        select(Unit.code, Episode.ref, therapist.username, Intervention.code, Episode.referral_date,
               Episode.start_date, Episode.end_date, Episode.end_reason, Episode.child_no_rating_reason)
        .join(Unit, Episode.unit_id == Unit.id).join(therapist, Episode.therapist_id == therapist.id)
        .join(Intervention, Episode.intervention_id == Intervention.id),
        select(Episode.ref, Person.ref, Person.birth_year, Person.gender, Participant.role)
        .join(Participant, Participant.episode_id == Episode.id).join(Person, Participant.person_id == Person.id),
        select(Episode.ref, Session.number, Session.date).join(Session, Session.episode_id == Episode.id),
        select(Episode.ref, Session.number, Person.ref, Attendance.no_rating_reason)
        .join(Session, Attendance.session_id == Session.id).join(Episode, Session.episode_id == Episode.id)
        .join(Participant, Attendance.participant_id == Participant.id)
        .join(Person, Participant.person_id == Person.id),
        select(Episode.ref, Session.number, Rating.instrument, subject_person.ref, rater_person.ref,
               Rating.item1_x10, Rating.item2_x10, Rating.item3_x10, Rating.item4_x10)
        .join(Session, Rating.session_id == Session.id).join(Episode, Session.episode_id == Episode.id)
        .join(subject, Rating.subject_id == subject.id).join(subject_person, subject.person_id == subject_person.id)
        .join(rater, Rating.rater_id == rater.id).join(rater_person, rater.person_id == rater_person.id),
        select(Staff.username, Unit.code, UnitMembership.valid_from, UnitMembership.valid_to)
        .join(Staff, UnitMembership.staff_id == Staff.id).join(Unit, UnitMembership.unit_id == Unit.id),
    ]
    digest = hashlib.sha256()
    for query in queries:
        for row in sorted(tuple(map(repr, row)) for row in db.session.execute(query)):
            digest.update(repr(row).encode())
    return digest.hexdigest()


def _remove_demo_data() -> None:
    # The audit log is append-only (migration 0008): the demo's one event names no staff, so it may stay.
    for model in (SeriesSummaryRecord, Rating, Attendance, Session, Participant, Episode, Person, UnitMembership, Staff,
                  Team, Unit, District):
        db.session.execute(delete(model))
    db.session.commit()


def test_the_same_seed_gives_the_same_data_and_another_seed_does_not(app):
    fill_demo(seed=SEED, today=TODAY, if_empty=False, scale=0.15)
    first = _digest()
    _remove_demo_data()
    fill_demo(seed=SEED, today=TODAY, if_empty=False, scale=0.15)
    assert _digest() == first
    _remove_demo_data()
    fill_demo(seed=SEED + 1, today=TODAY, if_empty=False, scale=0.15)
    assert _digest() != first


def test_a_database_with_episodes_is_refused_and_left_alone(demo):
    before = _count(Rating), _count(Episode), _count(Staff)
    with pytest.raises(DemoRefused, match="already has data"):
        fill_demo(seed=SEED + 1, today=TODAY, if_empty=False, scale=SCALE)
    db.session.rollback()
    assert (_count(Rating), _count(Episode), _count(Staff)) == before


def test_if_empty_does_nothing_when_the_demo_is_there(demo):
    before = _count(Rating), _count(Episode), _count(AuditEvent)
    result = fill_demo(seed=SEED, today=TODAY, if_empty=True, scale=SCALE)
    assert not result.created
    assert "already there" in result.summary()
    assert (_count(Rating), _count(Episode), _count(AuditEvent)) == before


def test_a_database_with_its_own_staff_is_refused_too(app):
    # The demo's account names would collide with real ones: it only fills an empty database.
    create_staff("admin", role="admin", unit_codes=[], password="a long enough password")
    with pytest.raises(DemoRefused, match="1 staff accounts"):
        fill_demo(seed=SEED, today=TODAY, if_empty=False, scale=SCALE)
    result = fill_demo(seed=SEED, today=TODAY, if_empty=True, scale=SCALE)
    assert not result.created and "not added" in result.summary()


# --- the importer's rules (interchange.md "Errors that must be reported") -------

def test_sessions_lie_within_the_episode_and_are_numbered_in_date_order(demo):
    sessions = defaultdict(list)
    for episode_id, number, day in db.session.execute(
            select(Session.episode_id, Session.number, Session.date).order_by(Session.number)):
        sessions[episode_id].append((number, day))
    for episode in db.session.scalars(select(Episode)):
        held = sessions[episode.id]
        assert [n for n, _ in held] == list(range(1, len(held) + 1)), episode.ref
        days = [d for _, d in held]
        assert days == sorted(days) and len(set(days)) == len(days), episode.ref
        assert all(episode.start_date <= d <= (episode.end_date or TODAY) for d in days), episode.ref
        if episode.end_date is not None:
            assert held, episode.ref
            assert episode.referral_date is None or episode.referral_date <= episode.start_date


def test_end_reason_exactly_when_ended_and_referral_within_sixty_days(demo):
    for episode in db.session.scalars(select(Episode)):
        assert (episode.end_date is None) == (episode.end_reason is None), episode.ref
        assert episode.end_date is None or episode.start_date <= episode.end_date <= TODAY
        if episode.referral_date is not None:
            assert 0 <= (episode.start_date - episode.referral_date).days <= 60


def test_items_are_in_range_and_totals_are_their_sums(demo):
    assert _count(Rating) > 1000
    items = (Rating.item1_x10, Rating.item2_x10, Rating.item3_x10, Rating.item4_x10)
    assert _count(Rating, Rating.total_x10 != sum(items[1:], items[0])) == 0
    for item in items:
        assert _count(Rating, (item < 0) | (item > 100)) == 0
    # Both ends of the scale and both kinds of scale are in use.
    assert _count(Rating, Rating.total_x10 < 200) and _count(Rating, Rating.total_x10 >= 360)


def test_raters_and_subjects_take_part_in_the_same_episode_and_raters_attended(demo):
    subject, rater = aliased(Participant), aliased(Participant)
    rows = db.session.execute(
        select(Session.episode_id, subject.episode_id, rater.episode_id, Attendance.no_rating_reason)
        .select_from(Rating)
        .join(Session, Rating.session_id == Session.id)
        .join(subject, Rating.subject_id == subject.id)
        .join(rater, Rating.rater_id == rater.id)
        .outerjoin(Attendance, (Attendance.session_id == Rating.session_id)
                   & (Attendance.participant_id == Rating.rater_id))
    ).all()
    assert rows
    for session_episode, subject_episode, rater_episode, reason in rows:
        assert session_episode == subject_episode == rater_episode
    # A rater was present and gave no reason for not rating (an outer join miss would be None too).
    attended = _count(Rating, select(Attendance.session_id).where(
        Attendance.session_id == Rating.session_id, Attendance.participant_id == Rating.rater_id,
        Attendance.no_rating_reason.is_(None)).exists())
    assert attended == len(rows)


def test_no_rating_is_given_twice(demo):
    duplicates = db.session.execute(
        select(Rating.session_id, Rating.subject_id, Rating.rater_id, Rating.instrument)
        .group_by(Rating.session_id, Rating.subject_id, Rating.rater_id, Rating.instrument)
        .having(func.count() > 1)
    ).all()
    assert duplicates == []


def test_instruments_follow_the_age_at_the_session_and_small_children_are_rated_by_a_parent(demo):
    subject, rater = aliased(Participant), aliased(Participant)
    rows = db.session.execute(
        select(Rating.instrument, Rating.subject_id, Rating.rater_id, Session.date, Person.birth_year,
               subject.role, rater.role)
        .join(Session, Rating.session_id == Session.id)
        .join(subject, Rating.subject_id == subject.id).join(Person, subject.person_id == Person.id)
        .join(rater, Rating.rater_id == rater.id)
    ).all()
    collateral = 0
    for instrument, subject_id, rater_id, day, birth_year, subject_role, rater_role in rows:
        age = None if birth_year is None else day.year - birth_year
        if subject_id == rater_id:
            scale = "outcome" if is_outcome(instrument) else "alliance"
            assert instrument == default_instrument(age, scale)
        else:
            collateral += 1
            assert (instrument, subject_role, rater_role) == ("ORS", "index", "parent")
            assert age <= 5
    assert collateral > 0
    assert {row.instrument for row in rows} == {"ORS", "CORS", "YCORS", "SRS", "CSRS", "YCSRS"}


def test_references_never_look_like_identity_numbers(demo):
    refs = list(db.session.scalars(select(Person.ref))) + list(db.session.scalars(select(Episode.ref)))
    assert refs and not [ref for ref in refs if looks_like_identity_number(ref)]
    assert len(set(db.session.scalars(select(Episode.ref)))) == _count(Episode)


def test_some_children_come_back_within_a_year_in_the_same_district(demo):
    rows = db.session.execute(
        select(Participant.person_id, Unit.district_id, Episode.start_date, Episode.end_date)
        .join(Episode, Participant.episode_id == Episode.id).join(Unit, Episode.unit_id == Unit.id)
        .where(Participant.role == "index").order_by(Episode.start_date)
    ).all()
    by_child = defaultdict(list)
    for person_id, district_id, start, end in rows:
        by_child[person_id].append((district_id, start, end))
    returns = 0
    for episodes in by_child.values():
        for (district, _, end), (next_district, next_start, _) in zip(episodes, episodes[1:]):
            assert end is not None and district == next_district
            assert timedelta(days=0) < next_start - end <= timedelta(days=365)
            returns += 1
    assert returns >= 1


def test_children_who_never_rate_have_a_reason_and_absent_ratings_have_reasons(demo):
    silent = db.session.scalars(select(Episode).where(Episode.child_no_rating_reason.is_not(None))).all()
    assert silent
    for episode in silent:
        assert episode.child_no_rating_reason in NO_RATING_REASONS
        index_ids = [p.id for p in episode.participants if p.role == "index"]
        assert _count(Rating, Rating.rater_id.in_(index_ids)) == 0, episode.ref
    reasons = set(db.session.scalars(select(Attendance.no_rating_reason).distinct())) - {None}
    assert reasons and reasons <= set(NO_RATING_REASONS)
    assert _count(Attendance, Attendance.no_rating_reason.is_(None)) > _count(Attendance) * 0.8


def _closed_index_series():
    """The index series of every index person in a closed episode (metrics.md §5), summarised."""
    rows = db.session.execute(
        select(Episode.id, Rating.subject_id, Rating.instrument, Session.date, Session.number, Rating.total_x10,
               Person.birth_year)
        .join(Session, Rating.session_id == Session.id).join(Episode, Session.episode_id == Episode.id)
        .join(Participant, Rating.subject_id == Participant.id).join(Person, Participant.person_id == Person.id)
        .where(Rating.subject_id == Rating.rater_id, Rating.instrument.in_(OUTCOME_INSTRUMENTS),
               Participant.role == "index", Episode.end_date.is_not(None))
    ).all()
    points, birth_years = defaultdict(list), {}
    for episode_id, subject_id, instrument, day, number, total_x10, birth_year in rows:
        points[(episode_id, subject_id, instrument)].append(RatingPoint(day, number, Decimal(total_x10) / 10))
        birth_years[subject_id] = birth_year
    norm_set = active_norm_set()
    candidates = defaultdict(list)
    for (episode_id, subject_id, instrument), series in points.items():
        candidates[(episode_id, subject_id)].append(
            summarise_series(instrument, series, birth_years[subject_id], norm_set))
    return [select_index_series(found) for found in candidates.values()]


def test_every_outcome_category_occurs_among_closed_index_series(demo):
    series = _closed_index_series()
    categories = Counter(s.category for s in series)
    assert set(categories) == set(CATEGORIES)
    paired = [s for s in series if s.paired]
    improved = sum(1 for s in paired if s.category in ("recovered", "improved"))
    assert 0.3 <= improved / len(paired) <= 0.75
    assert 0.1 <= sum(1 for s in paired if not s.intake_clinical) / len(paired) <= 0.4


def test_the_stored_series_summaries_agree_with_the_ratings(demo):
    # Reports read the derived table: the demo must leave it filled and in step.
    stored = Counter(db.session.scalars(
        select(SeriesSummaryRecord.category)
        .join(Episode, SeriesSummaryRecord.episode_id == Episode.id)
        .where(SeriesSummaryRecord.is_index_series, Episode.end_date.is_not(None))))
    assert stored == Counter(s.category for s in _closed_index_series())
    assert demo.counts["series"] == _count(SeriesSummaryRecord) > 0


def test_without_an_active_norm_set_the_demo_is_refused_before_writing(app):
    db.session.execute(NormSetRecord.__table__.update().values(is_active=False))
    db.session.commit()
    with pytest.raises(DemoRefused, match="norm"):
        fill_demo(seed=SEED, today=TODAY, if_empty=False, scale=SCALE)
    db.session.rollback()
    assert _count(Staff) == 0 and _count(Episode) == 0


def test_alliance_ratings_are_mostly_high_with_some_dips(demo):
    totals = list(db.session.scalars(select(Rating.total_x10).where(Rating.instrument.in_(("SRS", "CSRS")))))
    assert 0.75 <= sum(1 for t in totals if t >= 340) / len(totals)
    assert 0.03 <= sum(1 for t in totals if t < 360) / len(totals) <= 0.4


# --- the command -------------------------------------------------------------

def test_demo_command_fills_the_database_and_prints_the_logins(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "--seed", "3", "--today", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert "Demo data created" in result.output
    for login in demo_logins():
        assert login.username in result.output and login.password in result.output
    assert 350 <= _count(Episode) <= 500
    therapist = db.session.scalar(select(Staff).where(Staff.username == demo_logins()[0].username))
    assert therapist.role == "therapist"
    assert _count(Episode, Episode.therapist_id == therapist.id, Episode.end_date.is_(None)) >= 8

    again = runner.invoke(args=["demo", "--seed", "3"])
    assert again.exit_code == 1 and "already has data" in again.stderr
    quiet = runner.invoke(args=["demo", "--if-empty"])
    assert quiet.exit_code == 0 and "already there" in quiet.output
    assert demo_logins()[0].username in quiet.output
