"""Systematic log review (loggkontroll, HSLF-FS 2016:40 4 kap.).

Each month the unit head reads the unit's accesses to person-level data, with
those outside the user's own caseload highlighted, and records that the review
was done; administrators review every unit and the whole organisation.
"""
from flask import Blueprint

bp = Blueprint("log_review", __name__, url_prefix="/log-review")

from fitapp.log_review import routes  # noqa: E402,F401
