"""fitapp: case follow-up with outcome and alliance ratings for family units."""
import os

import click
from flask import Flask

from fitapp.config import ConfigError, load_config
from fitapp.instance_files import make_private_folder, make_private_sqlite_file

# Templates live at the repository root (design decision in house-style.md).
TEMPLATE_FOLDER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "templates")


def create_app(test_config: dict | None = None) -> Flask:
    """Application factory: config, extensions, blueprints, CLI; nothing else."""
    app = Flask(__name__, instance_relative_config=True, template_folder=TEMPLATE_FOLDER)
    app.config.from_mapping(_settings(app.instance_path, test_config))
    # Owner-only: the instance folder and the SQLite file hold confidential data.
    make_private_folder(app.instance_path)
    make_private_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])

    from fitapp import extensions, i18n, models  # noqa: F401  (models register their tables)
    from fitapp.auth import throttle
    from fitapp.session_store import DatabaseSessionInterface

    extensions.db.init_app(app)
    extensions.migrate.init_app(app, extensions.db, directory=_migrations_dir())
    extensions.csrf.init_app(app)
    extensions.login_manager.init_app(app)
    throttle.init_app(app)
    i18n.init_app(app)
    # The session in the database, the cookie holding only its random id (fitapp.session_store).
    app.session_interface = DatabaseSessionInterface()

    from fitapp.admin import bp as admin_bp
    from fitapp.auth import bp as auth_bp
    from fitapp.auth.loader import init_login
    from fitapp.cases import bp as cases_bp
    from fitapp.confirmations import bp as confirmations_bp
    from fitapp.errors import bp as errors_bp
    from fitapp.log_review import bp as log_review_bp
    from fitapp.reports import bp as reports_bp
    from fitapp.security import init_security

    init_login(app)
    init_security(app)
    app.register_blueprint(admin_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(cases_bp)
    app.register_blueprint(confirmations_bp)
    app.register_blueprint(errors_bp)
    app.register_blueprint(log_review_bp)
    app.register_blueprint(reports_bp)

    from fitapp.cli import register_commands

    register_commands(app)
    return app


def _settings(instance_path: str, test_config: dict | None) -> dict:
    """The configuration; on the command line a missing or refused setting ends the command with
    one line naming it (exit status 1), not a traceback. Elsewhere (gunicorn) ConfigError is raised."""
    try:
        return load_config(instance_path, test_config)
    except ConfigError as error:
        if click.get_current_context(silent=True) is None:
            raise
        raise SystemExit(f"fitapp: {error}") from None


def _migrations_dir() -> str:
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")
