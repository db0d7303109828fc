"""A database of a test's own (not the session's shared one), upgraded to an older migration.

For tests of a migration: the shared databases are always at the newest revision, so a test that
upgrades from an older one needs a database nobody else uses. SQLite gets a file in the test's
temporary folder; PostgreSQL a database of its own on the run's throwaway server, dropped after.
"""
import uuid
from contextlib import contextmanager

from flask_migrate import upgrade
from sqlalchemy import create_engine, make_url, text


@contextmanager
def app_at_revision(revision: str, backend: str, request, tmp_path, **config):
    """Yield an app (inside its app context) whose database is upgraded to ``revision``."""
    from fitapp import create_app
    from fitapp.extensions import db

    if backend == "sqlite":
        url, drop, admin = "sqlite:///" + str(tmp_path / "old.sqlite"), None, None
    else:
        server = make_url(request.getfixturevalue("postgresql_url"))
        name = f"fitapp_at_{revision}_{uuid.uuid4().hex[:12]}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url, drop = server.set(database=name).render_as_string(hide_password=False), name
    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": url, **config})
    app.instance_path = str(tmp_path)
    try:
        with app.app_context():
            upgrade(revision=revision)
            yield app
            db.session.remove()
            db.engine.dispose()
    finally:
        if drop:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE "{drop}"'))
            admin.dispose()
