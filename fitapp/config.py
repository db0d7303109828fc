"""Settings read from the environment (interchange.md "Configuration")."""
import os
from pathlib import Path

ENVIRONMENTS = ("production", "development", "testing")


class ConfigError(RuntimeError):
    """The app must not start with this configuration."""


def default_sqlite_url(instance_path: str) -> str:
    return "sqlite:///" + str(Path(instance_path) / "fitapp.sqlite")


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
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env == "production",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "BABEL_DEFAULT_LOCALE": "sv",
        "BABEL_SUPPORTED_LOCALES": ("sv", "en"),
        "SUPPRESSION_THRESHOLD": int(os.environ.get("FITAPP_SUPPRESSION_THRESHOLD", "5")),
        "WTF_CSRF_TIME_LIMIT": None,
    }
    config.update(overrides)
    return config
