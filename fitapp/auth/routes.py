"""Log in, log out and choose the language."""
from flask import redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from fitapp.auth import bp
from fitapp.auth.forms import LoginForm
from fitapp.auth.redirects import safe_local_path
from fitapp.auth.service import authenticate, record_login, record_logout
from fitapp.i18n import remember_language, supported_language

# Kept across the new session that logging in or out starts: a preference, not a credential.
_SESSION_KEYS_KEPT = ("lang",)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("cases.caseload"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        staff = authenticate(form.username.data, form.password.data)
        if staff is not None:
            _start_new_session()
            login_user(staff)
            record_login(staff)
            return redirect(safe_local_path(request.args.get("next")) or url_for("cases.caseload"))
    if form.is_submitted():
        # One message for every failure: it must not tell which part was wrong.
        error = _("Wrong username or password")
    return render_template("auth/login.html", form=form, error=error)


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        record_logout(current_user._get_current_object())
    logout_user()
    _start_new_session()
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
def language():
    lang = supported_language(request.form.get("lang"))
    if lang is not None:
        remember_language(lang)
    return redirect(safe_local_path(request.form.get("next")) or url_for("cases.caseload"))


def _start_new_session() -> None:
    kept = {key: session[key] for key in _SESSION_KEYS_KEPT if key in session}
    session.clear()
    session.update(kept)
