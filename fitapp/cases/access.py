"""Who may see which episode: the one loader every view of person-level data goes through."""
from datetime import date

from flask import abort

from fitapp.extensions import db
from fitapp.models import Episode, Staff

# Roles that work with cases. Quality group and administrators never see person-level data.
CASE_ROLES = frozenset({"therapist", "unit_head"})


def has_case_access(user: Staff) -> bool:
    return user.role in CASE_ROLES


def may_view_episode(user: Staff, episode: Episode, today: date) -> bool:
    """Therapist: their own episodes; unit head: episodes of a unit they belong to today."""
    if user.role == "therapist":
        return episode.therapist_id == user.id
    if user.role == "unit_head":
        return episode.unit_id in user.unit_ids_on(today)
    return False


def load_episode_for_view(user: Staff, episode_id: int) -> Episode:
    """The episode if ``user`` may see it.

    403 for roles without case access at all; 404 both for a missing episode
    and for one the user may not see, so other units' episodes are not revealed.
    """
    if not has_case_access(user):
        abort(403)
    episode = db.session.get(Episode, episode_id)
    if episode is None or not may_view_episode(user, episode, date.today()):
        abort(404)
    return episode
