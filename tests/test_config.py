import os
import stat

import pytest

from fitapp import create_app
from fitapp.config import ConfigError, load_config


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FITAPP_ENV", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


def test_production_starts_with_a_secret_key_and_secure_cookies(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "a-long-random-secret-for-this-test")
    monkeypatch.setenv("DATABASE_URL", "sqlite:///" + str(tmp_path / "x.sqlite"))
    monkeypatch.delenv("FITAPP_ENV", raising=False)
    app = create_app()
    assert app.config["FITAPP_ENV"] == "production"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("x.sqlite")


def test_development_runs_without_a_secret_key_and_defaults_to_sqlite_in_instance(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("FITAPP_ENV", "development")
    config = load_config(str(tmp_path))
    assert config["SECRET_KEY"]
    assert config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///" + str(tmp_path / "fitapp.sqlite")


def test_unknown_environment_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("FITAPP_ENV", "staging")
    with pytest.raises(ConfigError, match="FITAPP_ENV"):
        load_config(str(tmp_path))


# ---------------------------------------------------------------- fail fast (issue 12, item 9; issue 11)


@pytest.mark.parametrize("key, problem", [
    ("a", "too short"),
    ("x" * 31, "too short"),
    ("insecure-development-key", "development key"),
    ("insecure-testing-key", "development key"),
    ("insecure-production-key", "development key"),
])
def test_production_refuses_a_short_or_public_secret_key(monkeypatch, tmp_path, key, problem):
    monkeypatch.delenv("FITAPP_ENV", raising=False)
    monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(ConfigError, match=f"SECRET_KEY.*{problem}"):
        load_config(str(tmp_path))
    with pytest.raises(ConfigError, match=f"SECRET_KEY.*{problem}"):
        load_config(str(tmp_path), {"ENV": "production", "SECRET_KEY": key})


def test_production_accepts_32_bytes_and_development_any_key(monkeypatch, tmp_path):
    monkeypatch.delenv("FITAPP_ENV", raising=False)
    for key in ("x" * 32, "å" * 16):  # bytes, not characters
        monkeypatch.setenv("SECRET_KEY", key)
        assert load_config(str(tmp_path))["SECRET_KEY"] == key
    monkeypatch.setenv("FITAPP_ENV", "development")
    monkeypatch.setenv("SECRET_KEY", "a")
    assert load_config(str(tmp_path))["SECRET_KEY"] == "a"


@pytest.mark.parametrize("value, message", [
    ("2", "at least 3, not 2"), ("0", "at least 3"), ("-4", "must not be negative"),
    ("2.5", "whole number"), ("tre", "whole number"), ("5.0", "whole number"),
])
def test_a_suppression_threshold_below_3_or_not_whole_is_refused(monkeypatch, tmp_path, value, message):
    monkeypatch.setenv("FITAPP_ENV", "development")
    monkeypatch.setenv("FITAPP_SUPPRESSION_THRESHOLD", value)
    with pytest.raises(ConfigError, match=f"FITAPP_SUPPRESSION_THRESHOLD .*{message}"):
        create_app()


def test_a_suppression_threshold_of_3_or_more_is_used(monkeypatch, tmp_path):
    monkeypatch.setenv("FITAPP_ENV", "development")
    monkeypatch.setenv("FITAPP_SUPPRESSION_THRESHOLD", "3")
    assert load_config(str(tmp_path))["SUPPRESSION_THRESHOLD"] == 3
    monkeypatch.delenv("FITAPP_SUPPRESSION_THRESHOLD")
    assert load_config(str(tmp_path))["SUPPRESSION_THRESHOLD"] == 5
    for bad in (2, "5", 4.0, True):  # a test's or a caller's override is checked too
        with pytest.raises(ConfigError, match="FITAPP_SUPPRESSION_THRESHOLD"):
            load_config(str(tmp_path), {"SUPPRESSION_THRESHOLD": bad})


@pytest.mark.parametrize("name, value, message", [
    ("FITAPP_LOGIN_RATE_LIMIT", "10/minute", "no longer read: set FITAPP_LOGIN_FREE_ATTEMPTS"),
    ("FITAPP_LOGIN_FREE_ATTEMPTS", "0", "at least 1"),
    ("FITAPP_LOGIN_ADDRESS_LIMIT", "many", "whole number"),
    ("FITAPP_LOGIN_MAX_DELAY_MINUTES", "0", "at least 1"),
])
def test_throttle_settings_are_checked(monkeypatch, tmp_path, name, value, message):
    monkeypatch.setenv("FITAPP_ENV", "development")
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=f"{name} .*{message}"):
        load_config(str(tmp_path))


def test_the_throttle_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("FITAPP_ENV", "development")
    config = load_config(str(tmp_path))
    assert (config["LOGIN_FREE_ATTEMPTS"], config["LOGIN_MAX_DELAY_MINUTES"], config["LOGIN_ACCOUNT_ALERT"],
            config["LOGIN_ADDRESS_LIMIT"]) == (5, 30, 10, 100)
    monkeypatch.setenv("FITAPP_LOGIN_FREE_ATTEMPTS", "3")
    monkeypatch.setenv("FITAPP_LOGIN_ADDRESS_LIMIT", "250")
    config = load_config(str(tmp_path))
    assert (config["LOGIN_FREE_ATTEMPTS"], config["LOGIN_ADDRESS_LIMIT"]) == (3, 250)


def test_the_sqlite_file_and_the_instance_folder_are_owner_only(monkeypatch, tmp_path):
    from fitapp.extensions import db
    from fitapp.instance_files import make_private_folder

    monkeypatch.setenv("FITAPP_ENV", "development")
    old_umask = os.umask(0o022)  # the usual one: SQLite alone would make the file 0644
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path / "new.sqlite")})
        with app.app_context():
            with db.engine.begin() as connection:
                connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            db.engine.dispose()
        assert stat.S_IMODE(os.stat(tmp_path / "new.sqlite").st_mode) == 0o600
        assert stat.S_IMODE(os.stat(app.instance_path).st_mode) & 0o077 == 0
        make_private_folder(str(tmp_path / "instance"))
        assert stat.S_IMODE(os.stat(tmp_path / "instance").st_mode) == 0o700
    finally:
        os.umask(old_umask)


def test_an_existing_readable_sqlite_file_and_folder_are_made_owner_only(monkeypatch, tmp_path):
    from fitapp.instance_files import make_private_folder, make_private_sqlite_file

    (tmp_path / "old.sqlite").write_bytes(b"")
    os.chmod(tmp_path / "old.sqlite", 0o644)
    os.chmod(tmp_path, 0o755)
    make_private_folder(str(tmp_path))
    make_private_sqlite_file("sqlite:///" + str(tmp_path / "old.sqlite"))
    assert stat.S_IMODE(os.stat(tmp_path / "old.sqlite").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path).st_mode) == 0o700
    for url in ("sqlite://", "sqlite:///:memory:", "postgresql+psycopg://u@h/db"):
        make_private_sqlite_file(url)  # nothing to do, nothing created
