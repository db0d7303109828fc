"""`flask demo`: fill an empty database with the demo organisation and caseload.

The plan is made in memory first (`families.plan_demo`, pure and seeded), then
written in one transaction with Core executemany inserts in dependency order.
Thousands of ratings go in per statement, so the whole demo takes seconds even
on SQLite; ids come back from RETURNING in parameter order, which SQLAlchemy
guarantees on both SQLite and PostgreSQL.
"""
import time
from dataclasses import dataclass, field
from datetime import date, datetime, time as clock, timezone

from sqlalchemy import Table, func, select

from fitapp import audit
from fitapp.auth.passwords import hash_password
from fitapp.demo.families import DemoPlan, EpisodePlan, demo_intervention_codes, plan_demo
from fitapp.demo.organisation import DEMO_PASSWORD, DISTRICTS, UNITS, DemoLogin, staff_specs
from fitapp.demo.organisation import demo_logins as _demo_logins
from fitapp.extensions import db
from fitapp.models import (
    Attendance, District, Episode, Intervention, Participant, Person, Rating, Session, Staff, Team, Unit,
    UnitMembership,
)
from fitapp.models._types import utcnow
from fitapp.norms_service import NoActiveNormSet, active_norm_set
from fitapp.reports.series_store import refresh_series

__all__ = ["DemoRefused", "DemoResult", "demo_logins", "fill_demo"]

# Believable times of day for the timestamps of planned rows (the demo has no clock of its own).
REGISTERED_AT = clock(9, 0)
RATED_AT = clock(15, 0)


class DemoRefused(RuntimeError):
    """The database already has data; the demo only fills an empty one."""


@dataclass(frozen=True)
class DemoResult:
    created: bool
    today: date
    seed: int
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    # When nothing was created: whether the existing data is this demo's.
    demo_already_there: bool = False

    def summary(self) -> str:
        c = self.counts
        if not self.created:
            found = _describe_existing(c)
            if self.demo_already_there:
                return f"Demo data is already there ({found}): nothing added."
            return f"The database already has data ({found}): demo data not added."
        return (
            f"Demo data created for {self.today.isoformat()} (seed {self.seed}) in {self.seconds:.1f} s: "
            f"{c['districts']} districts, {c['units']} units, {c['teams']} teams, "
            f"{c['staff']} staff accounts ({c['logins']} can log in); "
            f"{c['episodes']} episodes ({c['closed']} closed, {c['open']} open), "
            f"{c['persons']} persons ({c['returning_children']} children with a new episode within a year), "
            f"{c['sessions']} sessions, {c['attendances']} attendances, {c['ratings']} ratings "
            f"in {c['series']} series."
        )


def demo_logins() -> list[DemoLogin]:
    """Exactly the accounts `fill_demo` creates with a password."""
    return _demo_logins()


def fill_demo(seed: int, today: date, if_empty: bool, *, scale: float = 1.0) -> DemoResult:
    """Fill an empty database; `scale` shrinks the caseload (tests use a small one)."""
    existing = existing_data()
    if any(existing.values()):
        return _leave_existing_data(existing, seed=seed, today=today, if_empty=if_empty)
    if scale <= 0:
        raise ValueError("scale must be positive")
    started = time.perf_counter()
    catalogue = _catalogue()
    _check_prerequisites(catalogue)
    plan = plan_demo(seed, today, scale=scale, interventions={code: kind for code, (_, kind) in catalogue.items()})
    writer = _Writer(today)
    writer.write_organisation()
    writer.write_cases(plan, {code: id_ for code, (id_, _) in catalogue.items()})
    # Only that the demo ran and with which seed: no clinical content in the audit log.
    audit.record("demo_data", object_type="database", object_id=f"seed {seed}")
    db.session.commit()
    # Reports read outcomes from the derived series table; writers refresh it after their commit.
    writer.counts["series"] = refresh_series(writer.episode_ids).series
    seconds = time.perf_counter() - started
    return DemoResult(created=True, today=today, seed=seed, counts=writer.counts, seconds=seconds)


def _leave_existing_data(existing: dict[str, int], *, seed: int, today: date, if_empty: bool) -> DemoResult:
    if not if_empty:
        raise DemoRefused(
            f"The database already has data ({_describe_existing(existing)}). "
            "The demo only fills an empty database: use a new one, or --if-empty to skip."
        )
    return DemoResult(created=False, today=today, seed=seed, counts=existing,
                      demo_already_there=_demo_accounts_exist())


