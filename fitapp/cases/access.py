"""Who may see which episode: the one loader every view of person-level data goes through.

One rule, with dates: a case belongs to its unit, and person-level access
follows membership of that unit *today* (the organisation's day,
fitapp.organisation_time). A therapist sees the cases of the units they belong
to today that they hold, and their team's where the unit chose so; a unit head
sees the cases of the units they belong to today. Being recorded as a case's
therapist grants nothing by itself: a therapist who moved to another unit (or
district) no longer sees the old unit's cases, open or closed, and neither does
a therapist of another unit whom an import or an old record names.
"""
from datetime import date

from flask import abort
from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import aliased

from fitapp.extensions import db
from fitapp.models import Episode, Staff, Unit, UnitMembership
from fitapp.models.staff import membership_grants_access
from fitapp.organisation_time import organisation_today
from fitapp.permissions import CASE_ROLES


def has_case_access(user: Staff) -> bool:
    return user.role in CASE_ROLES


def _teammates(user: Staff, today: date) -> dict[int, list[int]]:
    """unit id -> the other therapists in ``user``'s team there today, for units that let
    therapists see their team's cases (Unit.team_cases_visible). One small query."""
    mine, theirs = aliased(UnitMembership), aliased(UnitMembership)
    rows = db.session.execute(
        select(mine.unit_id, theirs.staff_id)
        .join(Unit, Unit.id == mine.unit_id)
        .join(theirs, theirs.team_id == mine.team_id)
        .where(mine.staff_id == user.id, mine.team_id.is_not(None), membership_grants_access(mine, today),
               Unit.team_cases_visible, theirs.staff_id != user.id, membership_grants_access(theirs, today))
    )
    teammates: dict[int, list[int]] = {}
    for unit_id, staff_id in rows:
        teammates.setdefault(unit_id, []).append(staff_id)
    return teammates


def episode_scope(user: Staff, today: date):
    """WHERE term on Episode for the episodes ``user`` may see on ``today``: the one place case
    visibility is decided.

    Therapist: in each unit they belong to on ``today``, the episodes they hold there, and their
    team's where the unit chose so; nothing of a unit they have left. Unit head: the episodes of
    the units they belong to on ``today``. None for roles without case access. Memberships and
    teammates are looked up first, so the term stays a plain index condition.
    """
    if user.role == "therapist":
        unit_ids = sorted(user.unit_ids_on(today))
        if not unit_ids:
            return false()
        team_cases = [and_(Episode.unit_id == unit_id, Episode.therapist_id.in_(sorted(staff_ids)))
                      for unit_id, staff_ids in sorted(_teammates(user, today).items())]
        return or_(and_(Episode.therapist_id == user.id, Episode.unit_id.in_(unit_ids)), *team_cases)
    if user.role == "unit_head":
        unit_ids = sorted(user.unit_ids_on(today))
        return Episode.unit_id.in_(unit_ids) if unit_ids else false()
    return None


def may_view_episode(user: Staff, episode: Episode, today: date) -> bool:
    """Whether ``episode`` is within :func:`episode_scope` of ``user`` on ``today``."""
    if user.role == "therapist" and episode.therapist_id == user.id and episode.unit_id in user.unit_ids_on(today):
        return True  # the common case, without a query
    scope = episode_scope(user, today)
    return scope is not None and db.session.scalar(
        select(Episode.id).where(Episode.id == episode.id, scope)) is not None


def load_episode_for_view(user: Staff, episode_id: int) -> Episode:
    """The episode if ``user`` may see it today (the organisation's day).

    403 for roles without case access at all; 404 both for a missing episode
    and for one the user may not see, so other units' episodes are not revealed.
    """
    if not has_case_access(user):
        abort(403)
    episode = db.session.get(Episode, episode_id)
    if episode is None or not may_view_episode(user, episode, organisation_today()):
        abort(404)
    return episode
