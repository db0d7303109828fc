"""Flask-Login wiring and the gate every request passes.

Order of the checks in ``require_login`` (after CSRFProtect's own check):
a session the store ended (audited, the user told)? -> public endpoint? -> logged in?
-> session still valid (version, idle, absolute)? -> second factor done where the role
requires it? -> password changed after an administrator's reset? -> the endpoint's role rule.
"""
from flask import Flask, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from fitapp.audit import record
from fitapp.auth import sessions
from fitapp.extensions import db, login_manager
from fitapp.models import Staff
from fitapp.permissions import enforce_rule

# The explicit public list (house-style habit 5): every other endpoint needs a login.
# auth.login_code is the second step of logging in: it checks its own pending state.
PUBLIC_ENDPOINTS = frozenset({"auth.login", "auth.login_code", "auth.language", "static"})
# What a role that must use the second factor may reach before it has enrolled.
BEFORE_SECOND_FACTOR = frozenset({"auth.two_factor", "auth.logout"})
# What an account whose password an administrator reset may reach before choosing its own
# (Staff.must_change_password): the administrator who knows the reset password gets nothing else.
BEFORE_PASSWORD_CHANGE = frozenset({"auth.change_password_page", "auth.logout"})


def load_staff(staff_id: str) -> Staff | None:
    staff = db.session.get(Staff, int(staff_id)) if staff_id.isdigit() else None
    return staff if staff is not None and staff.is_active else None


def require_login():
    if sessions.record_ended_in_store():
        flash(_("Your session has ended. Please log in again."), "info")
    # request.endpoint is None for URLs that match no route: let those 404.
    if request.endpoint is None or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    staff = current_user._get_current_object()
    ended = sessions.check_session(staff)
    if ended is not None:
        record("session_" + ended, object_type="staff", object_id=staff.id, actor_id=staff.id,
               actor_name=staff.username)
        db.session.commit()
        sessions.end_session()
        flash(_("Your session has ended. Please log in again."), "info")
        return login_manager.unauthorized()
    if sessions.needs_second_factor(staff):
        if staff.totp_secret:
            # Enrolled in another session after this one started without the code: log in again.
            sessions.end_session()
            return login_manager.unauthorized()
        if request.endpoint not in BEFORE_SECOND_FACTOR:
            return redirect(url_for("auth.two_factor"))
    if staff.must_change_password and request.endpoint not in BEFORE_PASSWORD_CHANGE:
        return redirect(url_for("auth.change_password_page"))
    enforce_rule(staff)
    return None


def init_login(app: Flask) -> None:
    login_manager.user_loader(load_staff)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    app.before_request(require_login)
