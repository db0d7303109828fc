"""Server-side sessions: the cookie holds a random id, the session lives in the table ``web_session``.

The cookie's value is ``secrets.token_urlsafe(32)`` (256 random bits) and nothing else. The table
keeps only an HMAC-SHA256 of it under SECRET_KEY, so whoever reads the database (or a backup of it)
cannot turn a row into a working cookie; changing SECRET_KEY ends every session. An id the server
did not hand out is never adopted: an unknown cookie gets a new session with a new id (session
fixation), and ``rotate`` gives a session a new id (login, logout).

A row holds three kinds of state, each written by its own statements:

- Flask's session dict (``data``): written by ``save_session`` at the end of the request, with
  ``touched_at``; last writer wins, as with a cookie.
- The tablet lock (``tablet_lock``, ``tablet_failures``): written only by the lock's functions
  below, at once, never by ``save_session``. A response that began before the hand-over saves its
  session afterwards without touching the lock, and a replayed cookie names the same row: it is
  locked too.
- Drafts of the session form (``session_form_draft``), deleted with their session.

A session past its idle limit (IDLE_TIMEOUT_MINUTES since its last request) or its absolute limit
(ABSOLUTE_TIMEOUT_HOURS since it started) is refused and deleted when its cookie comes back; such
rows, and those nobody comes back to, are deleted lazily after a save, at most every
``PRUNE_SECONDS`` per process (``prune_expired``).

Every statement runs in a short transaction of its own on the engine, never in the request's
``db.session``: saving a session must neither commit nor roll back the request's work. No state
lives in the process, so any number of gunicorn workers share the sessions.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from typing import Any

from flask import Flask, Request, Response, current_app, session
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import delete, insert, or_, select, update
from werkzeug.datastructures import CallbackDict

ID_BYTES = 32
# What token_urlsafe(ID_BYTES) gives: 43 characters of the URL-safe alphabet. Anything else is not ours.
_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")
PRUNE_SECONDS = 60.0
# A session read but not changed is marked as active at most this often (one UPDATE a minute).
TOUCH_SECONDS = 60.0
_serializer = TaggedJSONSerializer()


def _engine():
    from fitapp.extensions import db

    return db.engine


def _tables():
    from fitapp.models.web_sessions import SessionFormDraft, WebSession

    return WebSession.__table__, SessionFormDraft.__table__


def key_digest(key: str, secret: str | bytes | None = None) -> str:
    """What the table keeps of a cookie's id: HMAC-SHA256 under SECRET_KEY."""
    secret = current_app.config["SECRET_KEY"] if secret is None else secret
    secret = secret if isinstance(secret, bytes) else str(secret).encode("utf-8")
    return hmac.new(secret, b"fitapp web session\x1f" + key.encode("ascii"), hashlib.sha256).hexdigest()


class ServerSession(CallbackDict, SessionMixin):
    """Flask's session dict, with the row it is stored in and the row's lock as read at the start."""

    def __init__(self, initial: dict | None = None, *, row_id: int | None = None,
                 tablet_lock: dict | None = None, ended: tuple[str, str] | None = None) -> None:
        def on_update(self: ServerSession) -> None:
            self.modified = True
            self.accessed = True

        super().__init__(initial, on_update)
        self.row_id = row_id
        self.tablet_lock = tablet_lock
        # (reason, user id) when the cookie named a session past its limits ("idle", "expired").
        self.ended = ended
        self.new_key: str | None = None  # an id handed out in this request: the cookie to set
        self.touched_at = 0.0
        self.rotated = False
        self.modified = False
        self.accessed = False

    def __getitem__(self, key: str) -> Any:
        self.accessed = True
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.accessed = True
        return super().get(key, default)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self.accessed = True
        return super().setdefault(key, default)

    def rotate(self) -> None:
        """A new id at the end of this request; the old row (its lock and drafts too) is deleted."""
        self.rotated = True
        self.modified = True


def _limits(app: Flask) -> tuple[float, float]:
    return app.config["IDLE_TIMEOUT_MINUTES"] * 60, app.config["ABSOLUTE_TIMEOUT_HOURS"] * 3600


def _past_limits(app: Flask, created_at: float, touched_at: float, now: float) -> str | None:
    idle, absolute = _limits(app)
    if now - created_at > absolute:
        return "expired"
    if now - touched_at > idle:
        return "idle"
    return None


def _delete_sessions(connection, where) -> int:
    """Delete the sessions ``where`` selects, their drafts first (SQLite enforces no ON DELETE)."""
    sessions, drafts = _tables()
    connection.execute(delete(drafts).where(drafts.c.web_session_id.in_(select(sessions.c.id).where(where))))
    return connection.execute(delete(sessions).where(where)).rowcount


