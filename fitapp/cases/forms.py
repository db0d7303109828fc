"""Reading and checking the case forms: plain parsers that return clean values or messages.

The session form has fields per participant, so it is parsed by hand rather
than with a WTForms class. Every parser takes the submitted MultiDict and
returns ``(value, errors)``, ``errors`` mapping a field name to one message
that names the field and the rule broken. Messages are translated here;
templates show them next to their fields and in a summary at the top.
CSRF is checked for every POST by Flask-WTF's CSRFProtect.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _

from fitapp.cases.services import ALERT_URGENCY, CaseloadFilter
from fitapp.identity_numbers import looks_like_identity_number
from fitapp.labels import PARTICIPANT_ROLE_LABELS
from fitapp.models.cases import CORRECTION_REASONS, END_REASONS, GENDERS, NO_RATING_REASONS, PARTICIPANT_ROLES
from fitapp.scoring import (
    ALLIANCE_INSTRUMENTS, OUTCOME_INSTRUMENTS, InvalidValue, age_at, default_instrument, parse_item,
)

ITEMS = (1, 2, 3, 4)
SCALES = {"outcome": OUTCOME_INSTRUMENTS, "alliance": ALLIANCE_INSTRUMENTS}
MEMBER_ROWS = 10
# The open-case form shows this many member rows; the rest sit behind "more family members".
MEMBER_ROWS_SHOWN = 5
COLLATERAL_ROWS = 2
GENDER_NOT_RECORDED = "not_recorded"
# The gender choices of a family member's row (open-case and add-member forms).
MEMBER_GENDERS = GENDERS + (GENDER_NOT_RECORDED,)
MAX_REF_LENGTH = 64


class Errors(dict):
    """Field name -> message, in the order the problems were found."""

    def add(self, name: str, message: str) -> None:
        self.setdefault(name, message)


# ---------------------------------------------------------------- small parsers


def parse_date(form, name: str, label: str, errors: Errors, *, required: bool = True) -> date | None:
    text = (form.get(name) or "").strip()
    if not text:
        if required:
            errors.add(name, _("%(field)s: enter a date (YYYY-MM-DD).", field=label))
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.add(name, _("%(field)s: “%(value)s” is not a date; write it as YYYY-MM-DD.", field=label, value=text))
        return None


def parse_choice(form, name: str, label: str, choices, errors: Errors, *, required: bool = True) -> str | None:
    value = (form.get(name) or "").strip()
    if not value:
        if required:
            errors.add(name, _("%(field)s: choose one of the options.", field=label))
        return None
    if value not in choices:
        errors.add(name, _("%(field)s: choose one of the options.", field=label))
        return None
    return value


def parse_items(form, prefix: str, label: str, errors: Errors) -> tuple[Decimal, ...] | None:
    """Four items ``{prefix}-1`` … ``{prefix}-4``: None when all are empty (not rated).

    Comma or point as decimal sign; 0–10 with at most one decimal (metrics.md §1).
    """
    texts = [(form.get(f"{prefix}-{n}") or "").strip() for n in ITEMS]
    if not any(texts):
        return None
    values = []
    for n, text in zip(ITEMS, texts):
        name = f"{prefix}-{n}"
        item = _("%(scale)s item %(number)s", scale=label, number=n)
        if not text:
            errors.add(name, _("%(field)s: fill in all four items, or leave all four empty.", field=item))
            continue
        try:
            values.append(parse_item(text))
        except InvalidValue as problem:
            errors.add(name, _item_message(problem.code, item, text))
    return tuple(values) if len(values) == len(ITEMS) else None


def _item_message(code: str, item: str, text: str) -> str:
    if code == "out_of_range":
        return _("%(field)s: %(value)s is outside 0–10.", field=item, value=text)
    if code == "too_many_decimals":
        return _("%(field)s: %(value)s has more than one decimal.", field=item, value=text)
    return _("%(field)s: “%(value)s” is not a number; write for example 7,5.", field=item, value=text)


def person_label(ref: str, role: str) -> str:
    return f"{ref} ({PARTICIPANT_ROLE_LABELS[role]})"


# ---------------------------------------------------------------- log a session


@dataclass(frozen=True)
class ScaleInput:
    instrument: str
    items: tuple[Decimal, ...]


@dataclass(frozen=True)
class AttendeeInput:
    participant_id: int
    outcome: ScaleInput | None
    alliance: ScaleInput | None
    no_rating_reason: str | None


@dataclass(frozen=True)
class CollateralInput:
    subject_id: int
    rater_id: int
    scale: ScaleInput


@dataclass(frozen=True)
class SessionInput:
    date: date
    attendees: tuple[AttendeeInput, ...]
    collateral: tuple[CollateralInput, ...]
    # The form's random key (see new_submission_key); None when the form sent none or a malformed one.
    submission_key: str | None = None


@dataclass(frozen=True)
class FormPerson:
    """What the session form needs to know about a participant."""

    participant_id: int
    ref: str
    role: str
    birth_year: int | None

    @property
    def label(self) -> str:
        return person_label(self.ref, self.role)


def new_submission_key() -> str:
    """A random key for one rendering of the session form: a save sent twice is stored once."""
    return str(uuid.uuid4())


def parse_submission_key(form) -> str | None:
    """The form's key in canonical form, or None when it is missing or not a UUID.

    A form without a usable key (an old page, a script) is still saved, as a new
    submission: only a key proves that two requests are the same submission.
    """
    text = (form.get("submission_key") or "").strip()
    try:
        return str(uuid.UUID(text)) if len(text) == 36 else None
    except ValueError:
        return None


def session_defaults(people: list[FormPerson], day: date) -> dict[str, str]:
    """Initial values: today's date, everyone present, instruments by age (metrics.md §1)."""
    values = {"date": day.isoformat()}
    for person in people:
        pid = person.participant_id
        values[f"present-{pid}"] = "1"
        age = age_at(day, person.birth_year)
        for scale in SCALES:
            values[f"{scale}-{pid}-instrument"] = default_instrument(age, scale)
    for row in range(1, COLLATERAL_ROWS + 1):
        values[f"collateral-{row}-instrument"] = ""
    return values


