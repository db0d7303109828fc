"""Administration: staff accounts, roles, sign-in, report scope and unit memberships.

GET pages list and show (names, roles, units and counts of open cases, never a
case); every change is a POST handled by fitapp.admin.staff_admin. Invalid
input shows the page again with the messages (422), nothing changed.
"""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from fitapp.admin import bp, staff_admin
from fitapp.admin.formkit import Refused, first_errors, make_form, submit
from fitapp.admin.organisation_service import districts
from fitapp.admin.staff_forms import (
    EndMembershipForm, MembershipForm, MoveForm, NewStaffForm, PasswordForm, RoleForm, ScopeForm,
)
from fitapp.extensions import db
from fitapp.labels import ROLE_LABELS
from fitapp.models import District, Staff, Team, Unit, UnitMembership
from fitapp.models.staff import ROLES
from fitapp.organisation_time import organisation_today
from fitapp.permissions import ADMIN, requires

# ---------------------------------------------------------------- choices and forms


def _role_choices():
    # Administrator accounts are made on the command line only (fitapp.staff_service).
    return [("", _("Choose…"))] + [(role, str(ROLE_LABELS[role])) for role in ROLES if role != "admin"]


def _unit_choices():
    units = db.session.scalars(select(Unit).join(District).order_by(District.name, Unit.name))
    return [("", _("Choose…"))] + [(str(u.id), f"{u.name} ({u.code}, {u.district.name})") for u in units]


def _team_choices():
    teams = db.session.scalars(select(Team).join(Unit).order_by(Unit.name, Team.name))
    return [("", _("No team"))] + [(str(t.id), f"{t.unit.name}: {t.name}") for t in teams]


def _to_account(staff: Staff) -> str:
    return url_for("admin.staff_account", staff_id=staff.id)


def _staff(staff_id: int) -> Staff:
    staff = db.session.get(Staff, staff_id)
    if staff is None:
        abort(404)
    return staff


def _membership(staff: Staff, membership_id: int) -> UnitMembership:
    membership = db.session.get(UnitMembership, membership_id)
    if membership is None or membership.staff_id != staff.id:
        abort(404)
    return membership


# ---------------------------------------------------------------- the list and new accounts


def _new_staff_form(bound: bool = False) -> NewStaffForm:
    form = make_form(NewStaffForm, "new", bound)
    form.role.choices = _role_choices()
    return form


def _list_page(form=None):
    form = form or _new_staff_form()
    errors = first_errors(form)
    return render_template("admin/staff_list.html", rows=staff_admin.staff_overview(organisation_today()), form=form,
                           errors=errors), 422 if errors else 200


@bp.route("/staff")
@login_required
@requires(ADMIN)
def staff_list():
    return _list_page()


@bp.route("/staff", methods=["POST"])
@login_required
@requires(ADMIN)
def create_staff():
    return submit(_new_staff_form(bound=True),
                  lambda f: staff_admin.create_account(f.username.data, f.role.data, f.password.data, f.confirm.data,
                                                       current_user),
                  done=_to_account, again=_list_page, message=_("The account was created."))


# ---------------------------------------------------------------- one account


def _account_forms(staff: Staff, bound: str | None = None) -> dict:
    """Every form of the account page; the one named ``bound`` reads the request."""
    today = organisation_today()
    forms = {
        "role": make_form(RoleForm, "role", bound == "role", role=staff.role),
        "password": make_form(PasswordForm, "password", bound == "password"),
        "scope": make_form(ScopeForm, "scope", bound == "scope", district=str(staff.scope_district_id or "")),
        "membership": make_form(MembershipForm, "membership", bound == "membership", valid_from=today),
    }
    for m in staff.memberships:
        if m.valid_to is None or bound == f"end-{m.id}":
            forms[f"end-{m.id}"] = make_form(EndMembershipForm, f"end-{m.id}", bound == f"end-{m.id}")
    forms["role"].role.choices = _role_choices()
    forms["scope"].district.choices = [("", _("The whole city"))] + [(str(d.id), d.name) for d in districts()]
    forms["membership"].unit.choices = _unit_choices()
    forms["membership"].team.choices = _team_choices()
    return forms


def _account_page(staff: Staff, forms: dict | None = None):
    forms = forms or _account_forms(staff)
    errors = first_errors(*forms.values())
    return render_template("admin/staff.html", staff=staff, forms=forms, errors=errors,
                           open_cases=staff_admin.open_cases_by_unit(staff)), 422 if errors else 200


def _submit_on_account(staff: Staff, name: str, change, message: str):
    forms = _account_forms(staff, bound=name)
    return submit(forms[name], change, done=lambda _result: _to_account(staff),
                  again=lambda form: _account_page(staff, forms), message=message)


def _act(staff: Staff, action, message: str):
    """A change without input (a button): done, or refused with a message; back to the account."""
    try:
        action()
    except Refused as refused:
        flash(refused.message, "error")
    else:
        flash(message, "success")
    return redirect(_to_account(staff))


