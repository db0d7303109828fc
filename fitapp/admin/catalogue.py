"""Administration: the intervention catalogue (insatskatalog).

GET pages list and show; every change is a POST handled by
fitapp.admin.catalogue_service (checks, audit, one transaction). Invalid
input shows the page again with the messages (422), nothing changed.
"""
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required

from fitapp.admin import bp
from fitapp.admin import catalogue_service as service
from fitapp.admin.formkit import Refused, first_errors, submit
from fitapp.admin.reference_forms import KIND_LABELS, InterventionEditForm, InterventionForm
from fitapp.permissions import ADMIN, requires


def _intervention(intervention_id: int):
    intervention = service.intervention_or_none(intervention_id)
    if intervention is None:
        abort(404)
    return intervention


def _catalogue_page(form=None):
    form = form or InterventionForm(formdata=None, data={"kind": "båda"})
    errors = first_errors(form)
    return render_template("admin/catalogue.html", rows=service.catalogue(), form=form, errors=errors,
                           kind_labels=KIND_LABELS), 422 if errors else 200


@bp.route("/catalogue")
@login_required
@requires(ADMIN)
def catalogue():
    return _catalogue_page()


@bp.route("/catalogue", methods=["POST"])
@login_required
@requires(ADMIN)
def add_intervention():
    return submit(InterventionForm(), lambda f: service.add_intervention(f.code.data, f.name.data, f.kind.data),
                  done=lambda i: url_for("admin.catalogue"), again=_catalogue_page,
                  message=_("The intervention was added to the catalogue."))


def _intervention_page(intervention, form=None):
    form = form or InterventionEditForm(formdata=None, obj=intervention)
    errors = first_errors(form)
    return render_template("admin/catalogue_item.html", intervention=intervention, form=form, errors=errors,
                           cases=service.cases_with(intervention), kind_labels=KIND_LABELS), 422 if errors else 200


@bp.route("/catalogue/<int:intervention_id>")
@login_required
@requires(ADMIN)
def intervention(intervention_id: int):
    return _intervention_page(_intervention(intervention_id))


@bp.route("/catalogue/<int:intervention_id>", methods=["POST"])
@login_required
@requires(ADMIN)
def update_intervention(intervention_id: int):
    item = _intervention(intervention_id)
    return submit(InterventionEditForm(), lambda f: service.update_intervention(item, f.name.data, f.kind.data),
                  done=lambda changed: url_for("admin.intervention", intervention_id=item.id),
                  again=lambda f: _intervention_page(item, f), message=_("The intervention was saved."))


def _state_change(intervention_id: int, change, message: str):
    item = _intervention(intervention_id)
    try:
        change(item)
    except Refused as refused:
        flash(refused.message, "error")
        return redirect(url_for("admin.intervention", intervention_id=item.id))
    flash(message, "success")
    return redirect(url_for("admin.catalogue"))


@bp.route("/catalogue/<int:intervention_id>/deactivate", methods=["POST"])
@login_required
@requires(ADMIN)
def deactivate_intervention(intervention_id: int):
    return _state_change(intervention_id, lambda i: service.set_active(i, False),
                         _("The intervention is no longer offered for new cases; existing cases keep it."))


@bp.route("/catalogue/<int:intervention_id>/reactivate", methods=["POST"])
@login_required
@requires(ADMIN)
def reactivate_intervention(intervention_id: int):
    return _state_change(intervention_id, lambda i: service.set_active(i, True),
                         _("The intervention is offered for new cases again."))


@bp.route("/catalogue/<int:intervention_id>/delete", methods=["POST"])
@login_required
@requires(ADMIN)
def delete_intervention(intervention_id: int):
    return _state_change(intervention_id, service.delete_intervention, _("The intervention was deleted."))
