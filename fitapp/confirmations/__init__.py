"""Att bekräfta: unit heads (and, for units without one, a second administrator) confirm or refuse the
memberships and changes that would open cases (separation of duties, fitapp.access_confirmation)."""
from flask import Blueprint

bp = Blueprint("confirmations", __name__, url_prefix="/confirmations")

from fitapp.confirmations import routes  # noqa: E402,F401
