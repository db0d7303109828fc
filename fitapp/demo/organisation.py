"""The demo organisation: three districts, two units each, their teams and staff.

Fixed data rather than random draws, so that the printed logins and the unit
codes stay the same for every seed. Membership dates are offsets from the
demo's "today", so the history always looks recent.
"""
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

# One password for every demo login: the demo is for trying the app, not for real use.
DEMO_PASSWORD = "demo-fitapp-2026"

# A unit's focus decides its children's ages and its intervention mix.
FAMILY, YOUTH = "family", "youth"

# Long enough before the two years of cases that everyone is in place from the start.
LONG_AGO_DAYS = 3 * 365
MOVE_DAYS_AGO = 365
NEW_HIRE_DAYS_AGO = 330


@dataclass(frozen=True)
class DistrictSpec:
    code: str
    name: str


@dataclass(frozen=True)
class UnitSpec:
    code: str
    name: str
    district_code: str
    focus: str
    teams: tuple[str, ...]
    # Episodes at scale 1.0, before returning children are added.
    base_episodes: int


@dataclass(frozen=True)
class MembershipSpec:
    unit_code: str
    team_name: str | None
    from_days_ago: int
    # None: the membership is still open.
    to_days_ago: int | None = None

    def valid_from(self, today: date) -> date:
        return today - timedelta(days=self.from_days_ago)

    def valid_to(self, today: date) -> date | None:
        return None if self.to_days_ago is None else today - timedelta(days=self.to_days_ago)

    def covers(self, day: date, today: date) -> bool:
        end = self.valid_to(today)
        return self.valid_from(today) <= day and (end is None or day <= end)


@dataclass(frozen=True)
class StaffSpec:
    username: str
    role: str
    memberships: tuple[MembershipSpec, ...] = ()
    # Only accounts with a description get the demo password and are printed as logins.
    login_description: str | None = None
    # Relative share of new cases among the therapists of a unit.
    caseload_weight: float = 1.0

    @property
    def can_log_in(self) -> bool:
        return self.login_description is not None


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    description: str


DISTRICTS = (
    DistrictSpec("NORR", "Norrmalms stadsdelsförvaltning"),
    DistrictSpec("SODER", "Södermalms stadsdelsförvaltning"),
    DistrictSpec("VASTER", "Västerorts stadsdelsförvaltning"),
)

UNITS = (
    UnitSpec("NO-FAM", "Familjeenheten Norr", "NORR", FAMILY, ("Team Barn", "Team Föräldraskap"), 80),
    UnitSpec("NO-UNG", "Ungdomsenheten Norr", "NORR", YOUTH, ("Team Ungdom",), 62),
    UnitSpec("SO-FAM", "Familjeenheten Söder", "SODER", FAMILY, ("Team Barn", "Team Föräldraskap"), 72),
    UnitSpec("SO-UNG", "Ungdomsenheten Söder", "SODER", YOUTH, ("Team Ungdom", "Team Hemmasittare"), 60),
    UnitSpec("VA-FAM", "Familjeenheten Väster", "VASTER", FAMILY, ("Team Familj",), 66),
    UnitSpec("VA-UNG", "Ungdomsenheten Väster", "VASTER", YOUTH, ("Team Ungdom", "Team Hemmasittare"), 56),
)


def _therapist(number: int, unit: UnitSpec, team_index: int, *, from_days_ago: int,
               login: str | None = None, caseload_weight: float = 1.0) -> StaffSpec:
    team = unit.teams[team_index % len(unit.teams)]
    return StaffSpec(
        username=f"behandlare{number}",
        role="therapist",
        memberships=(MembershipSpec(unit.code, team, from_days_ago),),
        login_description=login,
        caseload_weight=caseload_weight,
    )


def _therapists() -> list[StaffSpec]:
    """Four therapists per unit, plus the history cases: one moved, one replaced them."""
    by_code = {unit.code: unit for unit in UNITS}
    staff = []
    number = 1
    for unit in UNITS:
        # Norr's youth unit has three here: its fourth place is the mover's, then the new hire's.
        for team_index in range(4 if unit.code != "NO-UNG" else 3):
            login = None
            weight = 1.0
            if number == 1:
                # The printed therapist login should open onto a full list of cases.
                login = "therapist (behandlare), Familjeenheten Norr, many open cases"
                weight = 3.5
            # Staggered start dates, all before the two years of cases.
            staff.append(_therapist(number, unit, team_index, from_days_ago=LONG_AGO_DAYS + 7 * number,
                                    login=login, caseload_weight=weight))
            number += 1
    no_ung, so_fam = by_code["NO-UNG"], by_code["SO-FAM"]
    # Moved from Norr's youth unit to Söder's family unit a year ago: history to show.
    staff.append(StaffSpec(
        username=f"behandlare{number}",
        role="therapist",
        memberships=(
            MembershipSpec(no_ung.code, no_ung.teams[0], LONG_AGO_DAYS + 40, MOVE_DAYS_AGO + 1),
            MembershipSpec(so_fam.code, so_fam.teams[0], MOVE_DAYS_AGO),
        ),
        login_description="therapist, moved from Ungdomsenheten Norr to Familjeenheten Söder a year ago",
    ))
    # Their replacement in Norr's youth unit started a month later.
    staff.append(_therapist(number + 1, no_ung, 0, from_days_ago=NEW_HIRE_DAYS_AGO))
    return staff


def _unit_heads() -> list[StaffSpec]:
    heads = []
    for district in DISTRICTS:
        units = [unit for unit in UNITS if unit.district_code == district.code]
        login = "unit head (enhetschef), both units of Norrmalm" if district.code == "NORR" else None
        heads.append(StaffSpec(
            username=f"chef.{district.code.lower()}",
            role="unit_head",
            memberships=tuple(MembershipSpec(unit.code, None, LONG_AGO_DAYS + 200) for unit in units),
            login_description=login,
        ))
    return heads


@cache
def staff_specs() -> tuple[StaffSpec, ...]:
    """Every demo account, in the order they are created."""
    return (
        *_therapists(),
        *_unit_heads(),
        # City-wide roles: no unit memberships.
        StaffSpec("kvalitet", "quality", login_description="quality group (kvalitetsgrupp), whole city, aggregates"),
        StaffSpec("admin", "admin", login_description="administrator (administratör): organisation, staff, catalogue, norm sets, retention; no clinical data"),
    )


def demo_logins() -> list[DemoLogin]:
    """The accounts `fill_demo` gives a password, with that password."""
    return [
        DemoLogin(spec.username, DEMO_PASSWORD, spec.login_description)
        for spec in staff_specs()
        if spec.can_log_in
    ]


def therapists_of(unit_code: str) -> list[StaffSpec]:
    return [
        spec for spec in staff_specs()
        if spec.role == "therapist" and any(m.unit_code == unit_code for m in spec.memberships)
    ]
