"""Settings read from the environment (interchange.md "Configuration"), refused at start-up when unsafe."""
import hashlib
import hmac
import ipaddress
import os
import re
from pathlib import Path

ENVIRONMENTS = ("production", "development", "testing")
# The keys development and testing sign sessions with when SECRET_KEY is not set: public, so never production's.
DEVELOPMENT_KEYS = frozenset("insecure-" + env + "-key" for env in ENVIRONMENTS)
MIN_SECRET_KEY_BYTES = 32
# Below this, a published count could single out a child (metrics.md §7).
MIN_SUPPRESSION_THRESHOLD = 3
# Settings that were replaced, with the value that meant "off": starting with one of them set to
# anything else would silently drop what it was meant to do.
REPLACED = {
    "FITAPP_PROXY_FIX": ("0", "FITAPP_TRUSTED_PROXIES (the proxies' addresses, e.g. 127.0.0.1)"),
    "FITAPP_LOGIN_RATE_LIMIT": ("", "FITAPP_LOGIN_FREE_ATTEMPTS and FITAPP_LOGIN_ADDRESS_LIMIT"),
}


class ConfigError(RuntimeError):
    """The app must not start with this configuration."""


def default_sqlite_url(instance_path: str) -> str:
    return "sqlite:///" + str(Path(instance_path) / "fitapp.sqlite")


def _non_negative_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative")
    return value


def _int_at_least(name: str, default: int, low: int) -> int:
    value = _non_negative_int(name, default)
    if value < low:
        raise ConfigError(f"{name} must be at least {low}, not {value}")
    return value


def _positive_int(name: str, default: int) -> int:
    return _int_at_least(name, default, 1)


def _secret_key(env: str, given: str | None) -> str:
    if not given:
        if env == "production":
            raise ConfigError("SECRET_KEY is not set: refusing to start (set FITAPP_ENV=development for a local demo)")
        return "insecure-" + env + "-key"
    if env == "production":
        if given in DEVELOPMENT_KEYS:
            raise ConfigError("SECRET_KEY is the public development key: refusing to start in production")
        if len(given.encode("utf-8")) < MIN_SECRET_KEY_BYTES:
            raise ConfigError(
                f"SECRET_KEY is too short ({len(given.encode('utf-8'))} bytes): production needs at least "
                f"{MIN_SECRET_KEY_BYTES} random bytes, e.g. from "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))'")
    return given


def _audit_key(env: str, given: str | None, secret: str) -> str:
    """The key of the audit log's HMAC chain and checkpoints (fitapp.audit): outside the database, never changed.

    Development and testing derive one from SECRET_KEY when none is given; production must name its own,
    not SECRET_KEY (which may be changed to end every session: the audit key may not).
    """
    if not given:
        if env == "production":
            raise ConfigError("FITAPP_AUDIT_KEY is not set: refusing to start (the audit log's key, at least "
                              f"{MIN_SECRET_KEY_BYTES} random bytes kept outside the database; docs/security.md)")
        return hmac.new(secret.encode("utf-8"), b"fitapp audit key", hashlib.sha256).hexdigest()
    if env == "production":
        if len(given.encode("utf-8")) < MIN_SECRET_KEY_BYTES:
            raise ConfigError(
                f"FITAPP_AUDIT_KEY is too short ({len(given.encode('utf-8'))} bytes): production needs at least "
                f"{MIN_SECRET_KEY_BYTES} random bytes, e.g. from "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))'")
        if given == secret:
            raise ConfigError("FITAPP_AUDIT_KEY must be a key of its own, not SECRET_KEY")
    return given


def _trusted_proxies(raw: str | None) -> tuple[str, ...]:
    """The networks of FITAPP_TRUSTED_PROXIES (addresses or CIDR, separated by commas or spaces)."""
    networks = []
    for item in re.split(r"[\s,]+", (raw or "").strip()):
        if not item:
            continue
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ConfigError(f"FITAPP_TRUSTED_PROXIES: {item!r} is not an IP address or network") from None
    return tuple(networks)


def _refuse_replaced_settings() -> None:
    for name, (off, instead) in REPLACED.items():
        if os.environ.get(name, "").strip() not in ("", off):
            raise ConfigError(f"{name} is no longer read: set {instead} instead (docs/security.md)")


