"""Which roles may reach which page: one rule per endpoint, declared beside the view.

Every view function that is not on the explicit public list
(``fitapp.auth.loader.PUBLIC_ENDPOINTS``) declares its roles with ``@requires``::

    @bp.route("/reports")
    @requires(REPORT_ROLES)
    def reports(): ...

The rule is enforced once, before every request (``enforce_rule``): a role not
in the set gets 403, and an endpoint without a rule gets 403 too, so a new page
is closed until somebody decides who may see it (tests/security/test_route_walker.py
fails for it as well). The rule is the coarse gate; the per-object loaders
(``fitapp.cases.access.load_episode_for_view``) still decide unit, district and
date: a case role reaches a case only while a member of its unit.
"""
from collections.abc import Callable, Iterable

from flask import abort, current_app, request

from fitapp.models.staff import ROLES

ALL_ROLES = frozenset(ROLES)
# Roles that work with cases: the only ones that ever see person-level data (the set
# fitapp.cases.access reads; nowhere else defines it).
CASE_ROLES = frozenset({"therapist", "unit_head"})
THERAPIST = frozenset({"therapist"})
UNIT_HEAD = frozenset({"unit_head"})
# Aggregated reports (no person-level data): unit heads for their units, quality groups within their scope.
REPORT_ROLES = frozenset({"unit_head", "quality"})
ADMIN = frozenset({"admin"})
# Who confirms a new clinical access (fitapp.access_confirmation): a unit head of the unit, or for a
# unit without one an administrator other than the one who made the change.
CONFIRMERS = frozenset({"unit_head", "admin"})

_ATTRIBUTE = "fitapp_allowed_roles"


def requires(roles: Iterable[str]) -> Callable:
    """Declare the roles that may call this view (put it under ``@bp.route``)."""
    allowed = frozenset(roles)
    unknown = allowed - ALL_ROLES
    if unknown or not allowed:
        raise ValueError(f"@requires needs known roles, got {sorted(allowed)!r}")

    def mark(view: Callable) -> Callable:
        setattr(view, _ATTRIBUTE, allowed)
        return view

    return mark


def rule_of(endpoint: str) -> frozenset[str] | None:
    """The roles allowed at ``endpoint``, or None when its view declares no rule."""
    view = current_app.view_functions.get(endpoint)
    return getattr(view, _ATTRIBUTE, None)


def enforce_rule(user) -> None:
    """403 unless the logged-in ``user``'s role is allowed at the current endpoint."""
    allowed = rule_of(request.endpoint)
    if allowed is None:
        current_app.logger.error("endpoint %s has no permission rule: refused", request.endpoint)
        abort(403)
    if user.role not in allowed:
        abort(403)
