"""Login-throttling counters in the app's own database, shared by every worker process.

Flask-Limiter keeps its counters in the storage named by RATELIMIT_STORAGE_URI.
The default ``memory://`` is per process, so with four gunicorn workers an
attacker would get four times the attempts. ``fitapp-db://`` (this module)
keeps fixed-window counters in the table ``rate_limit_counter`` of the
current app's database instead: one atomic upsert per counted attempt, on
PostgreSQL and SQLite alike.

Every call runs in a short transaction of its own on the engine, never in the
request's ``db.session``: a throttling check must neither commit nor roll back
the request's work. Rows whose window has ended are deleted now and then
(at most every ``PRUNE_SECONDS`` per process), in a statement of their own.
"""
from __future__ import annotations

import hashlib
import threading
import time

from limits.storage import Storage
from sqlalchemy import case, delete, select
from sqlalchemy.exc import SQLAlchemyError

SCHEME = "fitapp-db"
PRUNE_SECONDS = 60.0
MAX_KEY_LENGTH = 255  # rate_limit_counter.key


def _engine():
    # Looked up per call: the limiter is created once per process, the app (and its database) per create_app.
    from fitapp.extensions import db

    return db.engine


def _table():
    from fitapp.models.rate_limits import RateLimitCounter

    return RateLimitCounter.__table__


def _stored_key(key: str) -> str:
    # Keys hold a username: one longer than the column is kept as its digest (still one counter per key).
    if len(key) <= MAX_KEY_LENGTH:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def _upsert(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        raise NotImplementedError(f"{SCHEME}:// supports PostgreSQL and SQLite, not {dialect}")
    return insert


class DatabaseStorage(Storage):
    """A :mod:`limits` storage for the fixed-window strategy (Flask-Limiter's default)."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._pruned_at = time.monotonic()
        self._prune_lock = threading.Lock()

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Add ``amount`` to the key's counter, first starting a new window if the old one has ended."""
        table, engine, now = _table(), _engine(), time.time()
        insert = _upsert(engine.dialect.name)
        statement = insert(table).values(key=_stored_key(key), hits=amount, window_ends=now + expiry)
        ended = table.c.window_ends <= now
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={"hits": case((ended, amount), else_=table.c.hits + amount),
                  "window_ends": case((ended, now + expiry), else_=table.c.window_ends)},
        ).returning(table.c.hits)
        with engine.begin() as connection:
            hits = connection.execute(statement).scalar_one()
        self._prune_now_and_then()
        return hits

    def get(self, key: str) -> int:
        table, now = _table(), time.time()
        with _engine().connect() as connection:
            hits = connection.scalar(select(table.c.hits).where(
                table.c.key == _stored_key(key), table.c.window_ends > now))
        return hits or 0

    def get_expiry(self, key: str) -> float:
        table, now = _table(), time.time()
        with _engine().connect() as connection:
            ends = connection.scalar(select(table.c.window_ends).where(
                table.c.key == _stored_key(key), table.c.window_ends > now))
        return ends if ends is not None else now

    def check(self) -> bool:
        try:
            with _engine().connect() as connection:
                connection.scalar(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with _engine().begin() as connection:
            return connection.execute(delete(_table())).rowcount

    def clear(self, key: str) -> None:
        table = _table()
        with _engine().begin() as connection:
            connection.execute(delete(table).where(table.c.key == _stored_key(key)))

    def prune(self) -> int:
        """Delete the counters whose window has ended; returns how many."""
        table = _table()
        with _engine().begin() as connection:
            return connection.execute(delete(table).where(table.c.window_ends <= time.time())).rowcount

    def _prune_now_and_then(self) -> None:
        # Its own statement after the upsert's commit: a transaction never holds one counter's row
        # lock while it waits for another's, so concurrent workers cannot deadlock here.
        if time.monotonic() - self._pruned_at < PRUNE_SECONDS or not self._prune_lock.acquire(blocking=False):
            return
        try:
            self._pruned_at = time.monotonic()
            self.prune()
        finally:
            self._prune_lock.release()
