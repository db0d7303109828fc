"""The append-only audit log: writing events (who, when, what object, which action, from where), and checking it.

Never pass clinical content here: only ids and action names. The caller commits
the event in the same transaction as the change it records.

Three things make the log hard to rewrite quietly (docs/security.md, "The audit trail"):

- the database refuses UPDATE, DELETE and TRUNCATE on ``audit_event`` (triggers of migration 0008;
  in production the app's PostgreSQL role also has only INSERT and SELECT on it);
- each entry's hash is an HMAC-SHA256, under a key kept outside the database (``FITAPP_AUDIT_KEY``),
  of its content, its number in the log (``seq``) and its predecessor's hash: whoever can write to
  the database but does not have the key cannot recompute the chain after an edit;
- after every commit that added entries the app appends a signed checkpoint (entries so far, the
  newest entry's id and hash) to a file outside the database (``instance/audit-checkpoints``), so a
  removed tail or an emptied table no longer looks like a shorter intact log.

Entries written before migration 0008 keep their unkeyed SHA-256 hashes (``hash_version`` 1): they are
accepted only at the start of the log, before the first keyed entry, and the first checkpoint written
after the upgrade pins them (its head hash depends on every entry before it).
"""
from __future__ import annotations

import fcntl
import hmac
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from flask import current_app, has_app_context, has_request_context, request
from flask_login import current_user
from sqlalchemy import Row, event, func, select, text
from sqlalchemy.orm import Session, object_session

from fitapp.extensions import db
from fitapp.models._types import utcnow
from fitapp.models.audit import GENESIS_HASH, KEYED, UNKEYED, AuditEvent, chain_key, checkpoint_key, entry_hash

# Key of the PostgreSQL advisory lock that serialises appends to the chain
# (an arbitrary constant: "fitaudit" in ASCII, truncated to a bigint).
CHAIN_LOCK_KEY = 0x66697461756469
CHECKPOINT_FILE_NAME = "audit-checkpoints"
CHECKPOINT_FORMAT = "1"
CHECKPOINT_MODE = 0o600
# Session.info keys: the chain's head as this transaction left it (valid while it holds the chain),
# and the newest entry it inserted (what its commit makes checkpoint-worthy).
_HEAD = "fitapp.audit.head"
_PENDING = "fitapp.audit.pending_checkpoint"
# Enough of the file's end to hold its last line (a line is about 170 bytes).
_TAIL_BYTES = 1024


def _actor():
    if has_request_context() and getattr(current_user, "is_authenticated", False):
        return current_user.id, current_user.username
    return None, None


def record(action: str, *, object_type: str | None = None, object_id=None, unit_id: int | None = None,
           actor_id: int | None = None, actor_name: str | None = None) -> AuditEvent:
    """Add an audit event to the current session, chained to the previous one (at the flush, below)."""
    if actor_id is None and actor_name is None:
        actor_id, actor_name = _actor()
    entry = AuditEvent(
        actor_id=actor_id,
        actor_name=actor_name,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        unit_id=unit_id,
        remote_addr=request.remote_addr if has_request_context() else "cli",
    )
    db.session.add(entry)
    db.session.flush()
    return entry


# ---------------------------------------------------------------- chaining, at every insert


def _chain_head(connection) -> tuple[int, str]:
    """Take the chain until this transaction ends and read its head: (seq, hash) of the newest entry.

    PostgreSQL: a transaction-level advisory lock, released at commit or rollback, so two appends
    never share a predecessor. SQLite serialises writers on its own (one writer per database file);
    the unique ``seq`` refuses a fork there should two connections ever read the same head.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    row = connection.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
    return (row.seq, row.hash) if row else (0, GENESIS_HASH)


@event.listens_for(AuditEvent, "before_insert")
def _chain_entry(_mapper, connection, entry: AuditEvent) -> None:
    """Every entry the ORM inserts is chained here, whoever built it, in insertion order."""
    session = object_session(entry)
    head = session.info.get(_HEAD) or _chain_head(connection)
    entry.seq, entry.prev_hash, entry.hash_version = head[0] + 1, head[1], KEYED
    if entry.at is None:
        entry.at = utcnow()  # taken while holding the chain: times follow the chain's order
    entry.hash = entry.compute_hash(chain_key())
    session.info[_HEAD] = (entry.seq, entry.hash)


@event.listens_for(AuditEvent, "after_insert")
def _note_checkpoint(_mapper, _connection, entry: AuditEvent) -> None:
    info = object_session(entry).info
    pending = info.get(_PENDING)
    if pending is None or entry.seq > pending[0]:
        info[_PENDING] = (entry.seq, entry.id, entry.hash)


@event.listens_for(Session, "after_commit")
def _checkpoint_after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    session.info.pop(_HEAD, None)
    if pending is not None and has_app_context():
        try:
            write_checkpoint(*pending)
        except OSError as error:
            # The entries are committed; the request must not fail for this. audit-verify will
            # show the checkpoint lagging behind.
            current_app.logger.error("audit checkpoint not written to %s: %s", checkpoint_path(), error)


@event.listens_for(Session, "after_transaction_end")
def _forget_chain_state(session: Session, transaction) -> None:
    # After a rollback the head and the pending entry are gone; after a savepoint, read them again.
    if transaction.parent is None or transaction.nested:
        session.info.pop(_HEAD, None)
        session.info.pop(_PENDING, None)


# ---------------------------------------------------------------- checkpoints outside the database


def checkpoint_path() -> str:
    return current_app.config.get("AUDIT_CHECKPOINT_FILE") or os.path.join(current_app.instance_path,
                                                                            CHECKPOINT_FILE_NAME)


def _signature(body: str) -> str:
    return hmac.digest(checkpoint_key(), body.encode(), "sha256").hex()


def checkpoint_line(count: int, last_id: int, last_hash: str, written_at: str) -> str:
    """``format;count;last_id;last_hash;written_at;hmac`` and a newline."""
    body = ";".join((CHECKPOINT_FORMAT, str(count), str(last_id), last_hash, written_at))
    return f"{body};{_signature(body)}\n"


def _last_count(fd: int, size: int) -> int:
    """The entry count of the file's last line (0 when there is none or it cannot be read)."""
    if size == 0:
        return 0
    tail = os.pread(fd, min(size, _TAIL_BYTES), max(0, size - _TAIL_BYTES)).decode("utf-8", "replace")
    lines = tail.split("\n")[:-1]  # what follows the last newline is not a whole line
    try:
        return int(lines[-1].split(";")[1])
    except (IndexError, ValueError):
        return 0