def check_config(config: dict) -> None:
    """Refuse values no installation may run with, whether from the environment or the overrides."""
    threshold = config["SUPPRESSION_THRESHOLD"]
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < MIN_SUPPRESSION_THRESHOLD:
        raise ConfigError(f"FITAPP_SUPPRESSION_THRESHOLD must be a whole number of at least "
                          f"{MIN_SUPPRESSION_THRESHOLD}, not {threshold!r}")


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    """Build the Flask config from the environment, failing fast on missing secrets.

    FITAPP_ENV chooses the environment (default production, so a forgotten
    variable never weakens a real installation).
    """
    overrides = dict(overrides or {})
    env = overrides.pop("ENV", None) or os.environ.get("FITAPP_ENV", "production")
    if env not in ENVIRONMENTS:
        raise ConfigError(f"FITAPP_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    secret = _secret_key(env, overrides.get("SECRET_KEY") or os.environ.get("SECRET_KEY"))
    audit_key = _audit_key(env, overrides.get("AUDIT_KEY") or os.environ.get("FITAPP_AUDIT_KEY"), secret)
    _refuse_replaced_settings()
    config = {
        "FITAPP_ENV": env,
        "TESTING": env == "testing",
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or default_sqlite_url(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # The session lives in the database, the cookie holds only its random id (fitapp.session_store);
        # its timestamps and session version are checked on every request (fitapp.auth.sessions).
        # Secure (and the __Host- prefix) in production.
        "SESSION_COOKIE_NAME": "__Host-fitapp" if env == "production" else "fitapp",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env == "production",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": env == "production",
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "IDLE_TIMEOUT_MINUTES": _positive_int("FITAPP_IDLE_TIMEOUT_MINUTES", 30),
        "ABSOLUTE_TIMEOUT_HOURS": _positive_int("FITAPP_ABSOLUTE_TIMEOUT_HOURS", 10),
        # Throttling of password and code guesses (fitapp.auth.throttle, docs/security.md). The
        # counters live in the app's database by default (fitapp.rate_limit_store), so every gunicorn
        # worker sees the same ones; another shared store (redis://, memcached://) can be named
        # instead. memory:// would be per process.
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI") or "fitapp-db://",
        "LOGIN_FREE_ATTEMPTS": _positive_int("FITAPP_LOGIN_FREE_ATTEMPTS", 5),
        "LOGIN_MAX_DELAY_MINUTES": _positive_int("FITAPP_LOGIN_MAX_DELAY_MINUTES", 30),
        "LOGIN_ACCOUNT_ALERT": _positive_int("FITAPP_LOGIN_ACCOUNT_ALERT", 10),
        "LOGIN_ADDRESS_LIMIT": _positive_int("FITAPP_LOGIN_ADDRESS_LIMIT", 100),
        # The reverse proxies whose X-Forwarded-For/-Proto/-Host are believed, and only when the
        # request comes from one of them (fitapp.security). Empty: no forwarded header is believed.
        "TRUSTED_PROXIES": _trusted_proxies(os.environ.get("FITAPP_TRUSTED_PROXIES")),
        # The audit log's HMAC key and the file of its signed checkpoints (fitapp.audit, docs/security.md);
        # no file setting: instance/audit-checkpoints.
        "AUDIT_KEY": audit_key,
        "AUDIT_CHECKPOINT_FILE": os.environ.get("FITAPP_AUDIT_CHECKPOINTS") or None,
        "TOTP_ISSUER": os.environ.get("FITAPP_TOTP_ISSUER", "fitapp"),
        "BABEL_DEFAULT_LOCALE": "sv",
        "BABEL_SUPPORTED_LOCALES": ("sv", "en"),
        # Activating a norm set recomputes every series; above this many it is left to
        # `flask activate-norm-set` on the server (a request would outlive proxy and worker timeouts).
        "NORM_ACTIVATION_MAX_SERIES": _positive_int("FITAPP_NORM_ACTIVATION_MAX_SERIES", 50_000),
        "SUPPRESSION_THRESHOLD": _int_at_least("FITAPP_SUPPRESSION_THRESHOLD", 5, MIN_SUPPRESSION_THRESHOLD),
        "WTF_CSRF_TIME_LIMIT": None,
    }
    config.update(overrides)
    check_config(config)
    return config
