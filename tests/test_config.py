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
