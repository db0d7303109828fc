"""Administration (administratör): organisation, staff, catalogue, norm sets, licensed labels, retention.

The administrator sees no clinical data (domain.md): these pages show codes,
names of units and staff, and counts, never a case or a rating. Every change is
audited. One module per section; each view is ``@requires(ADMIN)``.
"""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from fitapp.admin import catalogue, labels, norms, organisation, retention, routes, staff  # noqa: E402,F401
