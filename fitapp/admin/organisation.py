"""Administration: districts, units and teams.

GET pages list and show; every change is a POST handled by
fitapp.admin.organisation_service (checks, audit, one transaction). Invalid
input shows the page again with the messages (422), nothing changed.
"""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required

from fitapp.admin import bp
from fitapp.admin import organisation_service as service
from fitapp.admin.formkit import Refused, first_errors, make_form, submit
from fitapp.admin.organisation_forms import DistrictForm, NameForm, TeamCasesForm, UnitForm
from fitapp.extensions import db
from fitapp.models import District, Team, Unit
from fitapp.organisation_time import organisation_today
from fitapp.permissions import ADMIN, requires


def _get(model, object_id: int):
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj


def _delete(obj, delete, *, refused_to: str, done_to: str, message: str):
    try:
        delete(obj)
    except Refused as refused:
        flash(refused.message, "error")
        return redirect(refused_to)
    flash(message, "success")
    return redirect(done_to)


# ---------------------------------------------------------------- the list


def _district_form(bound: bool = False) -> DistrictForm:
    return make_form(DistrictForm, "district", bound)


def _unit_form(bound: bool = False) -> UnitForm:
    form = make_form(UnitForm, "unit", bound)
    form.district.choices = [("", _("Choose…"))] + [(str(d.id), d.name) for d in service.districts()]
    return form


def _organisation_page(district_form=None, unit_form=None):
    district_form, unit_form = district_form or _district_form(), unit_form or _unit_form()
    errors = first_errors(district_form, unit_form)
    return render_template("admin/organisation.html", overview=service.overview(organisation_today()),
                           district_form=district_form, unit_form=unit_form, errors=errors), 422 if errors else 200


@bp.route("/organisation")
@login_required
@requires(ADMIN)
def organisation():
    return _organisation_page()


@bp.route("/organisation/districts", methods=["POST"])
@login_required
@requires(ADMIN)
def create_district():
    return submit(_district_form(bound=True), lambda f: service.create_district(f.code.data, f.name.data),
                  done=lambda d: url_for("admin.district", district_id=d.id),
                  again=lambda f: _organisation_page(district_form=f), message=_("The district was created."))


@bp.route("/organisation/units", methods=["POST"])
@login_required
@requires(ADMIN)
def create_unit():
    return submit(_unit_form(bound=True), lambda f: service.create_unit(f.code.data, f.name.data, f.district.id_value),
                  done=lambda u: url_for("admin.unit", unit_id=u.id),
                  again=lambda f: _organisation_page(unit_form=f), message=_("The unit was created."))


# ---------------------------------------------------------------- a district


def _district_page(district: District, rename_form=None):
    rename_form = rename_form or make_form(NameForm, "rename", False, name=district.name)
    errors = first_errors(rename_form)
    return render_template("admin/district.html", district=district, rename_form=rename_form,
                           uses=service.uses_of(district), use_labels=service.USES, errors=errors), 422 if errors else 200


@bp.route("/organisation/districts/<int:district_id>")
@login_required
@requires(ADMIN)
def district(district_id: int):
    return _district_page(_get(District, district_id))


@bp.route("/organisation/districts/<int:district_id>", methods=["POST"])
@login_required
@requires(ADMIN)
def rename_district(district_id: int):
    district = _get(District, district_id)
    return submit(make_form(NameForm, "rename", True), lambda f: service.rename_district(district, f.name.data),
                  done=lambda d: url_for("admin.district", district_id=d.id),
                  again=lambda f: _district_page(district, rename_form=f), message=_("The name was changed."))


@bp.route("/organisation/districts/<int:district_id>/delete", methods=["POST"])
@login_required
@requires(ADMIN)
def delete_district(district_id: int):
    district = _get(District, district_id)
    return _delete(district, service.delete_district, refused_to=url_for("admin.district", district_id=district_id),
                   done_to=url_for("admin.organisation"), message=_("The district was deleted."))


# ---------------------------------------------------------------- a unit and its teams


def _unit_forms(unit: Unit, bound: str | None = None) -> dict:
    """Every form of the unit page; the one named ``bound`` reads the request."""
    forms = {
        "rename": make_form(NameForm, "rename", bound == "rename", name=unit.name),
        "visibility": make_form(TeamCasesForm, "visibility", bound == "visibility",
                                visible="on" if unit.team_cases_visible else "off"),
        "team": make_form(NameForm, "team", bound == "team"),
    }
    for team in unit.teams:
        forms[f"team-{team.id}"] = make_form(NameForm, f"team-{team.id}", bound == f"team-{team.id}", name=team.name)
    return forms


def _unit_page(unit: Unit, forms: dict | None = None):
    forms = forms or _unit_forms(unit)
    errors = first_errors(*forms.values())
    return render_template("admin/unit.html", unit=unit, forms=forms, uses=service.uses_of(unit),
                           use_labels=service.USES, errors=errors), 422 if errors else 200


def _submit_on_unit(unit: Unit, name: str, change, message: str):
    forms = _unit_forms(unit, bound=name)
    return submit(forms[name], change, done=lambda _result: _to_unit(unit.id),
                  again=lambda _form: _unit_page(unit, forms), message=message)


def _to_unit(unit_id: int) -> str:
    return url_for("admin.unit", unit_id=unit_id)


@bp.route("/organisation/units/<int:unit_id>")
@login_required
@requires(ADMIN)
def unit(unit_id: int):
    return _unit_page(_get(Unit, unit_id))


@bp.route("/organisation/units/<int:unit_id>", methods=["POST"])
@login_required
@requires(ADMIN)
def rename_unit(unit_id: int):
    unit = _get(Unit, unit_id)
    return _submit_on_unit(unit, "rename", lambda f: service.rename_unit(unit, f.name.data),
                           _("The name was changed."))


@bp.route("/organisation/units/<int:unit_id>/team-cases", methods=["POST"])
@login_required
@requires(ADMIN)
def team_cases(unit_id: int):
    unit = _get(Unit, unit_id)
    return _submit_on_unit(unit, "visibility", lambda f: service.set_team_cases_visible(unit, f.visible.data == "on"),
                           _("The choice was saved."))


@bp.route("/organisation/units/<int:unit_id>/delete", methods=["POST"])
@login_required
@requires(ADMIN)
def delete_unit(unit_id: int):
    unit = _get(Unit, unit_id)
    return _delete(unit, service.delete_unit, refused_to=_to_unit(unit_id), done_to=url_for("admin.organisation"),
                   message=_("The unit was deleted."))


@bp.route("/organisation/units/<int:unit_id>/teams", methods=["POST"])
@login_required
@requires(ADMIN)
def create_team(unit_id: int):
    unit = _get(Unit, unit_id)
    return _submit_on_unit(unit, "team", lambda f: service.create_team(unit, f.name.data), _("The team was created."))


@bp.route("/organisation/teams/<int:team_id>", methods=["POST"])
@login_required
@requires(ADMIN)
def rename_team(team_id: int):
    team = _get(Team, team_id)
    return _submit_on_unit(team.unit, f"team-{team.id}", lambda f: service.rename_team(team, f.name.data),
                           _("The name was changed."))


@bp.route("/organisation/teams/<int:team_id>/delete", methods=["POST"])
@login_required
@requires(ADMIN)
def delete_team(team_id: int):
    team = _get(Team, team_id)
    unit_id = team.unit_id
    return _delete(team, service.delete_team, refused_to=_to_unit(unit_id), done_to=_to_unit(unit_id),
                   message=_("The team was deleted."))
