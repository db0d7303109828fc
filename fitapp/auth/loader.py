"""Flask-Login wiring: load staff by id; everything requires login unless public."""
from flask import Flask

from fitapp.extensions import db, login_manager
from fitapp.models import Staff


def load_staff(staff_id: str) -> Staff | None:
    staff = db.session.get(Staff, int(staff_id)) if staff_id.isdigit() else None
    return staff if staff is not None and staff.is_active else None


def init_login(app: Flask) -> None:
    login_manager.user_loader(load_staff)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