def _check_prerequisites(catalogue: dict[str, tuple[int, str]]) -> None:
    """Refuse before writing anything: the demo is all or nothing."""
    if not demo_intervention_codes() & set(catalogue):
        raise DemoRefused("The intervention catalogue has none of the demo's intervention codes (e.g. FAMBEH).")
    try:
        # The series summaries written at the end need it.
        active_norm_set()
    except NoActiveNormSet as missing:
        raise DemoRefused(str(missing)) from missing


def existing_data() -> dict[str, int]:
    """Rows that make the database non-empty. Reference data and the audit log do not count."""
    return {
        name: db.session.scalar(select(func.count()).select_from(model))
        for name, model in (("episodes", Episode), ("persons", Person), ("staff", Staff),
                            ("units", Unit), ("districts", District))
    }


def _describe_existing(counts: dict[str, int]) -> str:
    labels = {"episodes": "episodes", "persons": "persons", "staff": "staff accounts",
              "units": "units", "districts": "districts"}
    return ", ".join(f"{counts[key]} {label}" for key, label in labels.items() if counts.get(key))


def _demo_accounts_exist() -> bool:
    usernames = [login.username for login in demo_logins()]
    found = db.session.scalar(select(func.count()).select_from(Staff).where(Staff.username.in_(usernames)))
    return found == len(usernames)


def _catalogue() -> dict[str, tuple[int, str]]:
    rows = db.session.execute(select(Intervention.code, Intervention.id, Intervention.kind)
                              .where(Intervention.is_active))
    return {code: (id_, kind) for code, id_, kind in rows}


def _at(day: date, moment: clock) -> datetime:
    return datetime.combine(day, moment, tzinfo=timezone.utc)