class DatabaseSessionInterface(SessionInterface):
    """Flask's session in ``web_session``; the cookie carries the id only."""

    def __init__(self) -> None:
        self._pruned_at = time.monotonic()
        self._prune_lock = threading.Lock()

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        key = request.cookies.get(self.get_cookie_name(app)) or ""
        if not _ID_PATTERN.match(key):
            return ServerSession()
        sessions, _drafts = _tables()
        with _engine().connect() as connection:
            row = connection.execute(select(sessions).where(
                sessions.c.key_digest == key_digest(key, app.config["SECRET_KEY"]))).first()
        if row is None:
            return ServerSession()
        data = _serializer.loads(row.data)
        reason = _past_limits(app, row.created_at, row.touched_at, time.time())
        if reason is not None:
            with _engine().begin() as connection:
                _delete_sessions(connection, sessions.c.id == row.id)
            user_id = data.get("_user_id")
            return ServerSession(ended=(reason, user_id) if user_id else None)
        lock = json.loads(row.tablet_lock) if row.tablet_lock else None
        opened = ServerSession(data, row_id=row.id, tablet_lock=lock)
        opened.touched_at = row.touched_at
        return opened

    def save_session(self, app: Flask, session: ServerSession, response: Response) -> None:  # type: ignore[override]
        sessions, _drafts = _tables()
        now = time.time()
        if session.accessed:
            response.vary.add("Cookie")
        if session.rotated and session.row_id is not None:
            with _engine().begin() as connection:
                _delete_sessions(connection, sessions.c.id == session.row_id)
            session.row_id = None
        if not session:
            # Emptied in this request (a logout keeps nothing): no row, no cookie.
            if session.modified:
                if session.row_id is not None:
                    with _engine().begin() as connection:
                        _delete_sessions(connection, sessions.c.id == session.row_id)
                self._delete_cookie(app, response)
            return
        if session.row_id is None:
            store_new_row(session, now)
        elif session.modified or now - session.touched_at >= TOUCH_SECONDS:
            # Only the session dict and the time: never the lock's columns. A row deleted meanwhile
            # (logged out elsewhere) stays deleted: an UPDATE of no row.
            with _engine().begin() as connection:
                connection.execute(update(sessions).where(sessions.c.id == session.row_id).values(
                    data=_serializer.dumps(dict(session)), touched_at=now))
        if session.new_key is not None:
            self._set_cookie(app, response, session.new_key)
        self._prune_now_and_then(app)

    def _set_cookie(self, app: Flask, response: Response, key: str) -> None:
        response.set_cookie(
            self.get_cookie_name(app), key, domain=self.get_cookie_domain(app), path=self.get_cookie_path(app),
            secure=self.get_cookie_secure(app), httponly=self.get_cookie_httponly(app),
            samesite=self.get_cookie_samesite(app), partitioned=self.get_cookie_partitioned(app))
        response.vary.add("Cookie")

    def _delete_cookie(self, app: Flask, response: Response) -> None:
        response.delete_cookie(
            self.get_cookie_name(app), domain=self.get_cookie_domain(app), path=self.get_cookie_path(app),
            secure=self.get_cookie_secure(app), httponly=self.get_cookie_httponly(app),
            samesite=self.get_cookie_samesite(app), partitioned=self.get_cookie_partitioned(app))
        response.vary.add("Cookie")

    def _prune_now_and_then(self, app: Flask) -> None:
        if time.monotonic() - self._pruned_at < PRUNE_SECONDS or not self._prune_lock.acquire(blocking=False):
            return
        try:
            self._pruned_at = time.monotonic()
            prune_expired(app)
        finally:
            self._prune_lock.release()


def store_new_row(session: ServerSession, now: float | None = None) -> int:
    """Give ``session`` a row under a new id (the cookie is set when the response goes out)."""
    sessions, _drafts = _tables()
    now = time.time() if now is None else now
    key = secrets.token_urlsafe(ID_BYTES)
    with _engine().begin() as connection:
        session.row_id = connection.execute(insert(sessions).values(
            key_digest=key_digest(key), data=_serializer.dumps(dict(session)), created_at=now, touched_at=now,
            tablet_lock=None, tablet_failures=0).returning(sessions.c.id)).scalar_one()
    session.new_key, session.rotated, session.touched_at = key, False, now
    return session.row_id


def prune_expired(app: Flask | None = None, now: float | None = None) -> int:
    """Delete every session past its idle or absolute limit (with its drafts); returns how many."""
    app = app or current_app
    sessions, _drafts = _tables()
    now = time.time() if now is None else now
    idle, absolute = _limits(app)
    with _engine().begin() as connection:
        return _delete_sessions(connection, or_(sessions.c.touched_at < now - idle,
                                                sessions.c.created_at < now - absolute))


