"""Administration: the item labels the organisation is licensed to use (fitapp.instrument_labels).

One form with four fields per instrument; an empty field means no licensed
text, and the app shows the neutral "Del N" for that item.
"""
from flask import render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required

from fitapp.admin import bp
from fitapp.admin.formkit import first_errors, submit
from fitapp.admin.reference_forms import InstrumentLabelsForm, label_field_name
from fitapp.instrument_labels import ITEMS, licensed_labels, save_labels
from fitapp.permissions import ADMIN, requires
from fitapp.scoring.instruments import ALL_INSTRUMENTS


def _labels_page(form=None):
    current = {label_field_name(code, n): text for (code, n), text in licensed_labels().items()}
    form = form or InstrumentLabelsForm(formdata=None, data=current)
    errors = first_errors(form)
    return render_template("admin/labels.html", form=form, errors=errors, instruments=ALL_INSTRUMENTS, items=ITEMS,
                           field_name=label_field_name), 422 if errors else 200


@bp.route("/instrument-labels")
@login_required
@requires(ADMIN)
def instrument_labels():
    return _labels_page()


@bp.route("/instrument-labels", methods=["POST"])
@login_required
@requires(ADMIN)
def save_instrument_labels():
    return submit(InstrumentLabelsForm(), lambda f: save_labels(f.labels()),
                  done=lambda changed: url_for("admin.instrument_labels"), again=_labels_page,
                  message=_("The labels were saved."))
