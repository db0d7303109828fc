"""Forms of the organisation pages. The texts are checked by fitapp.admin.organisation_service."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField

from fitapp.admin.formkit import ChoiceField

_CODE = {"autocomplete": "off", "spellcheck": "false", "maxlength": 40}
_NAME = {"autocomplete": "off", "maxlength": 200}


class DistrictForm(FlaskForm):
    code = StringField(_l("Code"), render_kw=_CODE)
    name = StringField(_l("Name"), render_kw=_NAME)


class UnitForm(FlaskForm):
    code = StringField(_l("Code"), render_kw=_CODE)
    name = StringField(_l("Name"), render_kw=_NAME)
    district = ChoiceField(_l("District"))


class NameForm(FlaskForm):
    name = StringField(_l("Name"), render_kw=_NAME)


class TeamCasesForm(FlaskForm):
    visible = ChoiceField(_l("Therapists see their team's cases"),
                          choices=[("off", _l("No: only their own cases")),
                                   ("on", _l("Yes: also the cases of their team"))])
