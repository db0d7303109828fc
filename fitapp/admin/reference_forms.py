"""Forms of the catalogue, norm set and instrument label pages (Flask-WTF: CSRF on every POST).

The forms check what one field can say about itself (required, length,
number format, no identity numbers); rules that need the database or the whole
set (unique codes, overlapping age bands) are the services' and come back as
:class:`fitapp.admin.formkit.Refused`. Every message is ours, translated.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, SelectChoice, StringField, TextAreaField
from wtforms.validators import StopValidation, ValidationError

from fitapp.admin.formkit import ChoiceField
from fitapp.identity_numbers import looks_like_identity_number
from fitapp.instrument_labels import ITEMS, MAX_LABEL_LENGTH
from fitapp.models.catalogue import INTERVENTION_KINDS
from fitapp.scoring.instruments import ALL_INSTRUMENTS, OUTCOME_INSTRUMENTS, SCORED_INSTRUMENTS

NORM_ROWS = 6  # rows offered when a set is entered; the published sets have three
NORM_INSTRUMENTS = tuple(code for code in OUTCOME_INSTRUMENTS if code in SCORED_INSTRUMENTS)
KIND_LABELS = {"bistånd": _l("by decision (biståndsbedömd)"), "service": _l("service (no prior investigation)"),
               "båda": _l("both")}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _required(form, field) -> None:
    if not field.data:
        raise StopValidation(_l("Fill in this field."))


def _no_identity_number(form, field) -> None:
    if looks_like_identity_number(field.data):
        raise ValidationError(_l("This looks like a personal identity number. Never enter identity numbers."))


def _max_length(limit: int):
    def check(form, field) -> None:
        if field.data and len(field.data) > limit:
            raise ValidationError(_l("At most %(max)s characters.", max=limit))
    return check


def _text(label, limit: int, *, required: bool = True, field=StringField):
    checks = ([_required] if required else []) + [_max_length(limit), _no_identity_number]
    return field(label, validators=checks, filters=[_strip])


class NumberField(StringField):
    """A decimal number typed with comma or point, at most ``places`` decimals, within [low, high].

    ``data`` is a ``Decimal`` (None when empty); the text is shown back as typed.
    """

    def __init__(self, label=None, validators=None, *, places: int, low: Decimal, high: Decimal,
                 above_low: bool = False, below_high: bool = False, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.places, self.low, self.high = places, low, high
        self.above_low, self.below_high = above_low, below_high

    def process_formdata(self, valuelist):
        self.raw_text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if self.raw_text:
            try:
                number = Decimal(self.raw_text.replace(",", "."))
            except InvalidOperation:
                number = None
            if number is None or not number.is_finite() or "e" in self.raw_text.lower():
                raise ValueError(_l("“%(value)s” is not a number; write for example 25,5.", value=self.raw_text))
            self.data = number

    def pre_validate(self, form):
        number = self.data
        if number is None:
            return
        if -number.as_tuple().exponent > self.places:
            raise StopValidation(_l("At most %(places)s decimals.", places=self.places) if self.places
                                 else _l("Write a whole number."))
        too_low = number <= self.low if self.above_low else number < self.low
        too_high = number >= self.high if self.below_high else number > self.high
        if too_low or too_high:
            raise StopValidation(self._range_message())

    def _range_message(self):
        low, high = _plain(self.low), _plain(self.high)
        if self.above_low and self.below_high:
            return _l("Must be above %(low)s and below %(high)s.", low=low, high=high)
        if self.above_low:
            return _l("Must be above %(low)s and at most %(high)s.", low=low, high=high)
        if self.below_high:
            return _l("Must be from %(low)s and below %(high)s.", low=low, high=high)
        return _l("Must be from %(low)s to %(high)s.", low=low, high=high)

    def _value(self):
        return getattr(self, "raw_text", None) or ("" if self.data is None else str(self.data))


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f")


# ---------------------------------------------------------------- intervention catalogue


class InterventionEditForm(FlaskForm):
    name = _text(_l("Name"), 200)
    kind = ChoiceField(_l("Kind"), choices=[SelectChoice(k, KIND_LABELS[k]) for k in INTERVENTION_KINDS])


class InterventionForm(InterventionEditForm):
    code = _text(_l("Code"), 40)


# ---------------------------------------------------------------- norm sets


def _number(label, *, places: int, low: str, high: str, **kwargs):
    return NumberField(label, places=places, low=Decimal(low), high=Decimal(high), **kwargs)


class _BandForm(Form):
    """Instrument and age band of one row of a norm set (metrics.md §2); all empty = an unused row."""

    instrument = ChoiceField(_l("Instrument"), required=False,
                             choices=[SelectChoice("", "–")] + [SelectChoice(code) for code in NORM_INSTRUMENTS])
    min_age = _number(_l("From age"), places=0, low="0", high="120")
    max_age = _number(_l("To age"), places=0, low="0", high="120")
    includes_unknown_age = BooleanField(_l("Also when the age is unknown"))

    numbers: tuple[str, ...] = ()

    def is_blank(self) -> bool:
        return not self.instrument.data and all(
            not getattr(self[name], "raw_text", "") for name in ("min_age", "max_age", *self.numbers))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.is_blank():
            return valid
        for name in ("instrument", *self.numbers):
            if not self[name].errors and self[name].data is None:
                self[name].errors = [*self[name].errors, _l("Fill in this field.")]
                valid = False
        low, high = self.min_age.data, self.max_age.data
        if low is not None and high is not None and low > high:
            self.max_age.errors = [*self.max_age.errors, _l("The age band ends before it starts.")]
            valid = False
        return valid

    def band(self) -> dict:
        return {"instrument": self.instrument.data, "min_age": _int(self.min_age.data),
                "max_age": _int(self.max_age.data), "includes_unknown_age": self.includes_unknown_age.data}


def _int(value: Decimal | None) -> int | None:
    return None if value is None else int(value)


class ParameterRowForm(_BandForm):
    cutoff = _number(_l("Cutoff"), places=2, low="0", high="40")
    rc = _number(_l("Reliable change"), places=2, low="0", high="40", above_low=True)
    numbers = ("cutoff", "rc")


class SampleRowForm(_BandForm):
    """Sample statistics from which Jacobson & Truax give cutoff and RC (metrics.md §2)."""

    m1 = _number(_l("Mean, clinical sample (M1)"), places=4, low="0", high="40")
    sd1 = _number(_l("SD, clinical sample (SD1)"), places=4, low="0", high="40", above_low=True)
    m0 = _number(_l("Mean, non-clinical sample (M0)"), places=4, low="0", high="40")
    sd0 = _number(_l("SD, non-clinical sample (SD0)"), places=4, low="0", high="40", above_low=True)
    r = _number(_l("Test-retest reliability (r)"), places=4, low="0", high="1", below_high=True)
    numbers = ("m1", "sd1", "m0", "sd0", "r")

    def sample(self) -> dict:
        return {**self.band(), **{name: self[name].data for name in self.numbers}}


class _NormSetForm(FlaskForm):
    key = _text(_l("Key"), 40)
    name = _text(_l("Name"), 200)
    source = _text(_l("Source"), 1000, field=TextAreaField)

    def used_rows(self) -> list:
        return [entry.form for entry in self.rows if not entry.form.is_blank()]

    def field_of_used_row(self, field_id: str) -> str:
        """"rows-1-cutoff" about the second *used* row -> the id of that field in the form's rows."""
        _rows, position, name = field_id.split("-", 2)
        used = [entry for entry in self.rows if not entry.form.is_blank()] or self.rows.entries
        return f"{used[int(position)].name}-{name}"


class NormSetForm(_NormSetForm):
    rows = FieldList(FormField(ParameterRowForm), min_entries=NORM_ROWS, max_entries=NORM_ROWS)


class ComputedNormSetForm(_NormSetForm):
    rows = FieldList(FormField(SampleRowForm), min_entries=NORM_ROWS, max_entries=NORM_ROWS)


# ---------------------------------------------------------------- instrument labels


def label_field_name(instrument: str, item: int) -> str:
    return f"{instrument}_{item}"


class InstrumentLabelsForm(FlaskForm):
    """One text per instrument and item; empty = no licensed text (the app shows "Del N")."""

    def labels(self) -> dict[tuple[str, int], str | None]:
        return {(code, n): self[label_field_name(code, n)].data or None for code in ALL_INSTRUMENTS for n in ITEMS}


for _code in ALL_INSTRUMENTS:
    for _n in ITEMS:
        setattr(InstrumentLabelsForm, label_field_name(_code, _n),
                _text(_l("%(instrument)s, item %(number)s", instrument=_code, number=_n), MAX_LABEL_LENGTH,
                      required=False))
