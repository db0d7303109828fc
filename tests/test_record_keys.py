"""Record keys (metrics.md §7.2): every episode, participant and rating gets its own when it is created,
it never changes, the derived key sums count exactly the ratings srs_ratings and srs_below count, and
no key leaves the app.
"""
import re
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text, update

from fitapp.cases import changes
from fitapp.cases.forms import (
    AttendeeInput, CollateralInput, MemberInput, OpenCaseInput, RatingCorrection, ScaleInput, SessionInput,
)
from fitapp.demo.generator import fill_demo
from fitapp.extensions import db
from fitapp.interchange.exporter import write_outcomes
from fitapp.interchange.importer import import_ratings_file
from fitapp.models import Episode, EpisodeSummaryRecord, IndexPersonSummaryRecord, Participant, Rating
from fitapp.reports.series_store import refresh_series
from tests import factories
from tests.interchange.files import csv_text, row
from tests.own_database import app_at_revision

# Written out rather than imported, so that a change of the rules in the app shows up here.
MODULUS = 10**9
SCORED_ALLIANCE = ("SRS", "CSRS")
BELOW_X10 = 360
KEYED = (Episode, Participant, Rating)


def keys_of(model) -> dict[int, int]:
    """Row id -> record key, as stored."""
    return dict(db.session.execute(select(model.id, model.record_key)).all())


