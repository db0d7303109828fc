"""Administration: the retention period (gallring), its history, the preview and the deletion run.

The page shows counts per unit only, never a case or a person. The work is
done by :mod:`fitapp.retention`, the same service as ``flask retention``.
"""
from dataclasses import replace

from flask import flash, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, ValidationError

from fitapp import retention
from fitapp.admin import bp
from fitapp.admin.formkit import Refused, first_errors, submit
from fitapp.organisation_time import on_organisation_clock, organisation_today
from fitapp.permissions import ADMIN, requires


def _whole_years(form, field) -> None:
    text = (field.data or "").strip()
    if not (text.isascii() and text.isdigit()):
        raise ValidationError(_l("Enter the retention period as a whole number of years, e.g. 5."))


class PolicyForm(FlaskForm):
    years = StringField(_l("Retention period in years"), validators=[_whole_years],
                        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 4})


class RunForm(FlaskForm):
    confirm = BooleanField(
        _l("I have checked the preview and want to delete these cases' person-level data now"),
        validators=[DataRequired(_l("Tick the box to confirm the deletion: nothing was deleted."))])


@bp.route("/retention", endpoint="retention")
@login_required
@requires(ADMIN)
def retention_page():
    return _page(PolicyForm(years=str(retention.years_in_force())), RunForm())


@bp.route("/retention/policy", methods=["POST"])
@login_required
@requires(ADMIN)
def retention_policy():
    form = PolicyForm()

    def change(form: PolicyForm) -> None:
        years = int(form.years.data.strip())
        try:
            retention.change_policy(years, current_user)
        except retention.PolicyRefused as refused:
            raise Refused("years", str(refused)) from None
        flash(_("The retention period is now %(years)s years.", years=years), "success")

    return submit(form, change, done=lambda _result: url_for("admin.retention"),
                  again=lambda form: _page(form, RunForm(formdata=None), status=422))


@bp.route("/retention/run", methods=["POST"])
@login_required
@requires(ADMIN)
def retention_run():
    form = RunForm()
    policy_form = PolicyForm(formdata=None, years=str(retention.years_in_force()))

    def run(_form: RunForm) -> None:
        total = retention.apply(organisation_today(), actor=current_user).total
        flash(_("Retention done: %(episodes)s cases deleted, %(pruned)s kept for exempt persons, "
                "%(sessions)s sessions, %(ratings)s ratings and %(persons)s persons deleted.",
                episodes=total.episodes, pruned=total.pruned, sessions=total.sessions, ratings=total.ratings,
                persons=total.persons), "success")

    return submit(form, run, done=lambda _result: url_for("admin.retention"),
                  again=lambda form: _page(policy_form, form, status=422))


def _page(policy_form: PolicyForm, run_form: RunForm, status: int = 200):
    today = organisation_today()
    return render_template(
        "admin/retention.html", years=retention.years_in_force(), default_years=retention.DEFAULT_YEARS,
        history=[replace(change, changed_at=on_organisation_clock(change.changed_at)) for change in retention.policy_history()],
        preview=retention.plan(today), today=today,
        policy_form=policy_form, run_form=run_form, errors=first_errors(policy_form, run_form),
    ), status


