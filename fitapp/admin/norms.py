"""Administration: norm parameter sets (metrics.md §2): list, create, compute, activate.

GET pages list and show; every change is a POST handled by
fitapp.admin.norm_sets (checks, audit, one transaction). Invalid input shows
the page again with the messages (422), nothing changed.
"""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from wtforms import FieldList, FormField

from fitapp.admin import bp
from fitapp.admin import norm_sets as service
from fitapp.admin.formkit import Refused
from fitapp.admin.reference_forms import ComputedNormSetForm, NormSetForm
from fitapp.norms_service import NoActiveNormSet, active_norm_set
from fitapp.permissions import ADMIN, requires
from fitapp.scoring.norms import NormRow


def _leaves(fields):
    """Every input field of a form, also those inside its rows (FieldList of FormField)."""
    for field in fields:
        if isinstance(field, (FieldList, FormField)):
            yield from _leaves(field)
        else:
            yield field


def _errors(form) -> dict[str, str]:
    """Field id -> its first message, rows included: what the error summary and the fields show."""
    return {field.id: field.errors[0] for field in _leaves(form) if field.errors}


def _refuse(form, refused: Refused) -> None:
    """The refusal's message beside its field; a service counts rows among the used ones only."""
    field_id = form.field_of_used_row(refused.field) if refused.field.startswith("rows-") else refused.field
    field = next(field for field in _leaves(form) if field.id == field_id)
    field.errors = [*field.errors, refused.message]


def _to_list():
    return redirect(url_for("admin.norm_sets"))


# ---------------------------------------------------------------- the list and activation


@bp.route("/norm-sets")
@login_required
@requires(ADMIN)
def norm_sets():
    try:
        active_key = active_norm_set().key
    except NoActiveNormSet:
        active_key = None
    return render_template("admin/norm_sets.html", norm_sets=service.norm_sets(), active_key=active_key,
                           stale=service.stale_series(active_key))


@bp.route("/norm-sets/<int:set_id>/activate", methods=["POST"])
@login_required
@requires(ADMIN)
def activate_norm_set(set_id: int):
    norm_set = service.norm_set_or_none(set_id)
    if norm_set is None:
        abort(404)
    if not norm_set.is_active and service.too_many_for_a_request():
        flash(_("There are too many series to recompute from the browser. Ask the system administrator to run "
                "the command flask --app fitapp activate-norm-set %(key)s on the server; reports use the new set "
                "as soon as it has finished.", key=norm_set.key), "error")
        return _to_list()
    result = service.activate_norm_set(norm_set)
    if result is None:
        flash(_("%(name)s already is the active norm set.", name=norm_set.name), "success")
    else:
        flash(_("%(name)s is now the active norm set. Recomputed with it: series %(series)s, cases %(episodes)s.",
                name=norm_set.name, series=result.series, episodes=result.episodes), "success")
    return _to_list()


@bp.route("/norm-sets/refresh", methods=["POST"])
@login_required
@requires(ADMIN)
def refresh_series():
    if service.too_many_for_a_request():
        flash(_("There are too many series to recompute from the browser. Ask the system administrator to run "
                "the command flask --app fitapp refresh-series on the server."), "error")
        return _to_list()
    result = service.refresh_with_active_set()
    flash(_("Recomputed with the active norm set: series %(series)s, cases %(episodes)s.",
            series=result.series, episodes=result.episodes), "success")
    return _to_list()


# ---------------------------------------------------------------- a new set, typed


def _new_page(form):
    errors = _errors(form)
    return render_template("admin/norm_set_new.html", form=form, errors=errors), 422 if errors else 200


@bp.route("/norm-sets/new")
@login_required
@requires(ADMIN)
def new_norm_set():
    return _new_page(NormSetForm(formdata=None))


@bp.route("/norm-sets/new", methods=["POST"])
@login_required
@requires(ADMIN)
def create_norm_set():
    form = NormSetForm()
    if form.validate_on_submit():
        rows = [NormRow(**row.band(), cutoff=row.cutoff.data, rc=row.rc.data) for row in form.used_rows()]
        try:
            created = service.create_norm_set(form.key.data, form.name.data, form.source.data, rows)
        except Refused as refused:
            _refuse(form, refused)
        else:
            return _created(created)
    return _new_page(form)


def _created(norm_set):
    flash(_("The norm set %(name)s was saved. It is used once you activate it.", name=norm_set.name), "success")
    return _to_list()


# ---------------------------------------------------------------- a new set, computed (Jacobson & Truax)


def _compute_page(form, preview=None, notice=None):
    errors = _errors(form)
    return render_template("admin/norm_set_compute.html", form=form, errors=errors, preview=preview,
                           fingerprint=_fingerprint(preview), notice=notice), 422 if errors else 200


def _fingerprint(rows: list[NormRow] | None) -> str:
    """What the preview showed, so that a save stores exactly the values the administrator saw."""
    return "|".join(f"{r.instrument},{r.min_age},{r.max_age},{r.includes_unknown_age},{r.cutoff},{r.rc}"
                    for r in rows or ())


@bp.route("/norm-sets/compute")
@login_required
@requires(ADMIN)
def compute_norm_set():
    return _compute_page(ComputedNormSetForm(formdata=None))


@bp.route("/norm-sets/compute", methods=["POST"])
@login_required
@requires(ADMIN)
def save_computed_norm_set():
    """"Compute" shows cutoff and RC of every row; "save" stores them if they are what was shown."""
    form = ComputedNormSetForm()
    saving = request.form.get("action") == "save"
    valid = form.validate() if saving else form.rows.validate(form)
    if not valid:
        return _compute_page(form)
    try:
        rows = service.computed_rows(service.Sample(**row.sample()) for row in form.used_rows())
        if not rows:
            raise Refused("rows-0-instrument", _("Give at least one row: instrument, age band and sample values."))
        if not saving:
            return _compute_page(form, preview=rows)
        if request.form.get("previewed") != _fingerprint(rows):
            return _compute_page(form, preview=rows, notice=_(
                "The values were changed after they were computed. Check the new cutoffs and RCs and save again."))
        return _created(service.create_norm_set(form.key.data, form.name.data, form.source.data, rows))
    except Refused as refused:
        _refuse(form, refused)
        return _compute_page(form)
