"""Helpers for tests of the derived ``episode_summary`` and ``index_person_summary`` tables: what they hold,
and the same worked out by hand."""
from sqlalchemy import select

from fitapp.extensions import db
from fitapp.models import Episode, EpisodeSummaryRecord, IndexPersonSummaryRecord, Participant

# Written out rather than imported, so that a change of the rules in the app shows up here.
SCORED_ALLIANCE = ("SRS", "CSRS")
BELOW_X10 = 360


def stored_episode_rows() -> dict[int, tuple[int, int, int, int]]:
    """Episode id -> (sessions, srs_ratings, srs_total_x10, srs_below) as stored."""
    rows = db.session.execute(select(
        EpisodeSummaryRecord.episode_id, EpisodeSummaryRecord.sessions, EpisodeSummaryRecord.srs_ratings,
        EpisodeSummaryRecord.srs_total_x10, EpisodeSummaryRecord.srs_below,
    ))
    return {episode_id: tuple(values) for episode_id, *values in rows}


def counted_in_python(episode: Episode) -> tuple[int, int, int, int]:
    """The same four numbers, counted from the ORM objects without any of the app's queries."""
    live_sessions = [s for s in episode.sessions if s.deleted_at is None]
    totals = [r.total_x10 for s in live_sessions for r in s.ratings
              if r.deleted_at is None and r.instrument in SCORED_ALLIANCE and r.subject_id == r.rater_id]
    return len(live_sessions), len(totals), sum(totals), sum(1 for t in totals if t < BELOW_X10)


def every_episode_counted_in_python() -> dict[int, tuple[int, int, int, int]]:
    db.session.expire_all()
    return {e.id: counted_in_python(e) for e in db.session.scalars(select(Episode))}


def stored_index_person_rows() -> set[tuple]:
    """Every stored index_person_summary row, whole."""
    return set(db.session.execute(select(*IndexPersonSummaryRecord.__table__.columns)).all())


def index_participants_in_python() -> set[tuple[int, int, int, int | None, str | None]]:
    """(participant, episode, person, birth year, gender) of every index participant, from the ORM objects."""
    db.session.expire_all()
    return {(p.id, p.episode_id, p.person_id, p.person.birth_year, p.person.gender)
            for p in db.session.scalars(select(Participant).where(Participant.role == "index"))}


def stored_index_participants() -> set[tuple]:
    """The same five columns as stored in index_person_summary."""
    x = IndexPersonSummaryRecord
    return set(db.session.execute(select(x.participant_id, x.episode_id, x.person_id, x.birth_year, x.gender)).all())
