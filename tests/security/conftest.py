"""Security tests reuse the web tests' organisation (two districts, units A/B/C) and sign-in."""
import re
from datetime import date

import pytest
from sqlalchemy import or_, select

from fitapp.extensions import db
from tests import factories
from tests.web.conftest import org, sign_in  # noqa: F401  (fixture and helper re-exported)

# "/cases/<int:episode_id>/ratings/<int:rating_id>/correct" -> its variables.
_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


@pytest.fixture
def case(org):  # noqa: F811
    """An open episode of therapist anna in unit A with one session and one rating."""
    episode = factories.episode(org["units"]["A"], org["anna"], ref="SEC-1", start_date=date(2025, 1, 13))
    child = factories.participant(episode, "index", birth_year=2015, ref="P-SEC")
    rating = factories.rating(factories.session(episode, 1), "CORS", child, "20.0")
    factories.commit()
    return {"episode_id": episode.id, "rating_id": rating.id, "session_id": rating.session_id,
            "participant_id": child.id, "person_id": child.person_id, "unit_id": episode.unit_id}


def rule_path(rule, ids: dict) -> str:
    """The rule's URL with every variable filled from ``ids`` (1 when unknown)."""
    return _VARIABLE.sub(lambda m: str(ids.get(m.group(1), 1)), rule.rule)


def app_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def _rows(table):
    if table.name == "web_session":
        # Session bookkeeping (a session started by signing in, its dict with the CSRF token and
        # messages, its timestamps) is not a change a request makes; a tablet lock is.
        return select(table.c.tablet_lock, table.c.tablet_failures).where(
            or_(table.c.tablet_lock.is_not(None), table.c.tablet_failures != 0))
    return select(table)


def table_contents(exclude=("audit_event",)) -> dict:
    """Every row of every table but the audit log: what a request must not change."""
    contents = {}
    for table in db.metadata.sorted_tables:
        if table.name in exclude:
            continue
        rows = db.session.execute(_rows(table)).all()
        contents[table.name] = sorted((tuple(map(repr, row)) for row in rows))
    return contents
