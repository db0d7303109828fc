"""The instance folder and the SQLite file hold confidential data: readable by the app's own user only."""
from __future__ import annotations

import logging
import os
import stat

from sqlalchemy.engine import make_url

FOLDER_MODE = 0o700
FILE_MODE = 0o600
log = logging.getLogger(__name__)


def make_private_folder(path: str) -> None:
    """Create ``path`` owner-only, or take group and other access away from one we own."""
    os.makedirs(path, mode=FOLDER_MODE, exist_ok=True)
    _restrict(path, FOLDER_MODE)


def sqlite_path(url: str) -> str | None:
    """The file of an SQLite URL; None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.database.startswith("file:") or parsed.query.get("mode") == "memory":
        return None  # a URI filename: SQLite's own options decide
    return os.path.abspath(parsed.database)


def make_private_sqlite_file(url: str) -> None:
    """Create the SQLite file of ``url`` owner-only before SQLite does (it would use the umask: 0644).

    SQLite gives its journal and WAL files the database file's permissions, so they follow.
    """
    path = sqlite_path(url)
    if path is None or not os.path.isdir(os.path.dirname(path)):
        return  # nothing to create here; SQLite reports a missing folder itself
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE))
    except FileExistsError:
        pass
    _restrict(path, FILE_MODE)


def _restrict(path: str, mode: int) -> None:
    info = os.stat(path)
    if stat.S_IMODE(info.st_mode) & 0o077 == 0:
        return
    if info.st_uid != os.getuid():
        # Another user's folder or file (a mounted volume, say): not ours to change.
        log.warning("%s is readable by others and not owned by this user; make it mode %o", path, mode)
        return
    os.chmod(path, stat.S_IMODE(info.st_mode) & ~0o077)