def write_checkpoint(count: int, last_id: int, last_hash: str) -> bool:
    """Append a signed checkpoint unless the file already reaches as far; True when one was written.

    Called after a commit with its newest entry: everything up to it is committed (an entry is only
    chained onto a committed head). Workers append under an exclusive flock, so lines are whole and
    their counts never go down (a worker whose commit was overtaken writes nothing).
    """
    fd = os.open(checkpoint_path(), os.O_RDWR | os.O_APPEND | os.O_CREAT, CHECKPOINT_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        status = os.fstat(fd)
        if stat.S_IMODE(status.st_mode) & 0o077 and status.st_uid == os.geteuid():
            os.fchmod(fd, CHECKPOINT_MODE)
        if _last_count(fd, status.st_size) >= count:
            return False
        line = checkpoint_line(count, last_id, last_hash, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        if status.st_size and os.pread(fd, 1, status.st_size - 1) != b"\n":
            line = "\n" + line  # a line cut short (by a crash) must not swallow this one
        os.write(fd, line.encode())
        return True
    finally:
        os.close(fd)  # releases the lock


@dataclass(frozen=True)
class Checkpoint:
    line: int
    count: int
    last_id: int
    last_hash: str
    written_at: str

    def __str__(self) -> str:
        return (f"the newest checkpoint (line {self.line}, written {self.written_at}) records {self.count} "
                f"entries up to audit event {self.last_id}")


def _parse_checkpoint(number: int, text_line: str) -> Checkpoint | None:
    fields_ = text_line.split(";")
    if len(fields_) != 6 or fields_[0] != CHECKPOINT_FORMAT:
        return None
    body, signature = ";".join(fields_[:5]), fields_[5]
    if not hmac.compare_digest(_signature(body), signature):
        return None
    try:
        return Checkpoint(number, int(fields_[1]), int(fields_[2]), fields_[3], fields_[4])
    except ValueError:
        return None


def read_checkpoints(path: str) -> tuple[Checkpoint | None, list[str]]:
    """The checkpoint reaching furthest, and warnings (lines without a valid signature, a readable file).

    A line that is not signed with the audit key is ignored: nobody without the key can make one that
    counts. None when the file is missing or has no valid line.
    """
    warnings: list[str] = []
    newest = None
    if not os.path.exists(path):
        return None, warnings
    if stat.S_IMODE(os.stat(path).st_mode) & 0o077:
        warnings.append(f"{path} can be read by others than its owner (it should be 0600)")
    with open(path, encoding="utf-8", errors="replace") as lines:
        for number, text_line in enumerate(lines, start=1):
            if not text_line.endswith("\n"):
                warnings.append(f"{path} line {number} is incomplete (a write cut short?): ignored")
                continue
            checkpoint = _parse_checkpoint(number, text_line.rstrip("\n"))
            if checkpoint is None:
                warnings.append(f"{path} line {number} has no valid signature (damaged, or not written by "
                                "the app with this audit key): ignored")
            elif newest is None or checkpoint.count >= newest.count:
                newest = checkpoint
    return newest, warnings


# ---------------------------------------------------------------- verification


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    reason: str

    def __str__(self) -> str:
        return f"audit event {self.event_id}: {self.reason}"


@dataclass(frozen=True)
class ChainWalk:
    checked: int
    unkeyed: int
    broken: ChainBreak | None


def _rows(batch_size: int) -> Iterator[Row]:
    """Plain rows in id order, not session objects, so a long log does not fill the session."""
    table = AuditEvent.__table__
    last_id = 0
    while rows := db.session.execute(
        select(table).where(table.c.id > last_id).order_by(table.c.id).limit(batch_size)
    ).all():
        yield from rows
        last_id = rows[-1].id


def walk_chain(batch_size: int = 1000) -> ChainWalk:
    """Walk the log in id order up to the first broken entry: every entry follows its predecessor,
    has the next number, and matches its hash; unkeyed (pre-0008) entries only before keyed ones."""
    key = chain_key()
    expected_prev, checked, unkeyed, seen_keyed = GENESIS_HASH, 0, 0, False

    def walked(entry_id: int, reason: str) -> ChainWalk:
        return ChainWalk(checked, unkeyed, ChainBreak(entry_id, reason))

    for entry in _rows(batch_size):
        if entry.prev_hash != expected_prev:
            return walked(entry.id, "does not follow the previous entry (deleted or reordered entry)")
        if entry.seq != checked + 1:
            return walked(entry.id, f"is numbered {entry.seq} but is entry number {checked + 1} "
                                    "(deleted, inserted or renumbered entries)")
        if entry.hash_version == UNKEYED:
            if seen_keyed:
                return walked(entry.id, "has an unkeyed hash after keyed entries (rewritten without the audit key)")
            unkeyed += 1
        elif entry.hash_version == KEYED:
            seen_keyed = True
        else:
            return walked(entry.id, f"unknown hash version {entry.hash_version!r}")
        if entry.hash != entry_hash(entry, key):
            return walked(entry.id, "content does not match its hash (changed entry, or hashed without the "
                                    "audit key)")
        expected_prev = entry.hash
        checked += 1
    return ChainWalk(checked, unkeyed, None)


def verify_chain(batch_size: int = 1000) -> tuple[int, ChainBreak | None]:
    """(entries checked, the first broken entry or None): the chain alone, see :func:`walk_chain`."""
    walk = walk_chain(batch_size)
    return walk.checked, walk.broken


@dataclass
class Verification:
    """What ``flask audit-verify`` reports: problems make it fail, warnings and notes do not."""

    walk: ChainWalk
    entries: int
    checkpoint: Checkpoint | None
    path: str
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.walk.broken is None and not self.problems


def _entry(entry_id: int):
    table = AuditEvent.__table__
    return db.session.execute(select(table.c.seq, table.c.hash).where(table.c.id == entry_id)).first()


def _compare_with_checkpoint(result: Verification, checkpoint: Checkpoint) -> None:
    table = AuditEvent.__table__
    entries = result.entries
    if entries == 0:
        result.problems.append(f"the audit log is empty, but {checkpoint}: the log was emptied")
        return
    head_id = db.session.scalar(select(func.max(table.c.id)))
    named = _entry(checkpoint.last_id)
    if named is None and head_id < checkpoint.last_id:
        result.problems.append(f"entries removed from the end: the log has {entries} entries ending at audit "
                               f"event {head_id}, but {checkpoint}")
    elif named is None:
        result.problems.append(f"audit event {checkpoint.last_id} is missing, but {checkpoint}")
    elif named.hash != checkpoint.last_hash or named.seq != checkpoint.count:
        result.problems.append(f"audit event {checkpoint.last_id} differs from the newest checkpoint, its number or "
                               f"hash changed: the log was rewritten ({checkpoint})")
    else:
        up_to = db.session.scalar(select(func.count()).select_from(table).where(table.c.id <= checkpoint.last_id))
        if up_to != checkpoint.count:
            result.problems.append(f"the log has {up_to} entries up to audit event {checkpoint.last_id}, but "
                                   f"{checkpoint}: entries deleted or inserted")
    if not result.problems and entries > checkpoint.count:
        result.notes.append(f"{entries - checkpoint.count} entries written after the newest checkpoint")


def verify_log(batch_size: int = 1000) -> Verification:
    """The chain, then its length and head against the newest checkpoint outside the database."""
    path = checkpoint_path()
    try:
        checkpoint, warnings = read_checkpoints(path)
    except OSError as error:  # e.g. run as another user than the app's: the file is owner-only
        checkpoint, warnings, unreadable = None, [], f"{path} cannot be read ({error.strerror})"
    else:
        unreadable = None
    entries = db.session.scalar(select(func.count()).select_from(AuditEvent))
    result = Verification(walk_chain(batch_size), entries, checkpoint, path, warnings=warnings)
    if unreadable:
        result.problems.append(f"no checkpoint: {unreadable}; run audit-verify as the app's user")
    elif checkpoint is not None:
        _compare_with_checkpoint(result, checkpoint)
    elif entries > result.walk.unkeyed:
        state = "has no valid checkpoint" if os.path.exists(path) else "does not exist"
        result.problems.append(f"no checkpoint: {path} {state}, so a removed tail or an emptied log "
                               "cannot be told from a shorter one")
    elif entries:
        result.warnings.append(f"{entries} entries were written before keyed hashing (migration 0008) and no "
                               "checkpoint exists yet: the next audited action writes the first one")
    return result