def parse_session(form, people: list[FormPerson], episode_start: date, today: date) -> tuple[SessionInput | None, Errors]:
    errors = Errors()
    day = parse_date(form, "date", _("Date"), errors)
    if day is not None and day < episode_start:
        errors.add("date", _("Date: cannot be before the case started (%(date)s).", date=episode_start.isoformat()))
    elif day is not None and day > today:
        errors.add("date", _("Date: cannot be in the future."))
    attendees = []
    for person in people:
        attendee = _parse_attendee(form, person, errors)
        if attendee is not None:
            attendees.append(attendee)
    if not attendees and not any(k.startswith("present-") for k in errors):
        errors.add("present", _("Present: tick at least one person who took part in the session."))
    present = {a.participant_id for a in attendees}
    collateral = _parse_collateral(form, people, present, errors, day or today)
    if errors:
        return None, errors
    return SessionInput(day, tuple(attendees), tuple(collateral), parse_submission_key(form)), errors


def _parse_attendee(form, person: FormPerson, errors: Errors) -> AttendeeInput | None:
    pid = person.participant_id
    present = form.get(f"present-{pid}") == "1"
    scales = {}
    for scale, instruments in SCALES.items():
        prefix = f"{scale}-{pid}"
        instrument = (form.get(f"{prefix}-instrument") or "").strip()
        if instrument not in instruments:
            scale_noun = _("the outcome scale") if scale == "outcome" else _("the alliance scale")
            errors.add(f"{prefix}-instrument", _("%(person)s: choose a form for %(scale)s.",
                                                 person=person.label, scale=scale_noun))
            instrument = None
        items = parse_items(form, prefix, f"{person.ref} {instrument or _scale_name(scale)}", errors)
        if items is not None and instrument is not None:
            scales[scale] = ScaleInput(instrument, items)
        elif items is not None or _typed(form, prefix):
            scales[scale] = "invalid"
    if not present:
        if scales:
            errors.add(f"present-{pid}", _("%(person)s: has ratings but is not ticked as present.",
                                           person=person.label))
        return None
    reason = parse_choice(form, f"reason-{pid}", _("%(person)s: reason for not rating", person=person.label),
                          NO_RATING_REASONS, errors, required=False)
    if len(scales) < len(SCALES) and reason is None and f"reason-{pid}" not in errors:
        missing = [_scale_name(s) for s in SCALES if s not in scales]
        errors.add(f"reason-{pid}", _("%(person)s: no %(scale)s rating; choose a reason why, or fill in the scale.",
                                      person=person.label, scale=" / ".join(missing)))
    valid = {k: v for k, v in scales.items() if v != "invalid"}
    return AttendeeInput(pid, valid.get("outcome"), valid.get("alliance"),
                         reason if len(scales) < len(SCALES) else None)


