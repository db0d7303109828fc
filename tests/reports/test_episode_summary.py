"""The derived episode_summary table: live sessions and self-rated SRS/CSRS tallies of every episode.

Checked against the same numbers counted in plain Python from the ORM objects
(tests/episode_summaries.py), after a refresh, after retention thins a case,
and as the 0006 migration fills it for the episodes already stored.
"""
from datetime import datetime, timezone

import pytest
from flask_migrate import upgrade
from sqlalchemy import delete, text

from fitapp import retention
from fitapp.extensions import db
from fitapp.models import Episode, Session
from fitapp.reports.series_store import refresh_series
from tests import factories
from tests.episode_summaries import (
    every_episode_counted_in_python, index_participants_in_python, stored_episode_rows, stored_index_participants,
    stored_index_person_rows,
)
from tests.test_retention import DAY_AFTER_PERIOD, at, case
from tests.web.conftest import counted_queries


def soft_delete(record) -> None:
    record.deleted_at, record.delete_reason = datetime.now(timezone.utc), "duplicate"


@pytest.fixture
def episodes(app):
    """A rated episode with every kind of rating that must or must not count; one without sessions; one unrated."""
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
    unrated = factories.episode(unit, therapist)
    factories.session(unrated, 1)
    factories.commit()
    return rated, without_sessions, unrated


def test_each_row_counts_the_live_sessions_and_live_self_rated_srs(episodes):
    rated, without_sessions, unrated = episodes
    refresh_series()
    stored = stored_episode_rows()
    assert stored == every_episode_counted_in_python()
    assert stored == {
        rated.id: (3, 3, 360 + 359 + 380, 1),
        without_sessions.id: (0, 0, 0, 0),
        unrated.id: (1, 0, 0, 0),
    }


def test_refreshing_some_episodes_replaces_their_rows_only(episodes):
    rated, without_sessions, unrated = episodes
    refresh_series()
    before = stored_episode_rows()
    newcomer = factories.participant(without_sessions, "index", birth_year=2012)
    factories.rating(factories.session(without_sessions, 1), "SRS", newcomer, "30.0")
    soft_delete(rated.sessions[0])
    factories.session(unrated, 2)
    factories.commit()
    refresh_series([rated.id, without_sessions.id])
    stored = stored_episode_rows()
    counted = every_episode_counted_in_python()
    assert stored[rated.id] == counted[rated.id] == (2, 1, 359, 1)
    assert stored[without_sessions.id] == counted[without_sessions.id] == (1, 1, 300, 1)
    assert stored[unrated.id] == before[unrated.id] != counted[unrated.id]  # not asked for: left alone


def test_a_full_refresh_drops_the_rows_of_deleted_episodes(episodes, backend):
    rated, without_sessions, unrated = episodes
    refresh_series()
    db.session.execute(delete(Session).where(Session.episode_id == unrated.id))
    db.session.execute(delete(Episode).where(Episode.id == unrated.id))
    db.session.commit()
    if backend == "sqlite":  # foreign keys are not enforced there: no ON DELETE CASCADE
        assert unrated.id in stored_episode_rows()
    refresh_series()
    assert set(stored_episode_rows()) == {rated.id, without_sessions.id}


def test_a_batch_takes_the_same_statements_however_many_episodes(episodes):
    ids = [episode.id for episode in episodes]
    with counted_queries() as one:
        refresh_series(ids[:1])
    with counted_queries() as three:
        refresh_series(ids)
    assert len(three) == len(one)
    assert sum(q.startswith("INSERT INTO episode_summary") for q in three) == 1


# ---------------------------------------------------------------- retention


def test_retention_leaves_the_summary_of_a_thinned_case_right(app):
    """The exempt child's CSRS stays, the parent's SRS goes with the parent; the other case goes whole."""
    unit = factories.unit(code="A")
    place = {"unit": unit, "therapist": factories.staff("anna", "therapist", [unit])}
    thinned, gone = case(place, exempt=(0,)), case(place)
    for episode in (thinned, gone):
        child, parent = episode.participants
        for session in episode.sessions:
            factories.rating(session, "CSRS", child, "35.9").created_at = at(session.date)
            factories.rating(session, "SRS", parent, "36.0").created_at = at(session.date)
    factories.commit()
    refresh_series()
    assert stored_episode_rows()[thinned.id] == (2, 4, 2 * 359 + 2 * 360, 2)
    done = retention.apply(DAY_AFTER_PERIOD).total
    assert (done.episodes, done.pruned) == (1, 1)
    assert stored_episode_rows() == every_episode_counted_in_python() == {thinned.id: (2, 2, 2 * 359, 2)}
    # The exempt child stays the thinned case's index person; the deleted case's go with it.
    assert stored_index_participants() == index_participants_in_python()
    assert {row.episode_id for row in stored_index_person_rows()} == {thinned.id}


