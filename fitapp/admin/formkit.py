"""What the administration forms share: fields with our own messages, refusals, and the POST round trip.

Every message is ours (English msgids, translated), never WTForms' built-in
English ones. A service refuses bad input by raising :class:`Refused` before
it writes anything; the view shows the message beside the field and the page
again with status 422. A value that looks like a personal identity number is
never shown again: its field comes back empty.
"""
from collections.abc import Callable
from datetime import date

from flask import flash, redirect
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from fitapp import names
from fitapp.identity_numbers import looks_like_identity_number


class Refused(ValueError):
    """A change the service will not make; ``field`` is the name of the form field it concerns."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def name_message(problem: str, max_length: int, *, username: bool = False) -> str:
    """A refusal of the code and name rules (fitapp.names) in the user's language."""
    if problem == names.EMPTY:
        return _("Fill in this field.")
    if problem == names.IDENTITY_NUMBER:
        if username:
            return _("A username must not be or contain a personal identity number.")
        return _("This looks like a personal identity number. Never enter identity numbers.")
    if problem == names.CONTROL_CHARACTERS:
        return _("Use printable characters only: no line breaks, tabs or invisible formatting characters.")
    if problem == names.FORMULA_START:
        return _("Must not start with =, +, - or @ (a spreadsheet would read it as a formula).")
    if problem == names.CODE_CHARACTERS:
        return _("Use letters (a–z, å, ä, ö), digits, - and _, starting with a letter or digit, at most %(n)s "
                 "characters; e.g. NO-FAM.", n=max_length)
    if problem == names.USERNAME_CHARACTERS:
        return _("A username has at most %(n)s characters: letters (a–z, å, ä, ö), digits, ., -, _ and @, "
                 "starting with a letter or digit, and no spaces.", n=max_length)
    return _("At most %(n)s characters.", n=max_length)


def checked(value: str | None, field: str, problem_of: Callable[[str], str | None], max_length: int) -> str:
    """``value`` stripped if the rule ``problem_of`` (fitapp.names) accepts it; otherwise :class:`Refused`."""
    text = (value or "").strip()
    problem = problem_of(text)
    if problem is not None:
        raise Refused(field, name_message(problem, max_length))
    return text


class IsoDateField(StringField):
    """A date typed as YYYY-MM-DD (the format of every date field in fitapp)."""

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        self.raw_text = text
        self.data = None
        if text:
            try:
                self.data = date.fromisoformat(text)
            except ValueError:
                raise ValueError(_l("Write the date as YYYY-MM-DD.")) from None

    def _value(self):
        return getattr(self, "raw_text", None) or (self.data.isoformat() if self.data else "")


def _options(pairs):
    """(value, label) pairs as WTForms' SelectChoice (tuples are deprecated there)."""
    if pairs is None:
        return None
    return [p if isinstance(p, SelectChoice) else SelectChoice(str(p[0]), p[1]) for p in pairs]


class ChoiceField(SelectField):
    """A select whose wrong or missing choice gets our message; "" is the empty choice (None)."""

    def __init__(self, label=None, validators=None, *, required: bool = True, choices=None, **kwargs):
        super().__init__(label, validators, coerce=str, choices=_options(choices), **kwargs)
        self.required = required

    @SelectField.choices.setter
    def choices(self, pairs):
        SelectField.choices.fset(self, _options(pairs))

    def process_formdata(self, valuelist):
        self.data = (valuelist[0] if valuelist else "").strip() or None

    def pre_validate(self, form):
        if self.data is None:
            if self.required:
                raise ValidationError(_l("Choose one of the options."))
            return
        if self.validate_choice and self.data not in {str(value) for value, *_ in self.choices}:
            raise ValidationError(_l("Choose one of the options."))

    @property
    def id_value(self) -> int | None:
        """The chosen value as an id (choices whose values are ids)."""
        return int(self.data) if self.data is not None and self.data.isdigit() else None


def make_form(form_class, prefix: str | None, bound: bool, **data):
    """``bound``: read from the request (the form just posted); otherwise shown filled with ``data``."""
    if bound:
        return form_class(prefix=prefix or "", data=data)
    return form_class(prefix=prefix or "", formdata=None, data=data)


def first_errors(*forms) -> dict[str, str]:
    """Field id -> its first message, over ``forms``: what the error summary and the fields show."""
    return {form[name].id: messages[0] for form in forms
            for name, messages in form.errors.items() if name is not None and messages}


def submit(form, change: Callable, *, done: Callable, again: Callable, message: str | None = None):
    """Validate ``form``, let ``change(form)`` make the change, then flash and redirect to ``done(result)``.

    On invalid input or a :class:`Refused` change nothing is written and
    ``again(form)`` renders the page with the form's messages (status 422).
    """
    if form.validate_on_submit():
        try:
            result = change(form)
        except Refused as refused:
            form[refused.field].errors = [*form[refused.field].errors, refused.message]
        else:
            if message:
                flash(message, "success")
            return redirect(done(result))
    return again(forget_identity_numbers(form))


def forget_identity_numbers(form):
    """Empty every text field whose value looks like a personal identity number: it is never echoed back."""
    for field in form:
        if field.type == "CSRFTokenField":
            continue  # rendered afresh, never from the data
        if isinstance(field.data, str) and looks_like_identity_number(field.data):
            field.data = ""
        if looks_like_identity_number(getattr(field, "raw_text", None)):  # a date field shows what was typed
            field.raw_text = ""
    return form