# ---------------------------------------------------------------- the current request's session


def current_session() -> ServerSession | None:
    return session if isinstance(session, ServerSession) else None  # type: ignore[return-value]


def rotate() -> None:
    """This session continues under a new id; the old id names nothing from the end of the request."""
    current = current_session()
    if current is not None:
        current.rotate()


def ended_in_store() -> tuple[str, str] | None:
    """(reason, user id) when this request's cookie named a session the store found past its limits."""
    current = current_session()
    return current.ended if current is not None else None


def _row_id() -> int:
    """The current session's row, stored now if it has none yet (the lock and drafts need one)."""
    current = current_session()
    if current is None:
        raise RuntimeError("the server-side session store is not in use")
    if current.row_id is None or current.rotated:
        if current.rotated and current.row_id is not None:
            sessions, _drafts = _tables()
            with _engine().begin() as connection:
                _delete_sessions(connection, sessions.c.id == current.row_id)
        store_new_row(current)
    return current.row_id  # type: ignore[return-value]


# ---------------------------------------------------------------- the tablet lock: its own columns


def tablet_lock() -> dict | None:
    """The lock as this request found it (read with the session, no query of its own)."""
    current = current_session()
    return current.tablet_lock if current is not None else None


def set_tablet_lock(lock: dict) -> None:
    """Lock the session (a new hand-over: no failures yet)."""
    sessions, _drafts = _tables()
    row_id = _row_id()
    with _engine().begin() as connection:
        connection.execute(update(sessions).where(sessions.c.id == row_id).values(
            tablet_lock=json.dumps(lock), tablet_failures=0))
    current_session().tablet_lock = lock  # type: ignore[union-attr]


def change_tablet_lock(lock: dict) -> bool:
    """Change a lock that is still in place (the step); False if it was lifted meanwhile."""
    sessions, _drafts = _tables()
    with _engine().begin() as connection:
        changed = connection.execute(update(sessions).where(
            sessions.c.id == _row_id(), sessions.c.tablet_lock.is_not(None)).values(
            tablet_lock=json.dumps(lock))).rowcount
    if changed:
        current_session().tablet_lock = lock  # type: ignore[union-attr]
    return bool(changed)


def count_tablet_failure() -> int:
    """One more wrong password on the return screen of this session's lock; the new count."""
    sessions, _drafts = _tables()
    with _engine().begin() as connection:
        return connection.execute(update(sessions).where(sessions.c.id == _row_id()).values(
            tablet_failures=sessions.c.tablet_failures + 1).returning(sessions.c.tablet_failures)).scalar_one()


def clear_tablet_lock() -> None:
    sessions, _drafts = _tables()
    with _engine().begin() as connection:
        connection.execute(update(sessions).where(sessions.c.id == _row_id()).values(
            tablet_lock=None, tablet_failures=0))
    current_session().tablet_lock = None  # type: ignore[union-attr]


# ---------------------------------------------------------------- drafts of the session form


def save_form_draft(token: str, episode_id: int, values: dict, *, keep: int) -> None:
    """Keep ``values`` under ``token`` in this session, and at most the ``keep`` newest drafts."""
    sessions, drafts = _tables()
    row_id = _row_id()
    with _engine().begin() as connection:
        connection.execute(delete(drafts).where(drafts.c.web_session_id == row_id, drafts.c.token == token))
        connection.execute(insert(drafts).values(web_session_id=row_id, token=token, episode_id=episode_id,
                                                 form_values=json.dumps(values), saved_at=time.time()))
        kept = select(drafts.c.id).where(drafts.c.web_session_id == row_id).order_by(
            drafts.c.saved_at.desc(), drafts.c.id.desc()).limit(keep)
        connection.execute(delete(drafts).where(drafts.c.web_session_id == row_id, drafts.c.id.not_in(kept)))


def form_draft(token: str | None) -> tuple[int, dict] | None:
    """(episode id, values) of this session's draft ``token``, if there is one."""
    current = current_session()
    if not token or current is None or current.row_id is None or current.rotated:
        return None
    _sessions, drafts = _tables()
    with _engine().connect() as connection:
        row = connection.execute(select(drafts.c.episode_id, drafts.c.form_values).where(
            drafts.c.web_session_id == current.row_id, drafts.c.token == token)).first()
    return (row.episode_id, json.loads(row.form_values)) if row is not None else None


def discard_form_draft(token: str | None) -> None:
    current = current_session()
    if not token or current is None or current.row_id is None:
        return
    _sessions, drafts = _tables()
    with _engine().begin() as connection:
        connection.execute(delete(drafts).where(drafts.c.web_session_id == current.row_id, drafts.c.token == token))