class _Writer:
    """Inserts the organisation, then the plan, remembering the new ids."""

    def __init__(self, today: date):
        self.today = today
        self.unit_ids: dict[str, int] = {}
        self.staff_ids: dict[str, int] = {}
        self.episode_ids: list[int] = []
        self.counts: dict[str, int] = {}

    # --- organisation -------------------------------------------------------

    def write_organisation(self) -> None:
        district_ids = dict(zip(
            (d.code for d in DISTRICTS),
            _insert(District, [{"code": d.code, "name": d.name} for d in DISTRICTS]),
        ))
        self.unit_ids = dict(zip(
            (u.code for u in UNITS),
            _insert(Unit, [{"district_id": district_ids[u.district_code], "code": u.code, "name": u.name}
                           for u in UNITS]),
        ))
        team_keys = [(u.code, name) for u in UNITS for name in u.teams]
        team_ids = dict(zip(team_keys, _insert(Team, [{"unit_id": self.unit_ids[code], "name": name}
                                                      for code, name in team_keys])))
        self._write_staff(team_ids)
        self.counts.update(districts=len(district_ids), units=len(self.unit_ids), teams=len(team_ids))

    def _write_staff(self, team_ids: dict[tuple[str, str], int]) -> None:
        specs = staff_specs()
        # argon2 is slow on purpose: hash each distinct password once.
        hashes = {DEMO_PASSWORD: hash_password(DEMO_PASSWORD)}
        rows = [{"username": s.username, "role": s.role, "is_enabled": True,
                 "password_hash": hashes[DEMO_PASSWORD] if s.can_log_in else None} for s in specs]
        self.staff_ids = dict(zip((s.username for s in specs), _insert(Staff, rows)))
        confirmed_at = utcnow()
        memberships = [
            {"staff_id": self.staff_ids[s.username], "unit_id": self.unit_ids[m.unit_code],
             "team_id": team_ids.get((m.unit_code, m.team_name)),
             "valid_from": m.valid_from(self.today), "valid_to": m.valid_to(self.today),
             # Demo memberships are in force, as if confirmed on the command line (fitapp.access_confirmation).
             "confirmed_at": confirmed_at}
            for s in specs for m in s.memberships
        ]
        _insert(UnitMembership, memberships, returning=False)
        self.counts.update(staff=len(specs), logins=sum(s.can_log_in for s in specs),
                           memberships=len(memberships))

    # --- cases --------------------------------------------------------------

    def write_cases(self, plan: DemoPlan, intervention_ids: dict[str, int]) -> None:
        person_ids = self._write_persons(plan)
        episode_ids = self.episode_ids = _insert(Episode, [self._episode_row(e, intervention_ids)
                                                           for e in plan.episodes])
        participant_ids = self._write_participants(plan, episode_ids, person_ids)
        session_keys, session_ids = self._write_sessions(plan, episode_ids)
        self._write_attendance_and_ratings(plan, session_keys, session_ids, participant_ids)
        closed = sum(e.end_date is not None for e in plan.episodes)
        self.counts.update(
            episodes=len(plan.episodes), closed=closed, open=len(plan.episodes) - closed,
            persons=len(person_ids), participants=sum(len(ids) for ids in participant_ids),
            sessions=len(session_ids), returning_children=_returning_children(plan),
        )

    def _write_persons(self, plan: DemoPlan) -> dict[int, int]:
        first_seen: dict[int, date] = {}
        for episode in plan.episodes:  # sorted by start: the first one registers the person
            for participant in episode.participants:
                first_seen.setdefault(id(participant.person), episode.referral_date or episode.start_date)
        persons = plan.persons()
        rows = [{"ref": p.ref, "birth_year": p.birth_year, "gender": p.gender, "retention_exempt": False,
                 "created_at": _at(first_seen[id(p)], REGISTERED_AT)} for p in persons]
        return dict(zip((id(p) for p in persons), _insert(Person, rows)))

    def _episode_row(self, episode: EpisodePlan, intervention_ids: dict[str, int]) -> dict:
        return {
            "unit_id": self.unit_ids[episode.unit.code], "ref": episode.ref,
            "therapist_id": self.staff_ids[episode.therapist],
            "intervention_id": intervention_ids[episode.intervention],
            "referral_date": episode.referral_date, "start_date": episode.start_date,
            "end_date": episode.end_date, "end_reason": episode.end_reason,
            "child_no_rating_reason": episode.child_no_rating_reason,
            "created_at": _at(episode.referral_date or episode.start_date, REGISTERED_AT),
        }

    def _write_participants(self, plan: DemoPlan, episode_ids: list[int],
                            person_ids: dict[int, int]) -> list[list[int]]:
        rows = [{"episode_id": episode_id, "person_id": person_ids[id(p.person)], "role": p.role}
                for episode, episode_id in zip(plan.episodes, episode_ids) for p in episode.participants]
        flat = iter(_insert(Participant, rows))
        # Back to one list per episode, in the plan's participant order.
        return [[next(flat) for _ in episode.participants] for episode in plan.episodes]

    def _write_sessions(self, plan: DemoPlan, episode_ids: list[int]) -> tuple[list[tuple[int, int]], list[int]]:
        keys, rows = [], []
        for e_index, (episode, episode_id) in enumerate(zip(plan.episodes, episode_ids)):
            for s_index, session in enumerate(episode.sessions):
                keys.append((e_index, s_index))
                rows.append({"episode_id": episode_id, "number": session.number, "date": session.date,
                             "created_at": _at(session.date, RATED_AT)})
        return keys, _insert(Session, rows)

    def _write_attendance_and_ratings(self, plan: DemoPlan, session_keys: list[tuple[int, int]],
                                      session_ids: list[int], participant_ids: list[list[int]]) -> None:
        attendance, ratings = [], []
        for (e_index, s_index), session_id in zip(session_keys, session_ids):
            episode = plan.episodes[e_index]
            session = episode.sessions[s_index]
            ids = participant_ids[e_index]
            therapist_id = self.staff_ids[episode.therapist]
            attendance.extend({"session_id": session_id, "participant_id": ids[a.participant],
                               "no_rating_reason": a.no_rating_reason} for a in session.attendance)
            ratings.extend(_rating_row(r, session_id, ids, therapist_id, _at(session.date, RATED_AT))
                           for r in session.ratings)
        _insert(Attendance, attendance, returning=False)
        _insert(Rating, ratings, returning=False)
        self.counts.update(attendances=len(attendance), ratings=len(ratings))


def _rating_row(rating, session_id: int, participant_ids: list[int], created_by_id: int,
                created_at: datetime) -> dict:
    item1, item2, item3, item4 = rating.items_x10
    return {
        "session_id": session_id, "instrument": rating.instrument,
        "subject_id": participant_ids[rating.subject], "rater_id": participant_ids[rating.rater],
        "item1_x10": item1, "item2_x10": item2, "item3_x10": item3, "item4_x10": item4,
        "total_x10": rating.total_x10, "created_by_id": created_by_id, "created_at": created_at,
    }


def _returning_children(plan: DemoPlan) -> int:
    episodes_per_child: dict[int, int] = {}
    for episode in plan.episodes:
        key = id(episode.index_participant.person)
        episodes_per_child[key] = episodes_per_child.get(key, 0) + 1
    return sum(1 for count in episodes_per_child.values() if count > 1)


def _insert(model, rows: list[dict], *, returning: bool = True) -> list[int]:
    """One executemany INSERT; with `returning`, the new ids in the order of `rows`."""
    if not rows:
        return []
    table: Table = model.__table__
    if not returning:
        db.session.execute(table.insert(), rows)
        return []
    result = db.session.execute(table.insert().returning(table.c.id, sort_by_parameter_order=True), rows)
    return list(result.scalars())