def _typed(form, prefix: str) -> bool:
    return any((form.get(f"{prefix}-{n}") or "").strip() for n in ITEMS)


def _scale_name(scale: str) -> str:
    return _("outcome") if scale == "outcome" else _("alliance")


def _parse_collateral(form, people: list[FormPerson], present: set[int], errors: Errors,
                      day: date) -> list[CollateralInput]:
    by_id = {str(p.participant_id): p for p in people}
    found, seen = [], set()
    for row in range(1, COLLATERAL_ROWS + 1):
        prefix = f"collateral-{row}"
        label = _("Rating of someone else, row %(row)s", row=row)
        subject_key = (form.get(f"{prefix}-subject") or "").strip()
        rater_key = (form.get(f"{prefix}-rater") or "").strip()
        typed = _typed(form, prefix)
        if not (subject_key or rater_key or typed):
            continue
        subject = by_id.get(subject_key)
        rater = by_id.get(rater_key)
        if subject is None:
            errors.add(f"{prefix}-subject", _("%(field)s: choose who is rated.", field=label))
        if rater is None:
            errors.add(f"{prefix}-rater", _("%(field)s: choose who rates.", field=label))
        elif rater.participant_id not in present:
            errors.add(f"{prefix}-rater", _("%(field)s: the person who rates must be ticked as present.", field=label))
        if subject is not None and rater is not None and subject is rater:
            errors.add(f"{prefix}-rater", _("%(field)s: a rating of someone else needs two different people; "
                                            "a person's own rating goes in their own row.", field=label))
        instrument = (form.get(f"{prefix}-instrument") or "").strip()
        if not instrument and subject is not None:
            # Not chosen: the outcome form for the subject's age, as for their own rating.
            instrument = default_instrument(age_at(day, subject.birth_year), "outcome")
        if instrument not in OUTCOME_INSTRUMENTS + ALLIANCE_INSTRUMENTS:
            errors.add(f"{prefix}-instrument", _("%(field)s: choose a form.", field=label))
        items = parse_items(form, prefix, label, errors)
        if items is None and f"{prefix}-1" not in errors and not any(f"{prefix}-{n}" in errors for n in ITEMS):
            errors.add(f"{prefix}-1", _("%(field)s: fill in the four items.", field=label))
        if subject is None or rater is None or items is None or subject is rater:
            continue
        key = (subject.participant_id, rater.participant_id, instrument)
        if key in seen:
            errors.add(f"{prefix}-subject", _("%(field)s: the same rating is entered twice.", field=label))
            continue
        seen.add(key)
        found.append(CollateralInput(subject.participant_id, rater.participant_id, ScaleInput(instrument, items)))
    return found


def live_totals(values, people: list[FormPerson]) -> dict[str, str]:
    """Totals of the scales whose four items are valid, as the server sees them (no JS needed)."""
    totals = {}
    prefixes = [f"{s}-{p.participant_id}" for p in people for s in SCALES]
    prefixes += [f"collateral-{row}" for row in range(1, COLLATERAL_ROWS + 1)]
    for prefix in prefixes:
        try:
            items = [parse_item(values.get(f"{prefix}-{n}") or "") for n in ITEMS]
        except InvalidValue:
            continue
        totals[prefix] = sum(items, Decimal("0.0"))
    return totals


# ---------------------------------------------------------------- open a case


@dataclass(frozen=True)
class MemberInput:
    role: str
    birth_year: int | None
    gender: str | None
    existing_ref: str | None


@dataclass(frozen=True)
class OpenCaseInput:
    unit_id: int
    intervention_id: int
    referral_date: date | None
    start_date: date
    members: tuple[MemberInput, ...] = field(default_factory=tuple)


