"""Web test helpers."""
from contextlib import contextmanager

import pytest
from sqlalchemy import event

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
