"""Language choice: Swedish by default, English selectable (kept in the session)."""
from flask import Flask, request, session

from fitapp.extensions import babel


def select_locale() -> str:
    supported = babel_supported()
    chosen = session.get("lang")
    if chosen in supported:
        return chosen
    return "sv" if request.accept_languages.best_match(supported) is None else "sv"


def babel_supported() -> tuple[str, ...]:
    from flask import current_app

    return tuple(current_app.config["BABEL_SUPPORTED_LOCALES"])


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
