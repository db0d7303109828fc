"""Flask-Login wiring: load staff by id; everything requires login unless public."""
from flask import Flask, request
from flask_login import current_user

from fitapp.extensions import db, login_manager
from fitapp.models import Staff

# The explicit public list (house-style habit 5): every other endpoint needs a login.
PUBLIC_ENDPOINTS = frozenset({"auth.login", "auth.language", "static"})


def load_staff(staff_id: str) -> Staff | None:
    staff = db.session.get(Staff, int(staff_id)) if staff_id.isdigit() else None
    return staff if staff is not None and staff.is_active else None


def require_login():
    # request.endpoint is None for URLs that match no route: let those 404.
    if request.endpoint is None or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def init_login(app: Flask) -> None:
    login_manager.user_loader(load_staff)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    app.before_request(require_login)
