"""Forms of the staff pages. Choices are filled by the view; the rules are in fitapp.admin.staff_admin."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField

from fitapp.admin.formkit import ChoiceField, IsoDateField

_NEW_PASSWORD = {"autocomplete": "new-password"}
_DATE = {"inputmode": "numeric", "placeholder": "YYYY-MM-DD", "autocomplete": "off"}


class NewStaffForm(FlaskForm):
    username = StringField(_l("Username"), render_kw={"autocomplete": "off", "autocapitalize": "none",
                                                       "spellcheck": "false", "maxlength": 80})
    role = ChoiceField(_l("Role"))
    password = PasswordField(_l("Initial password"), render_kw=_NEW_PASSWORD)
    confirm = PasswordField(_l("Initial password again"), render_kw=_NEW_PASSWORD)


class RoleForm(FlaskForm):
    role = ChoiceField(_l("Role"))


class PasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), render_kw=_NEW_PASSWORD)
    confirm = PasswordField(_l("New password again"), render_kw=_NEW_PASSWORD)


class ScopeForm(FlaskForm):
    district = ChoiceField(_l("Reports of"), required=False)


class MembershipForm(FlaskForm):
    unit = ChoiceField(_l("Unit"))
    team = ChoiceField(_l("Team (optional)"), required=False)
    valid_from = IsoDateField(_l("From"), render_kw=_DATE)


class EndMembershipForm(FlaskForm):
    valid_to = IsoDateField(_l("Last day"), render_kw=_DATE)


class MoveForm(FlaskForm):
    unit = ChoiceField(_l("New unit"))
    team = ChoiceField(_l("Team in the new unit (optional)"), required=False)
    move_date = IsoDateField(_l("First day in the new unit"), render_kw=_DATE)
    # Checked by the service, which says why a choice cannot take the cases.
    receiver = ChoiceField(_l("Therapist who takes over the open cases"), required=False, validate_choice=False)
