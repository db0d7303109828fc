"""Language choice: Swedish by default, English selectable (kept in the session)."""
from decimal import Decimal

from flask import Flask, current_app, session
from flask_babel import format_date, format_decimal, get_locale

from fitapp import labels
from fitapp.extensions import babel

SCORE_FORMAT = "0.0"
# Each language is named in itself, so it can be found whatever language is showing.
LANGUAGE_NAMES = {"sv": "Svenska", "en": "English"}


def babel_supported() -> tuple[str, ...]:
    return tuple(current_app.config["BABEL_SUPPORTED_LOCALES"])


def supported_language(lang: str | None) -> str | None:
    return lang if lang in babel_supported() else None


def select_locale() -> str:
    # Swedish unless the user chose otherwise: the browser's language is not asked.
    return supported_language(session.get("lang")) or current_app.config["BABEL_DEFAULT_LOCALE"]


def remember_language(lang: str) -> None:
    session["lang"] = lang


def format_score(value: Decimal | None) -> str:
    """A total, item, cutoff or change with one decimal in the UI's locale ("28,0" in Swedish)."""
    return "" if value is None else format_decimal(value, format=SCORE_FORMAT)


def format_day_month(day) -> str:
    """A session date on a chart's axis: day and month ("13/1"), short enough for twelve ticks;
    the chart's description gives the whole date."""
    return "" if day is None else format_date(day, "d/M")


def _template_context() -> dict:
    return {"current_language": str(get_locale())}


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.add_template_filter(format_score, "score")
    app.add_template_filter(format_day_month, "day_month")
    app.context_processor(_template_context)
    # Lazy strings: translated when a template renders them, in that request's language.
    app.jinja_env.globals.update(
        role_labels=labels.ROLE_LABELS,
        participant_role_labels=labels.PARTICIPANT_ROLE_LABELS,
        gender_labels=labels.GENDER_GROUP_LABELS,
        category_labels=labels.CATEGORY_LABELS,
        no_rating_reason_labels=labels.NO_RATING_REASON_LABELS,
        end_reason_labels=labels.END_REASON_LABELS,
        correction_reason_labels=labels.CORRECTION_REASON_LABELS,
        person_gender_labels=labels.GENDER_LABELS,
        alert_labels=labels.ALERT_LABELS,
        language_names=LANGUAGE_NAMES,
    )
