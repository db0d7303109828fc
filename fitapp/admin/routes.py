"""The administration start page and the list of sections it links to."""
from dataclasses import dataclass

from flask import current_app, render_template
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from fitapp.admin import bp
from fitapp.permissions import ADMIN, requires


@dataclass(frozen=True)
class Section:
    endpoint: str
    title: str
    summary: str


SECTIONS = (
    Section("admin.organisation", _l("Organisation"), _l("Districts, units and teams")),
    Section("admin.staff_list", _l("Staff"), _l("Accounts, roles and unit memberships")),
    Section("admin.catalogue", _l("Interventions"), _l("The intervention catalogue")),
    Section("admin.norm_sets", _l("Norm parameters"), _l("Cutoffs and reliable change in force, with their source")),
    Section("admin.instrument_labels", _l("Instrument labels"), _l("The wording the organisation is licensed to use")),
    Section("admin.retention", _l("Retention"), _l("Retention period and deletion of old cases (gallring)")),
)


@bp.route("/")
@login_required
@requires(ADMIN)
def index():
    available = [s for s in SECTIONS if s.endpoint in current_app.view_functions]
    return render_template("admin/index.html", sections=available)