def parse_open_case(form, intervention_ids: set[int], unit_ids: list[int], today: date
                    ) -> tuple[OpenCaseInput | None, Errors]:
    errors = Errors()
    unit_id = unit_ids[0] if len(unit_ids) == 1 else _int_choice(form, "unit", _("Unit"), set(unit_ids), errors)
    intervention_id = _int_choice(form, "intervention", _("Intervention"), intervention_ids, errors)
    referral = parse_date(form, "referral_date", _("Referral date"), errors, required=False)
    start = parse_date(form, "start_date", _("Start date"), errors)
    if start is not None and start > today:
        errors.add("start_date", _("Start date: cannot be in the future."))
    if start is not None and referral is not None and referral > start:
        errors.add("referral_date", _("Referral date: cannot be after the start date."))
    members = []
    for row in range(1, MEMBER_ROWS + 1):
        member = _parse_member(form, row, today, errors)
        if member is not None:
            members.append(member)
    if not any(m.role == "index" for m in members) and not any(k.startswith("member-") for k in errors):
        errors.add("member-1-role", _("Family members: add at least one child or young person (role "
                                      "“child or young person”)."))
    refs = [m.existing_ref.lower() for m in members if m.existing_ref]
    if len(refs) != len(set(refs)):
        errors.add("member-1-existing_ref", _("Family members: the same person reference is given twice."))
    if errors:
        return None, errors
    return OpenCaseInput(unit_id, intervention_id, referral, start, tuple(members)), errors


def _int_choice(form, name: str, label: str, allowed: set[int], errors: Errors) -> int | None:
    text = (form.get(name) or "").strip()
    if not text.isdigit() or int(text) not in allowed:
        errors.add(name, _("%(field)s: choose one of the options.", field=label))
        return None
    return int(text)


def parse_new_member(form, row: int, today: date) -> tuple[MemberInput | None, Errors]:
    """The add-member form: one family member, its fields named as row ``row`` of the open form."""
    errors = Errors()
    member = _parse_member(form, row, today, errors)
    if member is None and not errors:
        errors.add(f"member-{row}-role", _("%(field)s: choose a role.", field=_("Family member %(row)s", row=row)))
    return (None if errors else member), errors


def warnings_key(warnings) -> str:
    """What the therapist confirmed: the warnings shown, so a confirmation holds only for them
    (a changed form with new warnings is shown again)."""
    return "|".join(f"{w.row}:{w.kind}:{w.ref}:{w.typed}" for w in warnings)


def warnings_accepted(form, warnings) -> bool:
    return form.get("accept_warnings") == warnings_key(warnings)


def _parse_member(form, row: int, today: date, errors: Errors) -> MemberInput | None:
    prefix = f"member-{row}"
    label = _("Family member %(row)s", row=row)
    role = (form.get(f"{prefix}-role") or "").strip()
    year_text = (form.get(f"{prefix}-birth_year") or "").strip()
    gender = (form.get(f"{prefix}-gender") or "").strip()
    existing = (form.get(f"{prefix}-existing_ref") or "").strip()
    if not (role or year_text or existing or gender not in ("", GENDER_NOT_RECORDED)):
        return None
    if role not in PARTICIPANT_ROLES:
        errors.add(f"{prefix}-role", _("%(field)s: choose a role.", field=label))
    birth_year = None
    if year_text:
        if not (year_text.isascii() and year_text.isdigit()) or not 1900 <= int(year_text) <= today.year:
            errors.add(f"{prefix}-birth_year", _("%(field)s: the birth year must be four digits between 1900 "
                                                 "and %(year)s.", field=label, year=today.year))
        else:
            birth_year = int(year_text)
    if gender and gender != GENDER_NOT_RECORDED and gender not in GENDERS:
        errors.add(f"{prefix}-gender", _("%(field)s: choose one of the options.", field=label))
    if existing:
        if looks_like_identity_number(existing):
            errors.add(f"{prefix}-existing_ref", _("%(field)s: this looks like a personal identity number. Never "
                                                   "enter identity numbers; give the person reference from fitapp.",
                                                   field=label))
        elif len(existing) > MAX_REF_LENGTH:
            errors.add(f"{prefix}-existing_ref", _("%(field)s: a person reference has at most %(max)s characters.",
                                                   field=label, max=MAX_REF_LENGTH))
    return MemberInput(role, birth_year, gender if gender in GENDERS else None, existing or None)


