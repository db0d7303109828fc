"""Log in (password, then the one-time code when enrolled), log out, change the password,
enrol the second factor, and choose the language."""
import segno
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import current_user

from fitapp.auth import bp, sessions, totp
from fitapp.auth.forms import CodeForm, LoginForm, PasswordChangeForm
from fitapp.auth.password_policy import COMMON, CONTAINS_USERNAME, MAX_LENGTH, MIN_LENGTH, TOO_LONG, TOO_SHORT, normalise
from fitapp.auth.redirects import safe_local_path
from fitapp.auth.service import (
    authenticate, change_password, enrol_second_factor, record_login, record_logout, verify_second_factor,
)
from fitapp.extensions import limiter
from fitapp.i18n import remember_language, supported_language
from fitapp.permissions import ALL_ROLES, requires

# The session key of a second-factor secret shown but not yet confirmed with a code.
_PENDING_SECRET = "_fitapp_totp_pending"

POLICY_MESSAGES = {
    TOO_SHORT: _l("The password must have at least %(n)s characters.", n=MIN_LENGTH),
    TOO_LONG: _l("The password must have at most %(n)s characters.", n=MAX_LENGTH),
    COMMON: _l("The password is too common: choose one that is harder to guess."),
    CONTAINS_USERNAME: _l("The password must not contain your username."),
}


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _username_key() -> str:
    return "login-user:" + normalise(request.form.get("username", "")).strip()[:80]


def _pending_key() -> str:
    pending = session.get(sessions.PENDING)
    return "login-code:" + str(pending.get("id") if isinstance(pending, dict) else "none")


def _user_key() -> str:
    return "account:" + str(current_user.get_id())


def _failed(response) -> bool:
    # Only failed attempts count towards the limits: a successful step redirects.
    return response.status_code != 302


def _generic_error() -> str:
    # One message for every failure, throttling included: it must not tell which part was wrong.
    return _("Wrong username or password")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=get_remote_address, deduct_when=_failed)
@limiter.limit(_login_limit, methods=["POST"], key_func=_username_key, deduct_when=_failed)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("cases.caseload"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        staff = authenticate(form.username.data, form.password.data)
        if staff is not None:
            next_path = safe_local_path(request.args.get("next"))
            if staff.totp_secret:
                sessions.begin_pending_login(staff, next_path)
                return redirect(url_for("auth.login_code"))
            sessions.start_session(staff, second_factor=False)
            record_login(staff)
            return redirect(next_path or url_for("cases.caseload"))
    if form.is_submitted():
        error = _generic_error()
    return render_template("auth/login.html", form=form, error=error)


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=get_remote_address, deduct_when=_failed)
@limiter.limit(_login_limit, methods=["POST"], key_func=_pending_key, deduct_when=_failed)
def login_code():
    pending = sessions.pending_login()
    if pending is None:
        return redirect(url_for("auth.login"))
    staff, next_path = pending
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        if verify_second_factor(staff, form.code.data):
            sessions.start_session(staff, second_factor=True)
            record_login(staff)
            return redirect(next_path or url_for("cases.caseload"))
    if form.is_submitted():
        error = _("Wrong code. Use the code your authenticator app shows now.")
    return render_template("auth/login_code.html", form=form, error=error), 200 if error is None else 422


@bp.app_errorhandler(429)
def too_many_attempts(error):
    """Throttled login steps look like a failed login, with status 429."""
    return render_template("auth/login.html", form=LoginForm(formdata=None), error=_generic_error()), 429


@bp.route("/logout", methods=["POST"])
@requires(ALL_ROLES)
def logout():
    if current_user.is_authenticated:
        record_logout(current_user._get_current_object())
    sessions.end_session()
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@requires(ALL_ROLES)
@limiter.limit(_login_limit, methods=["POST"], key_func=_user_key, deduct_when=_failed)
def change_password_page():
    form = PasswordChangeForm()
    errors: list[str] = []
    if form.validate_on_submit():
        staff = current_user._get_current_object()
        if form.new_password.data != form.confirm.data:
            errors.append(_("The new passwords are not the same."))
        else:
            result = change_password(staff, form.current_password.data, form.new_password.data)
            if result is None:
                # Every other session has ended; this one continues with the new session version.
                sessions.start_session(staff, second_factor=sessions.second_factor_verified())
                flash(_("Your password was changed. You were logged out everywhere else."), "success")
                return redirect(url_for("cases.caseload"))
            errors.extend(_("The current password is wrong.") if code == "wrong_current"
                          else str(POLICY_MESSAGES[code]) for code in result)
    elif form.is_submitted():
        errors.append(_("Fill in all three fields."))
    status = 422 if errors else 200
    return render_template("auth/password.html", form=form, errors=errors, min_length=MIN_LENGTH), status


@bp.route("/account/two-factor", methods=["GET", "POST"])
@requires(ALL_ROLES)
def two_factor():
    staff = current_user._get_current_object()
    enrolled = staff.totp_secret is not None
    required = staff.role in sessions.SECOND_FACTOR_REQUIRED
    # Changing an enrolled second factor first needs proof of the current one (this session's code).
    may_enrol = not enrolled or sessions.second_factor_verified()
    form = CodeForm()
    error = None
    secret = session.get(_PENDING_SECRET) if may_enrol else None
    if may_enrol and form.validate_on_submit() and secret:
        if enrol_second_factor(staff, secret, form.code.data):
            session.pop(_PENDING_SECRET, None)
            sessions.mark_second_factor(staff)
            flash(_("Two-step login is on. You were logged out everywhere else."), "success")
            return redirect(url_for("cases.caseload"))
        error = _("Wrong code. Use the code your authenticator app shows now.")
    elif form.is_submitted() and may_enrol:
        error = _("Wrong code. Use the code your authenticator app shows now.")
    if may_enrol and secret is None:
        secret = totp.new_secret()
        session[_PENDING_SECRET] = secret
    uri = totp.provisioning_uri(secret, staff.username, current_app.config["TOTP_ISSUER"]) if secret else None
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=2) if uri else None
    return render_template(
        "auth/two_factor.html", form=form, error=error, enrolled=enrolled, required=required,
        may_enrol=may_enrol, secret=_grouped(secret) if secret else None, uri=uri, qr=qr,
    ), 422 if error else 200


def _grouped(secret: str) -> str:
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


@bp.route("/language", methods=["POST"])
def language():
    lang = supported_language(request.form.get("lang"))
    if lang is not None:
        remember_language(lang)
    return redirect(safe_local_path(request.form.get("next")) or url_for("cases.caseload"))