@bp.route("/staff/<int:staff_id>")
@login_required
@requires(ADMIN)
def staff_account(staff_id: int):
    return _account_page(_staff(staff_id))


@bp.route("/staff/<int:staff_id>/role", methods=["POST"])
@login_required
@requires(ADMIN)
def change_role(staff_id: int):
    staff = _staff(staff_id)
    return _submit_on_account(staff, "role", lambda f: staff_admin.change_role(staff, f.role.data, current_user),
                              _("The role was changed. The account's sessions were ended."))


@bp.route("/staff/<int:staff_id>/password", methods=["POST"])
@login_required
@requires(ADMIN)
def set_password(staff_id: int):
    staff = _staff(staff_id)
    return _submit_on_account(staff, "password",
                              lambda f: staff_admin.set_password(staff, f.password.data, f.confirm.data, current_user),
                              _("The password was set. The account's sessions were ended; the user must "
                                "choose a new password at the next login."))


@bp.route("/staff/<int:staff_id>/scope", methods=["POST"])
@login_required
@requires(ADMIN)
def set_report_scope(staff_id: int):
    staff = _staff(staff_id)
    return _submit_on_account(staff, "scope", lambda f: staff_admin.set_report_scope(staff, f.district.id_value),
                              _("The report scope was saved."))


@bp.route("/staff/<int:staff_id>/disable", methods=["POST"])
@login_required
@requires(ADMIN)
def disable_staff(staff_id: int):
    staff = _staff(staff_id)
    response = _act(staff, lambda: staff_admin.disable(staff, current_user),
                    _("The account was disabled and its sessions were ended."))
    held = sum(staff_admin.open_cases_by_unit(staff).values())
    if not staff.is_enabled and held:
        flash(_("%(name)s still holds %(n)s open cases: the unit head can reassign them.",
                name=staff.username, n=held), "notice")
    return response


@bp.route("/staff/<int:staff_id>/enable", methods=["POST"])
@login_required
@requires(ADMIN)
def enable_staff(staff_id: int):
    staff = _staff(staff_id)
    return _act(staff, lambda: staff_admin.enable(staff), _("The account was enabled."))


@bp.route("/staff/<int:staff_id>/second-factor/reset", methods=["POST"])
@login_required
@requires(ADMIN)
def reset_second_factor(staff_id: int):
    staff = _staff(staff_id)
    return _act(staff, lambda: staff_admin.reset_second_factor(staff),
                _("Two-step login was reset: the account's sessions were ended and it enrols again at the next login."))


# ---------------------------------------------------------------- memberships


@bp.route("/staff/<int:staff_id>/memberships", methods=["POST"])
@login_required
@requires(ADMIN)
def add_membership(staff_id: int):
    staff = _staff(staff_id)
    return _submit_on_account(
        staff, "membership",
        lambda f: staff_admin.add_membership(staff, f.unit.id_value, f.team.id_value, f.valid_from.data,
                                             current_user),
        _("The membership was added. It takes effect when a unit head of the unit confirms it."))


@bp.route("/staff/<int:staff_id>/memberships/<int:membership_id>/end", methods=["POST"])
@login_required
@requires(ADMIN)
def end_membership(staff_id: int, membership_id: int):
    staff = _staff(staff_id)
    membership = _membership(staff, membership_id)
    return _submit_on_account(staff, f"end-{membership.id}",
                              lambda f: staff_admin.end_membership(membership, f.valid_to.data),
                              _("The membership was ended."))


def _move_form(plan, bound: bool) -> MoveForm:
    form = make_form(MoveForm, None, bound, move_date=organisation_today())
    form.unit.choices = _unit_choices()
    form.team.choices = _team_choices()
    form.receiver.choices = [("", _("Choose…"))] + [(str(t.id), t.username) for t in plan.receivers]
    return form


def _move_page(plan, form):
    errors = first_errors(form)
    return render_template("admin/move.html", plan=plan, staff=plan.membership.staff, form=form,
                           errors=errors), 422 if errors else 200


@bp.route("/staff/<int:staff_id>/memberships/<int:membership_id>/move", methods=["GET", "POST"])
@login_required
@requires(ADMIN)
def move_staff(staff_id: int, membership_id: int):
    staff = _staff(staff_id)
    plan = staff_admin.move_plan(_membership(staff, membership_id), organisation_today())
    form = _move_form(plan, bound=True)
    return submit(form, lambda f: staff_admin.move_staff(
                      plan.membership, unit_id=f.unit.id_value, team_id=f.team.id_value, move_date=f.move_date.data,
                      receiver_id=f.receiver.id_value, today=organisation_today(), actor=current_user),
                  done=lambda _new: _to_account(staff), again=lambda f: _move_page(plan, f),
                  message=_("The move was saved and the open cases were handed over."))
