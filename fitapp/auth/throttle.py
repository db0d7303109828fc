"""Throttling of password and code guesses that an outsider cannot turn against the users.

Only failed guesses count; an attempt refused by the throttle is not a guess: its
password is not checked and nothing is counted. Three counters (docs/security.md,
"Login throttling"):

- **per account and address** (the pair): the first ``LOGIN_FREE_ATTEMPTS``
  failures within a day cost nothing; after that the pair waits 1, 2, 4, ...
  minutes after each failure, at most ``LOGIN_MAX_DELAY_MINUTES``. A right
  answer from the pair clears it. This is what slows a guesser down.
- **per account, from every address**: an alarm, never a lock. Once an account
  has had ``LOGIN_ACCOUNT_ALERT`` failures within an hour, each of its pairs
  gets one free failure instead of ``LOGIN_FREE_ATTEMPTS``. An outsider
  hammering an account therefore never refuses its owner's first attempt from
  their own address: at worst a mistyped password then costs a minute.
- **per address, over every account**: a ceiling, ``LOGIN_ADDRESS_LIMIT``
  failures within an hour, against one address trying many accounts. An office
  behind one address has nowhere near that many failures in an hour, so ten
  colleagues' typing errors lock out nobody.

The password of an account is one secret, so the login, the tablet's return
screen and the password-change page share its counters (``PASSWORD``); the
one-time code has its own (``CODE``). Keys are HMAC-SHA256 digests under the
app's SECRET_KEY: the store holds no user name (nor a password typed into the
user-name field) and no client address.
"""
from __future__ import annotations

import hashlib
import hmac
import math
import time
from dataclasses import dataclass

from flask import current_app, request
from flask_babel import gettext as _
from limits.storage import Storage, storage_from_string

from fitapp import rate_limit_store  # noqa: F401  (registers the fitapp-db:// storage)
from fitapp.auth.password_policy import normalise

PASSWORD = "password"
CODE = "code"
KINDS = (PASSWORD, CODE)

FIRST_DELAY_SECONDS = 60
PAIR_WINDOW_SECONDS = 24 * 3600
ACCOUNT_WINDOW_SECONDS = 3600
ADDRESS_WINDOW_SECONDS = 3600
_EXTENSION = "fitapp.throttle"


@dataclass(frozen=True)
class Refusal:
    """A guess refused for ``seconds`` more."""

    seconds: int

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.seconds / 60))

    def message(self) -> str:
        # Two messages rather than ngettext: Swedish and English share the plural rule (n != 1).
        if self.minutes == 1:
            return _("Too many attempts. Try again in 1 minute.")
        return _("Too many attempts. Try again in %(minutes)s minutes.", minutes=self.minutes)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(max(1, self.seconds))}


def init_app(app) -> None:
    """The store named by RATELIMIT_STORAGE_URI, one per app (the database's by default)."""
    app.extensions[_EXTENSION] = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])


def storage() -> Storage:
    return current_app.extensions[_EXTENSION]


def _enabled() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED", True))


def client_address() -> str:
    # The proxy's forwarded address only where FITAPP_TRUSTED_PROXIES says so (fitapp.security).
    return request.remote_addr or "unknown"


def account_of(username: str) -> str:
    """The account a typed user name stands for, as the counters know it (case-insensitive)."""
    return normalise(username or "").strip()


def _digest(*parts: str) -> str:
    secret = current_app.config["SECRET_KEY"]
    secret = secret if isinstance(secret, bytes) else str(secret).encode("utf-8")
    return hmac.new(secret, "\x1f".join(parts).encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Keys:
    """The store's keys of one guess: digests only."""

    pair_failures: str
    pair_wait: str
    account_failures: str
    address_failures: str


def keys(kind: str, account: str, address: str) -> Keys:
    if kind not in KINDS:
        raise ValueError(f"unknown throttle kind {kind!r}")
    pair, account_digest = _digest(kind, "pair", account, address), _digest(kind, "account", account)
    return Keys(pair_failures="throttle-pair:" + pair, pair_wait="throttle-wait:" + pair,
                account_failures="throttle-account:" + account_digest,
                address_failures="throttle-address:" + _digest("address", address))


def refusal(kind: str, account: str, address: str | None = None) -> Refusal | None:
    """Whether a guess at ``account`` from ``address`` must wait; None if it may be checked now."""
    if not _enabled():
        return None
    store, k, now = storage(), keys(kind, account, address or client_address()), time.time()
    waits = []
    if store.get(k.pair_wait) > 0:
        waits.append(store.get_expiry(k.pair_wait) - now)
    if store.get(k.address_failures) >= current_app.config["LOGIN_ADDRESS_LIMIT"]:
        waits.append(store.get_expiry(k.address_failures) - now)
    seconds = math.ceil(max(waits, default=0))
    return Refusal(seconds) if seconds > 0 else None


def delay_seconds(pair_failures: int, free: int) -> int:
    """The wait after the pair's ``pair_failures``-th failure: none within ``free``, then doubling."""
    if pair_failures < free:
        return 0
    longest = current_app.config["LOGIN_MAX_DELAY_MINUTES"] * 60
    doublings = min(pair_failures - free, 32)  # 2**32 minutes is past any ceiling
    return min(FIRST_DELAY_SECONDS * 2 ** doublings, longest)


def failed(kind: str, account: str, address: str | None = None) -> None:
    """Count a wrong answer (call it after the request's own work is committed)."""
    if not _enabled():
        return
    store, k = storage(), keys(kind, account, address or client_address())
    config = current_app.config
    pair = store.incr(k.pair_failures, PAIR_WINDOW_SECONDS)
    under_attack = store.incr(k.account_failures, ACCOUNT_WINDOW_SECONDS) >= config["LOGIN_ACCOUNT_ALERT"]
    store.incr(k.address_failures, ADDRESS_WINDOW_SECONDS)
    wait = delay_seconds(pair, 1 if under_attack else config["LOGIN_FREE_ATTEMPTS"])
    if wait:
        # A failure is only counted when the pair was not waiting, so the old wait has ended and
        # this starts a new one of ``wait`` seconds from now.
        store.incr(k.pair_wait, wait)


def succeeded(kind: str, account: str, address: str | None = None) -> None:
    """A right answer: the pair starts afresh (the account's and the address's counts stay)."""
    if not _enabled():
        return
    store, k = storage(), keys(kind, account, address or client_address())
    store.clear(k.pair_failures)
    store.clear(k.pair_wait)
