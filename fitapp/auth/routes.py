"""Log in (password, then the one-time code when enrolled), log out, change the password,
enrol the second factor, and choose the language."""
import segno
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from fitapp.auth import bp, sessions, throttle, totp
from fitapp.auth.forms import CodeForm, LoginForm, PasswordChangeForm
from fitapp.auth.password_policy import COMMON, CONTAINS_USERNAME, MAX_LENGTH, MIN_LENGTH, TOO_LONG, TOO_SHORT
from fitapp.auth.redirects import safe_local_path
from fitapp.auth.service import (
    SAME_AS_RESET, authenticate, change_password, enrol_second_factor, record_login, record_logout,
    verify_second_factor,
)
from fitapp.extensions import db
from fitapp.i18n import remember_language, supported_language
from fitapp.models import Staff
from fitapp.organisation_time import on_organisation_clock
from fitapp.permissions import ALL_ROLES, requires

# The session key of a second-factor secret shown but not yet confirmed with a code.
_PENDING_SECRET = "_fitapp_totp_pending"

POLICY_MESSAGES = {
    TOO_SHORT: _l("The password must have at least %(n)s characters.", n=MIN_LENGTH),
    TOO_LONG: _l("The password must have at most %(n)s characters.", n=MAX_LENGTH),
    COMMON: _l("The password is too common: choose one that is harder to guess."),
    CONTAINS_USERNAME: _l("The password must not contain your username."),
}
FORCED_CHANGE_MESSAGES = {
    SAME_AS_RESET: _l("Choose a new password of your own, not the one the administrator set."),
}


def _generic_error() -> str:
    # One message for every failure: it must not tell which part was wrong.
    return _("Wrong username or password")


def _throttled(template: str, refusal: throttle.Refusal, **context):
    """The page again with "try again in N minutes" (429): the guess was neither checked nor counted."""
    return render_template(template, **context), 429, refusal.headers()


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("cases.caseload"))
    form = LoginForm()  # on a refusal the typed user name is shown again (never the password)
    error = None
    if form.validate_on_submit():
        account = throttle.account_of(form.username.data)
        refusal = throttle.refusal(throttle.PASSWORD, account)
        if refusal is not None:
            return _throttled("auth/login.html", refusal, form=form, error=refusal.message())
        staff = authenticate(form.username.data, form.password.data)
        if staff is None:
            throttle.failed(throttle.PASSWORD, account)
        else:
            next_path = safe_local_path(request.args.get("next"))
            if staff.totp_secret:
                sessions.begin_pending_login(staff, next_path)
                throttle.succeeded(throttle.PASSWORD, account)
                return redirect(url_for("auth.login_code"))
            sessions.start_session(staff, second_factor=False)
            record_login(staff)
            throttle.succeeded(throttle.PASSWORD, account)
            return redirect(next_path or url_for("cases.caseload"))
    if form.is_submitted():
        error = _generic_error()
    return render_template("auth/login.html", form=form, error=error)


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    pending = sessions.pending_login()
    if pending is None:
        return redirect(url_for("auth.login"))
    staff, next_path = pending
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        account = str(staff.id)
        refusal = throttle.refusal(throttle.CODE, account)
        if refusal is not None:
            return _throttled("auth/login_code.html", refusal, form=form, error=refusal.message())
        if verify_second_factor(staff, form.code.data):
            sessions.start_session(staff, second_factor=True)
            record_login(staff)
            throttle.succeeded(throttle.CODE, account)
            return redirect(next_path or url_for("cases.caseload"))
        throttle.failed(throttle.CODE, account)
    if form.is_submitted():
        error = _("Wrong code. Use the code your authenticator app shows now.")
    return render_template("auth/login_code.html", form=form, error=error), 200 if error is None else 422


@bp.route("/logout", methods=["POST"])
@requires(ALL_ROLES)
def logout():
    if current_user.is_authenticated:
        record_logout(current_user._get_current_object())
    sessions.end_session()
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@requires(ALL_ROLES)
def change_password_page():
    form = PasswordChangeForm()
    errors: list[str] = []
    if form.validate_on_submit():
        staff = current_user._get_current_object()
        account = throttle.account_of(staff.username)
        refusal = throttle.refusal(throttle.PASSWORD, account)
        if refusal is not None:
            return _throttled("auth/password.html", refusal, form=form, errors=[refusal.message()],
                              min_length=MIN_LENGTH)
        if form.new_password.data != form.confirm.data:
            errors.append(_("The new passwords are not the same."))
        else:
            forced = staff.must_change_password
            result = change_password(staff, form.current_password.data, form.new_password.data)
            if result == ["wrong_current"]:
                throttle.failed(throttle.PASSWORD, account)
            else:
                throttle.succeeded(throttle.PASSWORD, account)  # the current password was right
            if result is None:
                # Every other session has ended; this one continues with the new session version.
                sessions.start_session(staff, second_factor=sessions.second_factor_verified())
                flash(_("Your password was changed. You were logged out everywhere else."), "success")
                if forced and pending_confirmation(staff):
                    flash(_("Your access to cases opens again when your unit head has confirmed it."), "notice")
                return redirect(url_for("cases.caseload"))
            errors.extend(_("The current password is wrong.") if code == "wrong_current"
                          else str({**POLICY_MESSAGES, **FORCED_CHANGE_MESSAGES}[code]) for code in result)
    elif form.is_submitted():
        errors.append(_("Fill in all three fields."))
    status = 422 if errors else 200
    return render_template("auth/password.html", form=form, errors=errors, min_length=MIN_LENGTH,
                           reset=password_reset_notice(current_user._get_current_object())), status


def pending_confirmation(staff) -> bool:
    return any(not m.is_confirmed for m in staff.memberships)


def password_reset_notice(staff) -> dict | None:
    """Who reset ``staff``'s password and when, while it must still be changed; else None."""
    if not staff.must_change_password:
        return None
    by = db.session.get(Staff, staff.password_reset_by_id) if staff.password_reset_by_id else None
    at = on_organisation_clock(staff.password_reset_at) if staff.password_reset_at else None
    return {"by": by.username if by else None, "at": at.strftime("%Y-%m-%d %H:%M") if at else None}


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
