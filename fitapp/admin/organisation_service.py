"""Districts (förvaltningar), units (enheter) and teams: create, rename, delete when unused.

Each change is one transaction with its audit event (ids and action only).
Input is checked before anything is written; a refusal raises
:class:`fitapp.admin.formkit.Refused` with a message for the form field.
A unit never changes district: its cases (person-level data) must not cross a
district boundary. Codes are fixed once created (reports and files name units
by code); names can change. Codes and names follow the one rule of
fitapp.names (no formula characters, no identity numbers), as the command line
and the import do.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from fitapp.admin.formkit import Refused, checked
from fitapp.audit import record
from fitapp.models.staff import membership_covers
from fitapp.extensions import db
from fitapp.models import District, Episode, Team, Unit, UnitMembership
from fitapp.names import CODE_MAX, NAME_MAX, code_problem, name_problem

# What refers to an organisation row, as the administrator reads it (other tables: "other records").
USES = {
    "unit": _l("units"),
    "team": _l("teams"),
    "episode": _l("cases"),
    "unit_membership": _l("staff memberships"),
    "staff": _l("quality group scopes"),
}


@dataclass(frozen=True)
class UnitRow:
    unit: Unit
    staff_today: int
    open_cases: int


@dataclass(frozen=True)
class DistrictRow:
    district: District
    units: list[UnitRow] = field(default_factory=list)


def overview(today: date) -> list[DistrictRow]:
    """Every district with its units, and per unit counts only (staff today, open cases)."""
    open_cases = dict(db.session.execute(
        select(Episode.unit_id, func.count()).where(Episode.end_date.is_(None)).group_by(Episode.unit_id)).all())
    staff_today = dict(db.session.execute(
        select(UnitMembership.unit_id, func.count(func.distinct(UnitMembership.staff_id)))
        .where(membership_covers(UnitMembership, today)).group_by(UnitMembership.unit_id)).all())
    return [
        DistrictRow(d, [UnitRow(u, staff_today.get(u.id, 0), open_cases.get(u.id, 0)) for u in d.units])
        for d in db.session.scalars(select(District).order_by(District.code))
    ]


def districts() -> list[District]:
    return list(db.session.scalars(select(District).order_by(District.name)))


# ---------------------------------------------------------------- checks


def checked_code(value: str | None, field_name: str = "code") -> str:
    """A district or unit code, stripped; refused unless fitapp.names accepts it."""
    return checked(value, field_name, code_problem, CODE_MAX)


def checked_name(value: str | None, field_name: str = "name") -> str:
    """A district, unit or team name, stripped; refused unless fitapp.names accepts it."""
    return checked(value, field_name, name_problem, NAME_MAX)


def _taken(column, value: str, *conditions, except_id: int | None = None) -> bool:
    model = column.class_
    statement = select(model.id).where(func.lower(column) == value.lower(), *conditions)
    if except_id is not None:
        statement = statement.where(model.id != except_id)
    return db.session.scalar(statement.limit(1)) is not None


def _unit_of(obj) -> int | None:
    """The unit an organisation row belongs to, for the audit event (None for a district)."""
    return obj.id if isinstance(obj, Unit) else getattr(obj, "unit_id", None)


def _save(obj, action: str, taken: Refused | None = None):
    """Write ``obj`` (new or changed) with its audit event in one transaction.

    ``taken``: the refusal when a change made at the same moment took the same code or name.
    """
    try:
        db.session.add(obj)
        db.session.flush()
        record(action, object_type=obj.__tablename__, object_id=obj.id, unit_id=_unit_of(obj))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if taken is None:
            raise
        raise taken from None
    return obj


def uses_of(obj) -> dict[str, int]:
    """Table name -> how many rows refer to ``obj`` by a foreign key (every table, also future ones)."""
    table = obj.__table__
    uses = {}
    for other in db.metadata.sorted_tables:
        for key in other.foreign_keys:
            if key.column.table is table:
                n = db.session.scalar(select(func.count()).select_from(other).where(key.parent == obj.id))
                if n:
                    uses[other.name] = uses.get(other.name, 0) + n
    return uses


def _delete_if_unused(obj, name: str, action: str) -> None:
    uses = uses_of(obj)
    if uses:
        listed = ", ".join(str(USES.get(t, _l("other records"))) for t in sorted(uses))
        raise Refused("delete", _("%(name)s is in use (%(uses)s) and cannot be deleted.", name=name, uses=listed))
    object_id, unit_id = obj.id, _unit_of(obj)
    db.session.delete(obj)
    record(action, object_type=obj.__tablename__, object_id=object_id, unit_id=unit_id)
    db.session.commit()


# ---------------------------------------------------------------- districts


def create_district(code: str, name: str) -> District:
    code, name = checked_code(code), checked_name(name)
    taken = Refused("code", _("There is already a district with the code %(code)s.", code=code))
    if _taken(District.code, code):
        raise taken
    return _save(District(code=code, name=name), "admin_create_district", taken)


def rename_district(district: District, name: str) -> District:
    district.name = checked_name(name)
    return _save(district, "admin_rename_district")


def delete_district(district: District) -> None:
    _delete_if_unused(district, district.name, "admin_delete_district")


# ---------------------------------------------------------------- units


def create_unit(code: str, name: str, district_id: int | None) -> Unit:
    code, name = checked_code(code), checked_name(name)
    district = db.session.get(District, district_id) if district_id is not None else None
    if district is None:
        raise Refused("district", _("Choose one of the options."))
    taken = Refused("code", _("There is already a unit with the code %(code)s.", code=code))
    if _taken(Unit.code, code):
        raise taken
    return _save(Unit(code=code, name=name, district=district, team_cases_visible=False), "admin_create_unit", taken)


def rename_unit(unit: Unit, name: str) -> Unit:
    unit.name = checked_name(name)
    return _save(unit, "admin_rename_unit")


def set_team_cases_visible(unit: Unit, visible: bool) -> Unit:
    """The unit's choice: therapists also see the cases of their own team (fitapp.cases.access)."""
    unit.team_cases_visible = visible
    return _save(unit, "admin_team_cases_" + ("on" if visible else "off"))


def delete_unit(unit: Unit) -> None:
    _delete_if_unused(unit, unit.name, "admin_delete_unit")


# ---------------------------------------------------------------- teams


def _team_name(unit_id: int, name: str, except_id: int | None = None) -> tuple[str, Refused]:
    name = checked_name(name)
    taken = Refused("name", _("The unit already has a team called %(name)s.", name=name))
    if _taken(Team.name, name, Team.unit_id == unit_id, except_id=except_id):
        raise taken
    return name, taken


def create_team(unit: Unit, name: str) -> Team:
    name, taken = _team_name(unit.id, name)
    return _save(Team(unit=unit, name=name), "admin_create_team", taken)


def rename_team(team: Team, name: str) -> Team:
    team.name, taken = _team_name(team.unit_id, name, except_id=team.id)
    return _save(team, "admin_rename_team", taken)


def delete_team(team: Team) -> None:
    _delete_if_unused(team, team.name, "admin_delete_team")
