"""Settings read from the environment (interchange.md "Configuration")."""
import os
from pathlib import Path

ENVIRONMENTS = ("production", "development", "testing")


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


def _positive_int(name: str, default: int) -> int:
    value = _non_negative_int(name, default)
    if value == 0:
        raise ConfigError(f"{name} must be at least 1")
    return value


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    """Build the Flask config from the environment, failing fast on missing secrets.

    FITAPP_ENV chooses the environment (default production, so a forgotten
    variable never weakens a real installation).
    """
    overrides = dict(overrides or {})
    env = overrides.pop("ENV", None) or os.environ.get("FITAPP_ENV", "production")
    if env not in ENVIRONMENTS:
        raise ConfigError(f"FITAPP_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    secret = overrides.get("SECRET_KEY") or os.environ.get("SECRET_KEY")
    if not secret:
        if env == "production":
            raise ConfigError("SECRET_KEY is not set: refusing to start (set FITAPP_ENV=development for a local demo)")
        secret = "insecure-" + env + "-key"
    config = {
        "FITAPP_ENV": env,
        "TESTING": env == "testing",
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or default_sqlite_url(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # The session is a signed cookie; the timestamps and session version in it are checked
        # on every request (fitapp.auth.sessions). Secure (and the __Host- prefix) in production.
        "SESSION_COOKIE_NAME": "__Host-fitapp" if env == "production" else "fitapp",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env == "production",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": env == "production",
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "IDLE_TIMEOUT_MINUTES": _positive_int("FITAPP_IDLE_TIMEOUT_MINUTES", 30),
        "ABSOLUTE_TIMEOUT_HOURS": _positive_int("FITAPP_ABSOLUTE_TIMEOUT_HOURS", 10),
        # Login throttling (Flask-Limiter). The counters live in the app's database by default
        # (fitapp.rate_limit_store), so every gunicorn worker sees the same ones; another shared
        # store (redis://, memcached://) can be named instead. memory:// would be per process.
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI") or "fitapp-db://",
        "LOGIN_RATE_LIMIT": os.environ.get("FITAPP_LOGIN_RATE_LIMIT", "10/minute;50/hour"),
        # Number of reverse proxies in front of the app whose X-Forwarded-For/-Proto to trust
        # (werkzeug ProxyFix); 0 trusts none. Needed for HSTS and per-IP throttling behind a proxy.
        "PROXY_FIX_COUNT": _non_negative_int("FITAPP_PROXY_FIX", 0),
        "TOTP_ISSUER": os.environ.get("FITAPP_TOTP_ISSUER", "fitapp"),
        "BABEL_DEFAULT_LOCALE": "sv",
        "BABEL_SUPPORTED_LOCALES": ("sv", "en"),
        # Activating a norm set recomputes every series; above this many it is left to
        # `flask activate-norm-set` on the server (a request would outlive proxy and worker timeouts).
        "NORM_ACTIVATION_MAX_SERIES": _positive_int("FITAPP_NORM_ACTIVATION_MAX_SERIES", 50_000),
        "SUPPRESSION_THRESHOLD": int(os.environ.get("FITAPP_SUPPRESSION_THRESHOLD", "5")),
        "WTF_CSRF_TIME_LIMIT": None,
    }
    config.update(overrides)
    return config
