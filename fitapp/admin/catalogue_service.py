"""The intervention catalogue (insatskatalog): add, rename, deactivate, reactivate, delete while unused.

Codes are fixed once created: reports, breakdowns and exported files name an
intervention by its code. An inactive intervention is not offered when a case
is opened but stays on the cases that have it. Each change is one transaction
with its audit event (ids and action only). Codes and names follow the one
rule of fitapp.names (codes here in capitals), as the import does.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from fitapp.admin.formkit import Refused, checked, name_message
from fitapp.audit import record
from fitapp.extensions import db
from fitapp.models import Episode, Intervention
from fitapp.models.catalogue import INTERVENTION_KINDS
from fitapp.names import CODE_CHARACTERS, CODE_MAX, NAME_MAX, code_problem, name_problem


@dataclass(frozen=True)
class CatalogueRow:
    intervention: Intervention
    cases: int  # how many cases have it: a count, never which


def catalogue() -> list[CatalogueRow]:
    """Every intervention, active ones first, by name, with the number of cases that have it."""
    counts = dict(db.session.execute(
        select(Episode.intervention_id, func.count()).group_by(Episode.intervention_id)).all())
    interventions = db.session.scalars(
        select(Intervention).order_by(Intervention.is_active.desc(), Intervention.name, Intervention.code))
    return [CatalogueRow(i, counts.get(i.id, 0)) for i in interventions]


def intervention_or_none(intervention_id: int) -> Intervention | None:
    return db.session.get(Intervention, intervention_id)


def cases_with(intervention: Intervention) -> int:
    return db.session.scalar(select(func.count()).select_from(Episode).where(Episode.intervention_id == intervention.id))


def add_intervention(code: str, name: str, kind: str) -> Intervention:
    code = (code or "").strip().upper()
    problem = code_problem(code)
    if problem == CODE_CHARACTERS:
        raise Refused("code", _("Use capital letters, digits, - and _ (at most 40), e.g. FAMBEH."))
    if problem is not None:
        raise Refused("code", name_message(problem, CODE_MAX))
    name = _checked_name(name)
    if db.session.scalar(select(Intervention.id).where(func.upper(Intervention.code) == code)) is not None:
        raise Refused("code", _("The code %(code)s is already in the catalogue.", code=code))
    _check_kind(kind)
    intervention = Intervention(code=code, name=name, kind=kind, is_active=True)
    db.session.add(intervention)
    db.session.flush()
    record("admin_add_intervention", object_type="intervention", object_id=intervention.id)
    db.session.commit()
    return intervention


def update_intervention(intervention: Intervention, name: str, kind: str) -> bool:
    """Rename and re-kind; False when nothing changed (and nothing is audited)."""
    name = _checked_name(name)
    _check_kind(kind)
    if (intervention.name, intervention.kind) == (name, kind):
        return False
    intervention.name, intervention.kind = name, kind
    record("admin_update_intervention", object_type="intervention", object_id=intervention.id)
    db.session.commit()
    return True


def set_active(intervention: Intervention, active: bool) -> bool:
    """Offer the intervention for new cases or not; False when it already was so."""
    if intervention.is_active == active:
        return False
    intervention.is_active = active
    action = "admin_reactivate_intervention" if active else "admin_deactivate_intervention"
    record(action, object_type="intervention", object_id=intervention.id)
    db.session.commit()
    return True


def delete_intervention(intervention: Intervention) -> None:
    """Only an intervention no case has ever had: one that was used can be deactivated instead."""
    if cases_with(intervention):
        raise Refused("intervention", _("%(code)s is used by cases and cannot be deleted; deactivate it instead.",
                                        code=intervention.code))
    record("admin_delete_intervention", object_type="intervention", object_id=intervention.id)
    db.session.delete(intervention)
    db.session.commit()


def _checked_name(name: str | None) -> str:
    return checked(name, "name", name_problem, NAME_MAX)


def _check_kind(kind: str) -> None:
    if kind not in INTERVENTION_KINDS:
        raise Refused("kind", _("Choose one of the options."))
