"""Shared fixtures: an app per test on SQLite and on a throwaway PostgreSQL server.

The schema is built once per backend by running the migrations (the same path
production uses); each test then starts from empty tables.
"""
import os
import tempfile

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from fitapp.reference_data import seed_reference_data
from tests.pg_server import ThrowawayPostgres

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session", autouse=True)
def _audit_settings_in_the_environment(tmp_path_factory):
    """Production requires FITAPP_AUDIT_KEY: tests that start a production config find one, as an
    installation would (tests of the setting itself remove it). Apps made outside the ``app``
    fixture keep their audit checkpoints in the run's temporary folder, not in the repository's
    instance folder (the ``app`` fixture gives each test its own)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FITAPP_AUDIT_KEY", "an-audit-key-for-the-test-run-only-0123456789")
        patch.setenv("FITAPP_AUDIT_CHECKPOINTS", str(tmp_path_factory.mktemp("audit") / "audit-checkpoints"))
        yield


@pytest.fixture(scope="session")
def postgresql_url():
    """FITAPP_TEST_PG_URL points at an existing empty database; otherwise start one."""
    given = os.environ.get("FITAPP_TEST_PG_URL")
    if given:
        yield given
        return
    server = ThrowawayPostgres()
    server.start()
    try:
        yield server.create_database("fitapp_test")
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sqlite_url():
    directory = tempfile.mkdtemp(prefix="fitapp-sqlite-")
    yield "sqlite:///" + os.path.join(directory, "test.sqlite")


def _upgrade(url: str) -> None:
    from flask_migrate import upgrade

    from fitapp import create_app

    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        from fitapp.extensions import db

        db.engine.dispose()


@pytest.fixture(scope="session")
def migrated_urls(request):
    """Backend name -> URL of a database upgraded to the newest migration (lazily)."""
    urls: dict[str, str] = {}

    def get(backend: str) -> str:
        if backend not in urls:
            url = request.getfixturevalue(f"{backend}_url")
            _upgrade(url)
            urls[backend] = url
        return urls[backend]

    return get


def _empty_all_tables(url: str) -> None:
    from fitapp.extensions import db

    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    engine = create_engine(url)
    with engine.begin() as conn:
        # The audit log refuses UPDATE, DELETE and TRUNCATE (migration 0008): its triggers are set
        # aside for the cleanup, in the same transaction.
        if engine.dialect.name == "postgresql":
            guarded = conn.execute(text("SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger "
                                        "WHERE NOT tgisinternal")).scalars().all()
            for table in guarded:
                conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
            for table in guarded:
                conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
        else:
            triggers = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
            for name, _sql in triggers:
                conn.execute(text(f'DROP TRIGGER "{name}"'))
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))
            for _name, sql in triggers:
                conn.execute(text(sql))
        # Every installation starts with the catalogue and norm sets: so does every test.
        seed_reference_data(conn)
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def app(backend, migrated_urls, tmp_path):
    from fitapp import create_app
    from fitapp.extensions import db

    url = migrated_urls(backend)
    app = create_app({
        "ENV": "testing",
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": "localhost",
        "AUDIT_CHECKPOINT_FILE": None,  # the test's own instance folder, below
    })
    app.instance_path = str(tmp_path)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    _empty_all_tables(url)


@pytest.fixture
def db_session(app):
    from fitapp.extensions import db

    return db.session


class IsolatedClient(FlaskClient):
    """Runs every request in an app context of its own.

    The ``app`` fixture keeps one context open for the whole test; a request
    inside it would reuse ``g`` (Flask-Login's cached user) and the database
    session from the previous request, unlike in production.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()
