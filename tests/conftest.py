"""Shared fixtures: an app per test on SQLite and on a throwaway PostgreSQL server.

The schema is built once per backend by running the migrations (the same path
production uses); each test then starts from empty tables.

Under pytest-xdist (scripts/run-tests runs the suite on every core) each worker is a process of
its own with its own PostgreSQL server (or, with FITAPP_TEST_PG_URL, its own database on that
server), SQLite file, temporary folders and audit checkpoint file: nothing is shared between workers.
The markers that `scripts/run-tests --fast` leaves out are given here, from where a test is and
what it runs on (tests/markers.py), not by hand in each test.
"""
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from hypothesis import HealthCheck, settings
from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DBAPIError

from fitapp.reference_data import seed_reference_data
from tests.markers import mark_by_kind
from tests.pg_server import ThrowawayPostgres

BACKENDS = ("sqlite", "postgresql")
# Two workers on a shared 2-core machine make drawing examples slower than Hypothesis' one second for
# ten: that health check failed tests at random (tests/scoring/test_alerts.py) without a fault in them.
settings.register_profile("fitapp", suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("fitapp")
# "gw0", "gw1", ... under pytest-xdist; empty in a run without workers.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def pytest_collection_modifyitems(config, items):
    mark_by_kind(config, items)


@pytest.fixture(scope="session", autouse=True)
def _audit_settings_in_the_environment(tmp_path_factory):
    """Production requires FITAPP_AUDIT_KEY: tests that start a production config find one, as an
    installation would (tests of the setting itself remove it). Apps made outside the ``app``
    fixture keep their audit checkpoints in the run's temporary folder, not in the repository's
    instance folder (the ``app`` fixture gives each test its own). The temporary folders are the
    worker's own under pytest-xdist."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FITAPP_AUDIT_KEY", "an-audit-key-for-the-test-run-only-0123456789")
        patch.setenv("FITAPP_AUDIT_CHECKPOINTS", str(tmp_path_factory.mktemp("audit") / "audit-checkpoints"))
        yield


@pytest.fixture(scope="session", autouse=True)
def _instance_folder_of_the_run(tmp_path_factory):
    """Apps made outside the ``app`` fixture (browser tests, configuration tests) get an instance
    folder of the run's (the worker's) own, never the repository's instance/ with a developer's data."""
    folder = str(tmp_path_factory.mktemp("instance"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Flask, "auto_find_instance_path", lambda app: folder)
        yield folder


@pytest.fixture(scope="session")
def postgresql_url():
    """FITAPP_TEST_PG_URL points at an existing empty database; otherwise start a server of this
    process's own (one per xdist worker: no port, data folder or database is shared)."""
    given = os.environ.get("FITAPP_TEST_PG_URL")
    if given and WORKER:
        with _database_of_this_worker(given) as url:
            yield url
        return
    if given:
        yield given
        return
    server = ThrowawayPostgres(WORKER)
    server.start()
    try:
        yield server.create_database("fitapp_test")
    finally:
        server.stop()


@contextmanager
def _database_of_this_worker(given: str) -> Iterator[str]:
    """``<database>_<worker>`` on FITAPP_TEST_PG_URL's server, new at the start and dropped at the end:
    two workers on the one given database would empty each other's tables."""
    url = make_url(given)
    name = f"{url.database}_{WORKER}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except DBAPIError as error:
        admin.dispose()
        pytest.exit(f"FITAPP_TEST_PG_URL with pytest-xdist: the worker's database {name} cannot be made "
                    f"({error.orig}); name a role that may create databases, or run with -n 0", returncode=3)
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_url():
    directory = tempfile.mkdtemp(prefix=f"fitapp-sqlite-{WORKER}-" if WORKER else "fitapp-sqlite-")
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