def assert_fresh_keys(keys: list) -> None:
    """Every key set and in [0, 10^9), and drawn per row: not a constant, practically no two alike."""
    assert keys and all(isinstance(k, int) and 0 <= k < MODULUS for k in keys)
    # Two of n keys agree with probability about n^2 / 2e9: allow one in a thousand.
    assert len(set(keys)) >= len(keys) - max(1, len(keys) // 1000)
    if len(keys) >= 20:
        assert max(keys) - min(keys) > MODULUS // 10


def counted_key_sums(episode: Episode) -> tuple[int, int]:
    """The sums of the keys of the episode's live self-rated SRS/CSRS ratings, and of those below 36.0,
    from the ORM objects without any of the app's queries."""
    counted = [r for s in episode.sessions if s.deleted_at is None for r in s.ratings
               if r.deleted_at is None and r.instrument in SCORED_ALLIANCE and r.subject_id == r.rater_id]
    return sum(r.record_key for r in counted), sum(r.record_key for r in counted if r.total_x10 < BELOW_X10)


def stored_key_sums() -> dict[int, tuple[int, int]]:
    x = EpisodeSummaryRecord
    return {episode_id: (keys, below) for episode_id, keys, below
            in db.session.execute(select(x.episode_id, x.srs_key_sum, x.srs_below_key_sum))}


def every_episode_key_sums() -> dict[int, tuple[int, int]]:
    db.session.expire_all()
    return {e.id: counted_key_sums(e) for e in db.session.scalars(select(Episode))}


def soft_delete(record) -> None:
    record.deleted_at, record.delete_reason = datetime.now(timezone.utc), "duplicate"


# ---------------------------------------------------------------- every way rows are created


def test_a_case_opened_and_a_session_saved_through_the_services_give_every_row_a_key(app):
    unit = factories.unit()
    therapist = factories.staff(units=[unit], with_password=False)
    factories.commit()
    members = (MemberInput("index", 2014, "female", None), MemberInput("parent", 1982, "male", None),
               MemberInput("other", 2010, None, None))
    episode = changes.open_episode(therapist, OpenCaseInput(
        unit_id=unit.id, intervention_id=factories.intervention().id, referral_date=None,
        start_date=date(2025, 3, 3), members=members))
    child, parent, sibling = (p.id for p in episode.participants)
    items = tuple(Decimal(v) for v in ("6.5", "7.0", "7.5", "8.0"))
    for day in (date(2025, 3, 3), date(2025, 3, 10)):
        changes.log_session(episode, SessionInput(
            date=day,
            attendees=(AttendeeInput(child, ScaleInput("CORS", items), ScaleInput("CSRS", items), None),
                       AttendeeInput(parent, ScaleInput("ORS", items), ScaleInput("SRS", items), None),
                       AttendeeInput(sibling, ScaleInput("ORS", items), None, None)),
            collateral=(CollateralInput(child, parent, ScaleInput("CORS", items)),)))
    assert len(keys_of(Episode)) == 1 and len(keys_of(Participant)) == 3
    assert len(keys_of(Rating)) == 2 * 6
    assert_fresh_keys([*keys_of(Episode).values(), *keys_of(Participant).values(), *keys_of(Rating).values()])
    # The session save refreshed the episode: its sums are the two self-rated CSRS and two SRS keys.
    assert stored_key_sums() == every_episode_key_sums()
    assert stored_key_sums()[episode.id][0] > 0


def test_an_imported_file_gives_every_new_row_a_key(app, tmp_path):
    parent = {"person_ref": "P2", "role": "parent", "birth_year": "1985", "gender": "male"}
    rows = []
    for ref in ("E1", "E2", "E3"):
        for number, day in ((1, "2024-01-10"), (2, "2024-01-17")):
            common = {"episode_ref": ref, "session_no": str(number), "session_date": day}
            rows += [row(common), row(common, instrument="CSRS", item1="9.0", item2="8.5", item3="9.0", item4="9.5",
                                      total="36.0"),
                     row(common, parent, instrument="SRS", item1="8.0", item2="8.0", item3="9.0", item4="9.0",
                         total="34.0"),
                     row(common, parent, person_ref="P1", rater_ref="P2", role="index", birth_year="2014",
                         gender="female")]
    path = tmp_path / "ratings.csv"
    path.write_text(csv_text(rows), encoding="utf-8")
    import_ratings_file(path, create_missing=True, dry_run=False)
    assert len(keys_of(Episode)) == 3 and len(keys_of(Participant)) == 6 and len(keys_of(Rating)) == 24
    for model in KEYED:
        assert_fresh_keys(list(keys_of(model).values()))
    assert_fresh_keys([*keys_of(Episode).values(), *keys_of(Participant).values(), *keys_of(Rating).values()])
    assert stored_key_sums() == every_episode_key_sums()


def test_the_demo_gives_every_row_a_key(app):
    fill_demo(seed=3, today=date(2026, 3, 15), if_empty=False, scale=0.1)
    for model in KEYED:
        assert_fresh_keys(list(keys_of(model).values()))
    assert stored_key_sums() == every_episode_key_sums()


# ---------------------------------------------------------------- the derived key sums


@pytest.fixture
def episodes(app):
    """A rated episode with every kind of rating that must or must not count; one without sessions."""
    unit = factories.unit()
    therapist = factories.staff(units=[unit], with_password=False)
    rated = factories.episode(unit, therapist)
    child = factories.participant(rated, "index", birth_year=2014)
    parent = factories.participant(rated, "parent", birth_year=1980)
    small = factories.participant(rated, "other", birth_year=2021)
    first, second, dropped, fourth = (factories.session(rated, number) for number in range(1, 5))
    factories.rating(first, "CSRS", child, "36.0")  # exactly 36.0: not below
    factories.rating(second, "CSRS", child, "35.9")  # below
    factories.rating(first, "SRS", parent, "38.0")
    soft_delete(factories.rating(second, "SRS", parent, "20.0"))
    factories.rating(dropped, "SRS", parent, "10.0")
    soft_delete(dropped)
    factories.rating(first, "YCSRS", small, "12.0")  # not scored (metrics.md §1)
    factories.rating(fourth, "SRS", child, "15.0", rater=parent)  # not self-rated
    factories.rating(fourth, "ORS", child, "10.0")  # an outcome scale
    without_sessions = factories.episode(unit, therapist)
    factories.participant(without_sessions, "index", birth_year=2012)
    factories.commit()
    return rated, without_sessions


def test_refresh_sums_the_keys_of_exactly_the_counted_ratings(episodes):
    rated, without_sessions = episodes
    refresh_series()
    stored = stored_key_sums()
    assert stored == every_episode_key_sums()
    live_self_rated = {r.total_x10: r.record_key for s in rated.sessions if s.deleted_at is None for r in s.ratings
                       if r.deleted_at is None and r.instrument in SCORED_ALLIANCE and r.subject_id == r.rater_id}
    assert sorted(live_self_rated) == [359, 360, 380]
    assert stored[rated.id] == (sum(live_self_rated.values()), live_self_rated[359])
    assert stored[without_sessions.id] == (0, 0)


def test_index_persons_carry_their_participants_key(episodes):
    refresh_series()
    db.session.expire_all()
    index = {p.id: p.record_key for p in db.session.scalars(select(Participant).where(Participant.role == "index"))}
    stored = dict(db.session.execute(select(IndexPersonSummaryRecord.participant_id,
                                            IndexPersonSummaryRecord.record_key)).all())
    assert stored == index and len(stored) == 2


def test_sums_beyond_32_bits_are_kept_exactly(episodes):
    rated, _ = episodes
    db.session.execute(update(Rating).values(record_key=MODULUS - 1))
    db.session.commit()
    refresh_series()
    assert stored_key_sums()[rated.id] == (3 * (MODULUS - 1), MODULUS - 1)


def test_a_corrected_rating_keeps_its_key_and_the_sums_follow_its_new_total(episodes):
    rated, _ = episodes
    refresh_series()
    db.session.expire_all()
    below = db.session.scalars(select(Rating).where(Rating.total_x10 == 359)).one()
    key, before = below.record_key, keys_of(Rating)
    changes.correct_rating(db.session.get(Episode, rated.id), below,
                           RatingCorrection(items=(Decimal("9.5"),) * 4, reason="typing_error"))
    db.session.expire_all()
    assert db.session.get(Rating, below.id).total_x10 == 380
    assert keys_of(Rating) == before and before[below.id] == key
    assert stored_key_sums()[rated.id] == (counted_key_sums(db.session.get(Episode, rated.id))[0], 0)


# ---------------------------------------------------------------- no key leaves the app


def test_no_key_is_exported(episodes, tmp_path):
    # Keys no other field of the file can hold by chance: nine digits each.
    for model in KEYED:
        for n, row_id in enumerate(sorted(keys_of(model))):
            db.session.execute(update(model).where(model.id == row_id).values(record_key=987_000_000 + n * 1_001))
    db.session.commit()
    keys = {str(k) for model in KEYED for k in keys_of(model).values()}
    out = tmp_path / "outcomes.csv"
    assert write_outcomes(out, include_open=True, unit_codes=[]) > 0
    content = out.read_text(encoding="utf-8")
    header = content.splitlines()[0].lower()
    assert "key" not in header
    assert not set(re.findall(r"\d+", content)) & keys


def test_no_template_shows_a_key():
    templates = Path(__file__).resolve().parents[1] / "templates"
    assert not [p for p in templates.rglob("*.html") if "record_key" in p.read_text(encoding="utf-8")]


# ---------------------------------------------------------------- the 0007 migration

# A case written with plain SQL into a database at 0006, with the derived rows the app kept for it:
# the child's CSRS 36.0 and 35.9 and the parent's SRS 38.0 are counted; not counted: a soft-deleted
# rating, a rating in a soft-deleted session, a YCSRS, an SRS of the child given by the parent.
# A second episode has no sessions.
CASE_AT_0006 = """
INSERT INTO district (id, code, name) VALUES (1, 'D1', 'Norr');
INSERT INTO unit (id, district_id, code, name, team_cases_visible) VALUES (1, 1, 'U1', 'Enhet', FALSE);
INSERT INTO staff (id, username, role, is_enabled, session_version, created_at)
    VALUES (1, 'anna', 'therapist', TRUE, 0, '2025-01-01 08:00:00');
INSERT INTO episode (id, unit_id, ref, therapist_id, intervention_id, start_date, created_at)
    SELECT n, 1, 'E-' || n, 1, (SELECT id FROM intervention WHERE code = 'FAMBEH'), '2025-01-13',
           '2025-01-13 08:00:00'
    FROM (SELECT 1 AS n UNION ALL SELECT 2) AS numbers;
INSERT INTO person (id, ref, birth_year, retention_exempt, created_at) VALUES
    (1, 'P-1', 2014, FALSE, '2025-01-13 08:00:00'), (2, 'P-2', 1980, FALSE, '2025-01-13 08:00:00'),
    (3, 'P-3', 2021, FALSE, '2025-01-13 08:00:00'), (4, 'P-4', 2012, FALSE, '2025-01-13 08:00:00');
INSERT INTO participant (id, episode_id, person_id, role) VALUES (1, 1, 1, 'index'), (2, 1, 2, 'parent'),
    (3, 1, 3, 'other'), (4, 2, 4, 'index');
INSERT INTO session (id, episode_id, number, date, created_at, deleted_at, delete_reason) VALUES
    (1, 1, 1, '2025-01-13', '2025-01-13 08:00:00', NULL, NULL),
    (2, 1, 2, '2025-01-20', '2025-01-20 08:00:00', NULL, NULL),
    (3, 1, 3, '2025-01-27', '2025-01-27 08:00:00', '2025-01-28 08:00:00', 'duplicate');
INSERT INTO rating (id, session_id, instrument, subject_id, rater_id, item1_x10, item2_x10, item3_x10, item4_x10,
                    total_x10, created_at, deleted_at, delete_reason) VALUES
    (1, 1, 'CSRS', 1, 1, 90, 90, 90, 90, 360, '2025-01-13 08:00:00', NULL, NULL),
    (2, 2, 'CSRS', 1, 1, 90, 90, 90, 89, 359, '2025-01-20 08:00:00', NULL, NULL),
    (3, 1, 'SRS', 2, 2, 95, 95, 95, 95, 380, '2025-01-13 08:00:00', NULL, NULL),
    (4, 2, 'SRS', 2, 2, 50, 50, 50, 50, 200, '2025-01-20 08:00:00', '2025-01-21 08:00:00', 'duplicate'),
    (5, 3, 'SRS', 2, 2, 25, 25, 25, 25, 100, '2025-01-27 08:00:00', NULL, NULL),
    (6, 1, 'YCSRS', 3, 3, 30, 30, 30, 30, 120, '2025-01-13 08:00:00', NULL, NULL),
    (7, 2, 'SRS', 1, 2, 40, 40, 40, 30, 150, '2025-01-20 08:00:00', NULL, NULL);
INSERT INTO episode_summary (episode_id, sessions, srs_ratings, srs_total_x10, srs_below) VALUES
    (1, 2, 3, 1099, 1), (2, 0, 0, 0, 0);
INSERT INTO index_person_summary (participant_id, episode_id, person_id, birth_year, gender) VALUES
    (1, 1, 1, 2014, NULL), (4, 2, 4, 2012, NULL);
"""
COUNTED_AT_0006, BELOW_AT_0006 = (1, 2, 3), (2,)


@pytest.fixture
def database_at_0006(backend, request, tmp_path):
    """A database of its own (not the session's shared one), upgraded to 0006."""
    with app_at_revision("0006", backend, request, tmp_path) as app:
        yield app


def test_the_migration_gives_every_stored_row_a_key_and_fills_the_sums(database_at_0006):
    with db.engine.begin() as conn:
        for statement in CASE_AT_0006.split(";"):
            if statement.strip():
                conn.execute(text(statement))
    upgrade()
    for model in KEYED:
        assert_fresh_keys(list(keys_of(model).values()))
    assert_fresh_keys([*keys_of(Episode).values(), *keys_of(Participant).values(), *keys_of(Rating).values()])
    keys = keys_of(Rating)
    assert stored_key_sums() == {1: (sum(keys[i] for i in COUNTED_AT_0006), sum(keys[i] for i in BELOW_AT_0006)),
                                 2: (0, 0)}
    participants = keys_of(Participant)
    stored = dict(db.session.execute(select(IndexPersonSummaryRecord.participant_id,
                                            IndexPersonSummaryRecord.record_key)).all())
    assert stored == {1: participants[1], 4: participants[4]}
    # What the migration filled is what a refresh computes.
    backfilled = stored_key_sums()
    refresh_series()
    assert stored_key_sums() == backfilled == every_episode_key_sums()
    assert dict(db.session.execute(select(IndexPersonSummaryRecord.participant_id,
                                          IndexPersonSummaryRecord.record_key)).all()) == stored
