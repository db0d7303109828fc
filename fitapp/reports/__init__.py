"""Unit reports: SQL aggregates (queries) -> pure scoring -> exports (house-style.md).

The blueprint (routes.py) shows them to unit heads and the quality group.
"""
from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")

from fitapp.reports import routes  # noqa: E402,F401