# ---------------------------------------------------------------- the 0006 migration

# A case written with plain SQL into a database at 0005: the child's CSRS 36.0 and 35.9, the
# parent's SRS 38.0; not counted: a soft-deleted rating, a rating in a soft-deleted session,
# a YCSRS, an SRS of the child given by the parent. A second episode has no sessions.
CASE_AT_0005 = """
INSERT INTO district (id, code, name) VALUES (1, 'D1', 'Norr');
INSERT INTO unit (id, district_id, code, name, team_cases_visible) VALUES (1, 1, 'U1', 'Enhet', 0);
INSERT INTO staff (id, username, role, is_enabled, session_version, created_at)
    VALUES (1, 'anna', 'therapist', 1, 0, '2025-01-01 08:00:00');
INSERT INTO episode (id, unit_id, ref, therapist_id, intervention_id, start_date, created_at)
    SELECT n, 1, 'E-' || n, 1, (SELECT id FROM intervention WHERE code = 'FAMBEH'), '2025-01-13',
           '2025-01-13 08:00:00'
    FROM (SELECT 1 AS n UNION ALL SELECT 2) AS numbers;
INSERT INTO person (id, ref, birth_year, retention_exempt, created_at) VALUES
    (1, 'P-1', 2014, 0, '2025-01-13 08:00:00'), (2, 'P-2', 1980, 0, '2025-01-13 08:00:00'),
    (3, 'P-3', 2021, 0, '2025-01-13 08:00:00');
INSERT INTO participant (id, episode_id, person_id, role) VALUES (1, 1, 1, 'index'), (2, 1, 2, 'parent'),
    (3, 1, 3, 'other');
INSERT INTO session (id, episode_id, number, date, created_at, deleted_at, delete_reason) VALUES
    (1, 1, 1, '2025-01-13', '2025-01-13 08:00:00', NULL, NULL),
    (2, 1, 2, '2025-01-20', '2025-01-20 08:00:00', NULL, NULL),
    (3, 1, 3, '2025-01-27', '2025-01-27 08:00:00', '2025-01-28 08:00:00', 'duplicate');
INSERT INTO rating (session_id, instrument, subject_id, rater_id, item1_x10, item2_x10, item3_x10, item4_x10,
                    total_x10, created_at, deleted_at, delete_reason) VALUES
    (1, 'CSRS', 1, 1, 90, 90, 90, 90, 360, '2025-01-13 08:00:00', NULL, NULL),
    (2, 'CSRS', 1, 1, 90, 90, 90, 89, 359, '2025-01-20 08:00:00', NULL, NULL),
    (1, 'SRS', 2, 2, 95, 95, 95, 95, 380, '2025-01-13 08:00:00', NULL, NULL),
    (2, 'SRS', 2, 2, 50, 50, 50, 50, 200, '2025-01-20 08:00:00', '2025-01-21 08:00:00', 'duplicate'),
    (3, 'SRS', 2, 2, 25, 25, 25, 25, 100, '2025-01-27 08:00:00', NULL, NULL),
    (1, 'YCSRS', 3, 3, 30, 30, 30, 30, 120, '2025-01-13 08:00:00', NULL, NULL),
    (2, 'SRS', 1, 2, 40, 40, 40, 30, 150, '2025-01-20 08:00:00', NULL, NULL);
"""


@pytest.fixture
def database_at_0005(tmp_path):
    from fitapp import create_app

    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path / "old.sqlite")})
    with app.app_context():
        upgrade(revision="0005")
        yield app
        db.session.remove()
        db.engine.dispose()


def test_the_migration_fills_every_episode_as_a_refresh_would(database_at_0005):
    with db.engine.begin() as conn:
        for statement in CASE_AT_0005.split(";"):
            if statement.strip():
                conn.execute(text(statement))
    upgrade()
    backfilled, people = stored_episode_rows(), stored_index_person_rows()
    assert backfilled == {1: (2, 3, 360 + 359 + 380, 1), 2: (0, 0, 0, 0)}
    # The index child, with no series of its own (no outcome rating was ever stored at 0005).
    assert stored_index_participants() == {(1, 1, 1, 2014, None)}
    refresh_series()
    assert stored_episode_rows() == backfilled
    assert stored_index_person_rows() == people