# ---------------------------------------------------------------- corrections, deletion, closing, reassigning


@dataclass(frozen=True)
class RatingCorrection:
    items: tuple[Decimal, ...]
    reason: str


def parse_rating_correction(form, label: str, current: tuple[Decimal, ...]) -> tuple[RatingCorrection | None, Errors]:
    errors = Errors()
    items = parse_items(form, "item", label, errors)
    if items is None and not errors:
        errors.add("item-1", _("%(field)s: fill in the four items.", field=label))
    reason = parse_choice(form, "reason", _("Reason for the correction"), CORRECTION_REASONS, errors)
    if items is not None and tuple(items) == tuple(current):
        errors.add("item-1", _("%(field)s: the values are the same as before; nothing to correct.", field=label))
    if errors:
        return None, errors
    return RatingCorrection(items, reason), errors


def parse_session_correction(form, current: date, episode_start: date, today: date
                             ) -> tuple[tuple[date, str] | None, Errors]:
    errors = Errors()
    day = parse_date(form, "date", _("Date"), errors)
    if day is not None and day < episode_start:
        errors.add("date", _("Date: cannot be before the case started (%(date)s).", date=episode_start.isoformat()))
    elif day is not None and day > today:
        errors.add("date", _("Date: cannot be in the future."))
    elif day is not None and day == current:
        errors.add("date", _("Date: the same as before; nothing to correct."))
    reason = parse_choice(form, "reason", _("Reason for the correction"), CORRECTION_REASONS, errors)
    if errors:
        return None, errors
    return (day, reason), errors


def parse_deletion(form) -> tuple[str | None, Errors]:
    errors = Errors()
    reason = parse_choice(form, "reason", _("Reason for deleting"), CORRECTION_REASONS, errors)
    return reason, errors


@dataclass(frozen=True)
class CloseInput:
    end_date: date
    end_reason: str
    child_no_rating_reason: str | None


def parse_close(form, start: date, last_session: date | None, today: date) -> tuple[CloseInput | None, Errors]:
    errors = Errors()
    end = parse_date(form, "end_date", _("End date"), errors)
    if end is not None and end < start:
        errors.add("end_date", _("End date: cannot be before the case started (%(date)s).", date=start.isoformat()))
    elif end is not None and last_session is not None and end < last_session:
        errors.add("end_date", _("End date: cannot be before the last session (%(date)s).",
                                 date=last_session.isoformat()))
    elif end is not None and end > today:
        errors.add("end_date", _("End date: cannot be in the future."))
    reason = parse_choice(form, "end_reason", _("End reason"), END_REASONS, errors)
    took_part = parse_choice(form, "child_took_part", _("Did the child or young person take part?"),
                             ("yes", "no"), errors)
    child_reason = None
    if took_part == "no":
        child_reason = parse_choice(form, "child_reason", _("Reason the child or young person did not take part"),
                                    NO_RATING_REASONS, errors)
    if errors:
        return None, errors
    return CloseInput(end, reason, child_reason), errors


def parse_reassign(form, therapist_ids: set[int], current: int) -> tuple[int | None, Errors]:
    errors = Errors()
    chosen = _int_choice(form, "therapist", _("New therapist"), therapist_ids, errors)
    if chosen is not None and chosen == current:
        errors.add("therapist", _("New therapist: the case already belongs to this therapist."))
    return (None if errors else chosen), errors


# ---------------------------------------------------------------- caseload search


SEARCH_MAX_LENGTH = 40


def parse_caseload_filter(args) -> CaseloadFilter:
    """The caseload's search form (GET): a value it does not know is left out, never an error,
    so an old bookmark still opens the list."""
    alert = args.get("alert", "")
    return CaseloadFilter(
        search=args.get("q", "").strip()[:SEARCH_MAX_LENGTH],
        alert=alert if alert == "any" or alert in ALERT_URGENCY else "",
        therapist_id=_positive_int(args.get("therapist")),
        closed_page=_positive_int(args.get("page")) or 1,
    )


def _positive_int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() and 0 < int(text) < 2**31 else None
