"""Login-throttling counters in the database (fitapp-db://), shared by every worker process (issue 6)."""
import threading
import time

import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import select, update

from fitapp.auth import throttle
from fitapp.extensions import db
from fitapp.models import RateLimitCounter
from fitapp.rate_limit_store import MAX_KEY_LENGTH, DatabaseStorage
from tests.security.test_authentication import log_in


def counters() -> dict[str, tuple[int, float]]:
    db.session.remove()  # the storage commits on its own connections: read afresh
    return {c.key: (c.hits, c.window_ends) for c in db.session.scalars(select(RateLimitCounter))}


def end_windows(*keys: str) -> None:
    """Move windows into the past, as if their time had run out."""
    condition = RateLimitCounter.key.in_(keys) if keys else True
    db.session.execute(update(RateLimitCounter).where(condition).values(window_ends=time.time() - 1))
    db.session.commit()


def test_the_database_is_the_default_storage_and_another_can_be_named(app, monkeypatch, tmp_path):
    from fitapp.config import load_config

    assert isinstance(throttle.storage(), DatabaseStorage)
    assert isinstance(storage_from_string("fitapp-db://"), DatabaseStorage)
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    production = {"ENV": "production", "SECRET_KEY": "a-long-random-secret-for-this-test"}
    assert load_config(str(tmp_path), production)["RATELIMIT_STORAGE_URI"] == "fitapp-db://"
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://localhost:6379")
    assert load_config(str(tmp_path), production)["RATELIMIT_STORAGE_URI"] == "redis://localhost:6379"


def test_counts_within_a_window_and_starts_again_after_it(app):
    storage = DatabaseStorage()
    assert (storage.get("k"), storage.incr("k", 60), storage.incr("k", 60, amount=3), storage.get("k")) == (0, 1, 4, 4)
    ends = storage.get_expiry("k")
    assert time.time() + 55 < ends <= time.time() + 60
    end_windows("k")
    assert storage.get("k") == 0 and storage.get_expiry("k") == pytest.approx(time.time(), abs=5)
    assert storage.incr("k", 60) == 1 and storage.get_expiry("k") > time.time() + 55


def test_clear_and_reset(app):
    storage = DatabaseStorage()
    for key in ("a", "b", "c"):
        storage.incr(key, 60)
    storage.clear("a")
    assert set(counters()) == {"b", "c"}
    assert storage.reset() == 2 and counters() == {} and storage.check()


def test_ended_windows_are_pruned_and_live_ones_kept(app):
    storage = DatabaseStorage()
    for key in ("old-1", "old-2", "live"):
        storage.incr(key, 60)
    end_windows("old-1", "old-2")
    assert storage.prune() == 2 and set(counters()) == {"live"}


def test_writes_prune_now_and_then(app, monkeypatch):
    storage = DatabaseStorage()
    storage.incr("old", 60)
    end_windows("old")
    storage.incr("live", 60)
    assert set(counters()) == {"old", "live"}  # not at every write
    monkeypatch.setattr(storage, "_pruned_at", time.monotonic() - 61)
    storage.incr("live", 60)
    assert counters()["live"][0] == 2 and set(counters()) == {"live"}


def test_an_overlong_key_is_kept_as_its_digest(app):
    storage = DatabaseStorage()
    long_key = "login-user:" + "å" * 400
    assert storage.incr(long_key, 60) == 1 and storage.incr(long_key, 60) == 2 and storage.get(long_key) == 2
    [key] = counters()
    assert key.startswith("sha256:") and len(key) <= MAX_KEY_LENGTH


def test_concurrent_hits_are_all_counted(app):
    """Eight threads, each with its own connection, as eight workers would be: no hit is lost."""
    storage, limit = DatabaseStorage(), parse("1000/minute")
    strategy, start = FixedWindowRateLimiter(storage), threading.Barrier(8)

    def hit():
        with app.app_context():
            start.wait()
            for _ in range(25):
                strategy.hit(limit, "shared")

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert strategy.get_window_stats(limit, "shared").remaining == 1000 - 200


def test_failed_logins_are_counted_in_the_database_where_every_worker_sees_them(client, org):
    for _ in range(3):
        log_in(client, "anna", "wrong password!")
    keys = throttle.keys(throttle.PASSWORD, "anna", "10.0.0.1")
    hits = {key: value[0] for key, value in counters().items()}
    # For the (account, address) pair, the account and the address; no wait yet.
    assert hits == {keys.pair_failures: 3, keys.account_failures: 3, keys.address_failures: 3}
    # Another worker process has its own storage object and engine, and the same counts.
    assert DatabaseStorage().get(keys.pair_failures) == 3
    for _ in range(2):
        log_in(client, "anna", "wrong password!")
    assert log_in(client, "anna").status_code == 429
    assert DatabaseStorage().get(keys.pair_wait) == 1


# PostgreSQL only: SQLite has one writer at a time, so there a pending write would block the
# counter's own transaction (the login steps commit before they are counted, so the app never does this).
@pytest.mark.parametrize("backend", ["postgresql"])
def test_the_request_transaction_is_left_alone(app, backend, org):
    """A check between a request's writes neither commits nor discards them."""
    from fitapp.models import District

    db.session.add(District(code="TX", name="Pending"))
    db.session.flush()
    DatabaseStorage().incr("k", 60)
    db.session.rollback()
    assert db.session.scalar(select(District).where(District.code == "TX")) is None
    assert DatabaseStorage().get("k") == 1
