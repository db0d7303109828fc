"""Web test helpers."""
import json
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from fitapp.extensions import db
from tests import factories


def sign_in(client, staff, *, second_factor: bool = True) -> None:
    """Log ``staff`` in without the (slow, separately tested) password and code checks.

    The session is a complete one (version, timestamps, second factor done), as
    fitapp.auth.sessions.start_session makes it.
    """
    from fitapp.auth.sessions import session_fields

    with client.session_transaction() as session:
        session["_user_id"] = str(staff.id)
        session["_fresh"] = True
        session.update(session_fields(staff, second_factor=second_factor))


def session_cookie(client) -> str | None:
    """The session cookie's value as the browser holds it (the session's id)."""
    cookie = client.get_cookie(client.application.config["SESSION_COOKIE_NAME"])
    return cookie.value if cookie is not None else None


def session_row(client):
    """The client's row of web_session (fitapp.session_store), or None."""
    from fitapp.models import WebSession
    from fitapp.session_store import key_digest

    key = session_cookie(client)
    if key is None:
        return None
    db.session.expire_all()
    return db.session.scalar(select(WebSession).where(WebSession.key_digest == key_digest(key)))


def tablet_lock_of(client) -> dict | None:
    row = session_row(client)
    return json.loads(row.tablet_lock) if row is not None and row.tablet_lock else None


def form_drafts_of(client) -> dict:
    """token -> {"episode_id", "values"} of the client's session's drafts."""
    from fitapp.models import SessionFormDraft

    row = session_row(client)
    if row is None:
        return {}
    drafts = db.session.scalars(select(SessionFormDraft).where(SessionFormDraft.web_session_id == row.id))
    return {d.token: {"episode_id": d.episode_id, "values": json.loads(d.form_values)} for d in drafts}


@contextmanager
def counted_queries():
    """The SQL statements sent to the database inside the block."""
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


@pytest.fixture
def org():
    """Two districts; district 1 has units A and B, district 2 has unit C, each with a therapist."""
    d1, d2 = factories.district("D1", "Förvaltning Norr"), factories.district("D2", "Förvaltning Söder")
    a, b = factories.unit(d1, "A", "Familjeenheten A"), factories.unit(d1, "B", "Familjeenheten B")
    c = factories.unit(d2, "C", "Familjeenheten C")
    org = {
        "units": {"A": a, "B": b, "C": c},
        "anna": factories.staff("anna", "therapist", [a]),
        "arvid": factories.staff("arvid", "therapist", [a]),
        "bert": factories.staff("bert", "therapist", [b]),
        "cecilia": factories.staff("cecilia", "therapist", [c]),
        "chef_a": factories.staff("chef_a", "unit_head", [a]),
        "kvalitet": factories.staff("kvalitet", "quality", [a]),
        "admin": factories.staff("admin", "admin", []),
    }
    factories.commit()
    return org
