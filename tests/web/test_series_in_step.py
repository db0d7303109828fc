"""The derived series and episode tables stay in step with the ratings through the case pages.

Saves, corrections and deletions refresh the episode's series and episode
summary inside their own transaction (fitapp.cases.changes): after any sequence
of them the tables must hold exactly the rows a full ``refresh_series()``
computes, and the episode rows what counting the sessions and ratings gives.
"""
import random
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from fitapp.extensions import db
from fitapp.models import Rating, SeriesSummaryRecord, Session
from fitapp.models.cases import live_sessions
from fitapp.models.ratings import live_ratings
from fitapp.reports.series_store import refresh_series
from tests import factories
from tests.episode_summaries import (
    every_episode_counted_in_python, index_participants_in_python, stored_episode_rows, stored_index_participants,
    stored_index_person_rows,
)
from tests.web.conftest import sign_in

STEPS = 40


@pytest.fixture
def families(org):
    """Two cases of anna's: a child (CORS/CSRS) with a parent (ORS/SRS) each, started 60 days ago."""
    start = date.today() - timedelta(days=60)
    cases = []
    for n in (1, 2):
        episode = factories.episode(org["units"]["A"], org["anna"], ref=f"STEP-{n}", start_date=start)
        child = factories.participant(episode, "index", birth_year=date.today().year - 10)
        parent = factories.participant(episode, "parent", birth_year=1985)
        cases.append((episode, ((child, "CORS", "CSRS"), (parent, "ORS", "SRS"))))
    factories.commit()
    refresh_series()  # every episode starts with its (zero) summary row, as the 0006 migration leaves them
    return cases


def stored_rows() -> set[tuple]:
    columns = [c for c in SeriesSummaryRecord.__table__.columns if c.name != "id"]
    return set(db.session.execute(select(*columns)).all())


def items(rng) -> list[str]:
    return [f"{t // 10},{t % 10}" for t in (rng.randint(0, 100) for _ in range(4))]


def save_form(rng, members, start: date) -> dict:
    # Random dates put sessions out of order and on the same day, so intake and last move about.
    form = {"date": (start + timedelta(days=rng.randint(0, 60))).isoformat()}
    present = [m for m in members if rng.random() < 0.8] or members[:1]
    for participant, outcome, alliance in members:
        pid = participant.id
        form[f"outcome-{pid}-instrument"], form[f"alliance-{pid}-instrument"] = outcome, alliance
        if (participant, outcome, alliance) not in present:
            continue
        form[f"present-{pid}"] = "1"
        scales = ["outcome", "alliance"] if rng.random() < 0.8 else [rng.choice(["outcome", "alliance"])]
        if len(scales) == 1:
            form[f"reason-{pid}"] = "declined"
        for scale in scales:
            form.update({f"{scale}-{pid}-{n}": v for n, v in enumerate(items(rng), start=1)})
    return form


def live_rating_ids(episode_id: int) -> list[int]:
    return list(db.session.scalars(select(Rating.id).join(Session, Rating.session_id == Session.id)
                                   .where(Session.episode_id == episode_id, *live_ratings()).order_by(Rating.id)))


def live_session_ids(episode_id: int) -> list[int]:
    return list(db.session.scalars(select(Session.id).where(Session.episode_id == episode_id, live_sessions())
                                   .order_by(Session.id)))


def step(client, rng, episode, members) -> None:
    base = f"/cases/{episode.id}"
    ratings, sessions = live_rating_ids(episode.id), live_session_ids(episode.id)
    action = rng.choices(["save", "correct_rating", "delete_rating", "correct_session", "delete_session"],
                         weights=[5, 2, 2, 1, 1])[0]
    if action == "save" or not ratings:
        response = client.post(f"{base}/sessions/new", data=save_form(rng, list(members), episode.start_date))
    elif action == "correct_rating":
        values = dict(zip(("item-1", "item-2", "item-3", "item-4"), items(rng)))
        response = client.post(f"{base}/ratings/{rng.choice(ratings)}/correct",
                               data={**values, "reason": "typing_error"})
        if response.status_code == 422:  # by chance the same values as before: nothing to correct
            return
    elif action == "delete_rating":
        response = client.post(f"{base}/ratings/{rng.choice(ratings)}/delete", data={"reason": "duplicate"})
    elif action == "correct_session":
        day = episode.start_date + timedelta(days=rng.randint(0, 60))
        response = client.post(f"{base}/sessions/{rng.choice(sessions)}/correct",
                               data={"date": day.isoformat(), "reason": "wrong_date"})
        if response.status_code == 422:  # by chance the same date: nothing to correct
            return
    else:
        response = client.post(f"{base}/sessions/{rng.choice(sessions)}/delete", data={"reason": "wrong_session"})
    assert response.status_code == 302, (action, response.get_data(as_text=True)[:2000])


@pytest.mark.parametrize("seed", [1, 2])
def test_after_any_saves_corrections_and_deletions_the_table_equals_a_full_refresh(client, org, families, seed):
    sign_in(client, org["anna"])
    rng = random.Random(seed)
    for _ in range(STEPS):
        episode, members = rng.choice(families)
        step(client, rng, episode, members)
        db.session.expire_all()
        kept, kept_episodes, kept_people = stored_rows(), stored_episode_rows(), stored_index_person_rows()
        assert kept_episodes == every_episode_counted_in_python()
        assert stored_index_participants() == index_participants_in_python()
        refresh_series()
        assert stored_rows() == kept
        assert stored_episode_rows() == kept_episodes
        assert stored_index_person_rows() == kept_people
    assert kept  # the run did produce series
    assert any(srs_ratings for _sessions, srs_ratings, _total, _below in kept_episodes.values())
