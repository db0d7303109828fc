"""Planning families, episodes, sessions and ratings for the demo. Pure: no database.

Everything is drawn from one `random.Random`, in a fixed order, so a seed
always gives the same plan. The plan keeps every rule the importer enforces
(interchange.md "Errors that must be reported"): sessions inside the episode's
dates and numbered 1..n in date order, an end reason exactly when there is an
end date, raters who take part in the episode, one rating per (session,
subject, rater, instrument), items 0.0-10.0 in tenths.
"""
import random
import string
from dataclasses import dataclass, field
from datetime import date, timedelta

from fitapp.demo import courses
from fitapp.demo.organisation import FAMILY, UNITS, StaffSpec, UnitSpec, therapists_of
from fitapp.identity_numbers import looks_like_identity_number
from fitapp.scoring.instruments import default_instrument

# Closed episodes may start a little before the two years so that the first
# tertials also have endings to report.
HISTORY_DAYS = 760
CLOSED_SHARE = 0.75
# Open episodes where the first session is still to come.
NOT_STARTED_SHARE = 0.05
# Of closed episodes, the share whose child comes back within a year (återaktualisering).
RETURN_SHARE = 0.11
END_REASONS = {"planned": 70, "client_dropout": 18, "moved": 6, "other": 6}

INTERVENTIONS = {
    FAMILY: {
        "FAMBEH": 28, "STODKONTAKT": 12, "KOMET": 12, "TRAPPAN": 10, "IHF": 10, "FAMPED": 6,
        "FFT": 4, "HEMMASITT": 4, "TRYGGBARN": 3, "LIHF": 3, "BARNKRAFT": 2, "OVRIGT": 2,
    },
    "youth": {
        "STODKONTAKT": 22, "FFT": 16, "HEMMASITT": 12, "FAMBEH": 12, "MST": 10, "MOTIVATION": 5,
        "ART": 4, "IHF": 4, "BSFT": 3, "NYTTVAGVAL": 3, "KOMET": 2, "OVRIGT": 2,
    },
}
# Home-based, intensive programmes meet more than once a week.
INTENSIVE = frozenset({"IHF", "MST", "LIHF"})
# Parent programmes: the child is often not in the room.
PARENT_PROGRAMMES = frozenset({"KOMET"})

INDEX_AGES = {
    FAMILY: {4: 6, 5: 7, 6: 8, 7: 9, 8: 10, 9: 10, 10: 10, 11: 9, 12: 8, 13: 5, 14: 3, 15: 2},
    "youth": {12: 3, 13: 7, 14: 11, 15: 13, 16: 13, 17: 11, 18: 6, 19: 4},
}
CHILD_GENDERS = {"female": 485, "male": 485, "other": 20, None: 10}
SESSIONS_BY_END = {
    "client_dropout": {1: 15, 2: 18, 3: 20, 4: 17, 5: 12, 6: 9, 7: 5, 8: 4},
    "moved": {n: 1 for n in range(2, 11)},
}
CHILD_NO_RATING = {"declined": 40, "capacity": 15, "language": 10, "other": 15, "too_young": 20}

REF_LETTERS = "BCDFGHJKLMNPQRSTVWXZ"
REF_CHARS = REF_LETTERS + "23456789"


@dataclass(eq=False)
class PersonPlan:
    ref: str
    birth_year: int | None
    gender: str | None


@dataclass(eq=False)
class ParticipantPlan:
    person: PersonPlan
    role: str
    # Attendance habits, fixed for the episode.
    attend_chance: float
    always_reason: str | None = None


@dataclass(frozen=True)
class AttendancePlan:
    participant: int
    no_rating_reason: str | None


@dataclass(frozen=True)
class RatingPlan:
    instrument: str
    subject: int
    rater: int
    items_x10: tuple[int, ...]

    @property
    def total_x10(self) -> int:
        return sum(self.items_x10)


@dataclass
class SessionPlan:
    number: int
    date: date
    attendance: list[AttendancePlan] = field(default_factory=list)
    ratings: list[RatingPlan] = field(default_factory=list)


@dataclass(eq=False)
class EpisodePlan:
    unit: UnitSpec
    ref: str
    therapist: str
    intervention: str
    referral_date: date | None
    start_date: date
    end_date: date | None
    end_reason: str | None
    child_no_rating_reason: str | None
    participants: list[ParticipantPlan]
    sessions: list[SessionPlan] = field(default_factory=list)

    @property
    def index_participant(self) -> ParticipantPlan:
        return self.participants[0]


@dataclass
class DemoPlan:
    episodes: list[EpisodePlan]

    def persons(self) -> list[PersonPlan]:
        """Every person once, in order of first appearance."""
        seen: dict[int, PersonPlan] = {}
        for episode in self.episodes:
            for participant in episode.participants:
                seen.setdefault(id(participant.person), participant.person)
        return list(seen.values())


def demo_intervention_codes() -> set[str]:
    return {code for weights in INTERVENTIONS.values() for code in weights}


def plan_demo(seed: int, today: date, *, scale: float, interventions: dict[str, str]) -> DemoPlan:
    """The whole demo caseload for `seed`; `interventions` maps catalogue codes to their kind."""
    planner = _Planner(random.Random(seed), today, interventions)
    episodes = []
    for unit in UNITS:
        count = max(2, round(unit.base_episodes * scale))
        episodes.extend(planner.base_episode(unit) for _ in range(count))
    episodes.extend([planner.return_episode(e) for e in episodes if planner.child_returns(e)])
    episodes.sort(key=lambda e: (e.start_date, e.unit.code, e.ref))
    return DemoPlan(episodes)


class _Planner:
    def __init__(self, rng: random.Random, today: date, interventions: dict[str, str]):
        self.rng = rng
        self.today = today
        self.interventions = interventions
        self.used_refs: set[str] = set()

    # --- episodes -----------------------------------------------------------

    def base_episode(self, unit: UnitSpec) -> EpisodePlan:
        intervention = self._intervention(unit)
        if self.rng.random() < CLOSED_SHARE:
            reason = self._weighted(END_REASONS)
            dates = self._schedule(self._planned_sessions(reason), intervention, self.today)
            dates, end = self._place_closed(dates)
            return self._episode(unit, intervention, dates, len(dates), end, reason, family=None)
        planned = self._planned_sessions(None)
        if self.rng.random() < NOT_STARTED_SHARE:
            start = self.today - timedelta(days=self.rng.randint(0, 10))
            return self._episode(unit, intervention, [], planned, None, None, family=None, start=start)
        dates = self._place_open(self._schedule(planned, intervention, self.today))
        return self._episode(unit, intervention, dates, planned, None, None, family=None)

    def child_returns(self, episode: EpisodePlan) -> bool:
        # Draw for every episode so the stream of random numbers does not depend on dates.
        draw = self.rng.random()
        return (episode.end_date is not None and (self.today - episode.end_date).days > 31
                and draw < RETURN_SHARE)

    def return_episode(self, previous: EpisodePlan) -> EpisodePlan:
        """The same child and family in a new episode of the same district within a year."""
        latest = min(330, (self.today - previous.end_date).days - 1)
        start = previous.end_date + timedelta(days=self.rng.randint(30, latest))
        unit = previous.unit if self.rng.random() < 0.7 else self._sibling_unit(previous.unit)
        intervention = self._intervention(unit)
        reason = self._weighted(END_REASONS)
        planned = self._planned_sessions(reason)
        dates = self._schedule(planned, intervention, start)
        end = dates[-1] + timedelta(days=self.rng.randint(0, 14))
        family = [(p.person, p.role) for p in previous.participants]
        if end <= self.today:
            return self._episode(unit, intervention, dates, planned, end, reason, family=family)
        done = [d for d in dates if d <= self.today]
        return self._episode(unit, intervention, done, planned, None, None, family=family, start=start)

    def _episode(self, unit: UnitSpec, intervention: str, dates: list[date], planned: int,
                 end: date | None, reason: str | None, *, family: list[tuple[PersonPlan, str]] | None,
                 start: date | None = None) -> EpisodePlan:
        start = dates[0] if dates else start
        participants = self._participants(unit, start, family)
        episode = EpisodePlan(
            unit=unit,
            ref=self._episode_ref(),
            therapist=self._therapist(unit, end or self.today),
            intervention=intervention,
            referral_date=self._referral_date(intervention, start),
            start_date=start,
            end_date=end,
            end_reason=reason,
            child_no_rating_reason=self._child_no_rating_reason(intervention, participants[0], start),
            participants=participants,
        )
        _SessionPlanner(self.rng, episode, planned).plan(dates)
        return episode

    def _planned_sessions(self, end_reason: str | None) -> int:
        if end_reason in SESSIONS_BY_END:
            return self._weighted(SESSIONS_BY_END[end_reason])
        if end_reason == "other":
            return int(self.rng.triangular(2, 14, 6))
        return int(self.rng.triangular(4, 20.99, 9))

    def _schedule(self, count: int, intervention: str, start: date) -> list[date]:
        """Session dates on weekdays, every one to two weeks (intensive programmes more often)."""
        dates = [_weekday_on_or_before(start)]
        for _ in range(count - 1):
            if intervention in INTENSIVE:
                gap = self.rng.randint(4, 9)
            elif self.rng.random() < 0.08:
                gap = self.rng.randint(21, 35)  # holidays, illness, a cancelled meeting
            else:
                gap = self.rng.randint(7, 14)
            dates.append(_weekday_on_or_after(dates[-1] + timedelta(days=gap)))
        return dates

    def _place_closed(self, dates: list[date]) -> tuple[list[date], date]:
        """Move a schedule (by whole weeks, keeping weekdays) to end somewhere in the history."""
        closing_gap = self.rng.randint(0, 14)
        duration = (dates[-1] - dates[0]).days + closing_gap
        latest_start = self.today - timedelta(days=duration + 1)
        target = latest_start - timedelta(days=self.rng.randint(0, max(0, HISTORY_DAYS - duration)))
        shifted = _shift_by_weeks(dates, target)
        return shifted, shifted[-1] + timedelta(days=closing_gap)

    def _place_open(self, dates: list[date]) -> list[date]:
        """Move a schedule so that today falls between two of its sessions; keep those held."""
        held = self.rng.randint(1, max(1, len(dates) - 1))
        shifted = _shift_by_weeks(dates, dates[0] + (self.today - dates[held - 1]))
        return [d for d in shifted if d <= self.today]

    def _referral_date(self, intervention: str, start: date) -> date | None:
        # A service intervention needs no decision, so often there is no referral date.
        if self.interventions.get(intervention) == "service" and self.rng.random() < 0.5:
            return None
        wait = self.rng.randint(0, 29) if self.rng.random() < 0.85 else self.rng.randint(30, 60)
        return start - timedelta(days=wait)

    def _intervention(self, unit: UnitSpec) -> str:
        weights = {code: w for code, w in INTERVENTIONS[unit.focus].items() if code in self.interventions}
        if not weights:
            raise ValueError("none of the demo's intervention codes is in the catalogue")
        return self._weighted(weights)

    def _therapist(self, unit: UnitSpec, last_day: date) -> str:
        """The therapist responsible now: a member of the unit on the episode's last day."""
        candidates = [spec for spec in therapists_of(unit.code) if _member_on(spec, unit.code, last_day, self.today)]
        chosen = self.rng.choices(candidates, weights=[spec.caseload_weight for spec in candidates])[0]
        return chosen.username

    def _sibling_unit(self, unit: UnitSpec) -> UnitSpec:
        return next(u for u in UNITS if u.district_code == unit.district_code and u.code != unit.code)

    # --- families -----------------------------------------------------------

    def _participants(self, unit: UnitSpec, start: date,
                      family: list[tuple[PersonPlan, str]] | None) -> list[ParticipantPlan]:
        """The family in this episode: the index child first, then parents (and now and then a sibling)."""
        members = family or self._new_family(unit, start)
        adult_child = start.year - members[0][0].birth_year >= 18
        participants = []
        parents_seen = 0
        for person, role in members:
            if role == "index":
                chance = 0.92
            elif role == "parent":
                chance = self._parent_attendance(parents_seen, unit, adult_child)
                parents_seen += 1
            else:
                chance = 0.5
            participants.append(ParticipantPlan(person, role, chance))
        self._parent_language_barrier(participants)
        return participants

    def _new_family(self, unit: UnitSpec, start: date) -> list[tuple[PersonPlan, str]]:
        age = self._weighted(INDEX_AGES[unit.focus])
        child = PersonPlan(self._person_ref(), start.year - age, self._weighted(CHILD_GENDERS))
        family = [(child, "index")]
        family.extend((self._parent(child, gender), "parent") for gender in self._parent_genders())
        if unit.focus == FAMILY and self.rng.random() < 0.05:
            sibling = PersonPlan(self._person_ref(), start.year - self.rng.randint(6, 16),
                                 self._weighted({"female": 1, "male": 1}))
            family.append((sibling, "other"))
        return family

    def _parent_genders(self) -> tuple[str | None, ...]:
        if self.rng.random() < 0.55:
            return self._weighted({("female", "male"): 88, ("female", "female"): 5, ("male", "male"): 3,
                                   ("female", None): 4})
        return (self._weighted({"female": 72, "male": 25, None: 3}),)

    def _parent(self, child: PersonPlan, gender: str | None) -> PersonPlan:
        # Now and then a birth year was not given.
        birth_year = None if self.rng.random() < 0.04 else child.birth_year - self.rng.randint(20, 42)
        return PersonPlan(self._person_ref(), birth_year, gender)

    def _parent_attendance(self, number: int, unit: UnitSpec, adult_child: bool) -> float:
        if adult_child:
            return 0.3 if number == 0 else 0.15
        if unit.focus == FAMILY:
            return 0.88 if number == 0 else 0.6
        return 0.6 if number == 0 else 0.4

    def _parent_language_barrier(self, participants: list[ParticipantPlan]) -> None:
        # No licensed wording in the family's language: the parent takes part without rating.
        if self.rng.random() < 0.04 and len(participants) > 1 and participants[1].role == "parent":
            participants[1].always_reason = "language"

    def _child_no_rating_reason(self, intervention: str, child: ParticipantPlan, start: date) -> str | None:
        """About one child in ten never rates; in parent programmes the child is often not there."""
        draw, reason_draw = self.rng.random(), self.rng.random()
        if intervention in PARENT_PROGRAMMES and draw < 0.5:
            reason = "not_present"
        elif draw < 0.07:
            weights = dict(CHILD_NO_RATING)
            if start.year - child.person.birth_year > 5:
                del weights["too_young"]
            reason = _weighted_by(reason_draw, weights)
        else:
            return None
        child.always_reason = reason
        return reason

    # --- references ---------------------------------------------------------

    def _episode_ref(self) -> str:
        # "K7T2-41": a letter first, so it can never read as a date and a personal number.
        return self._unique_ref(lambda: self._ref_chars(4) + "-" + "".join(self.rng.choices(string.digits, k=2)))

    def _person_ref(self) -> str:
        return self._unique_ref(lambda: "P" + self._ref_chars(5))

    def _ref_chars(self, length: int) -> str:
        return self.rng.choice(REF_LETTERS) + "".join(self.rng.choices(REF_CHARS, k=length - 1))

    def _unique_ref(self, make) -> str:
        while True:
            ref = make()
            if ref not in self.used_refs and not looks_like_identity_number(ref):
                self.used_refs.add(ref)
                return ref

    def _weighted(self, weights: dict):
        return _weighted_by(self.rng.random(), weights)


class _SessionPlanner:
    """Attendance and ratings of one episode's sessions."""

    def __init__(self, rng: random.Random, episode: EpisodePlan, planned_sessions: int):
        self.rng = rng
        self.episode = episode
        self.planned = max(planned_sessions, 1)
        dropout = episode.end_reason == "client_dropout"
        shapes = courses.shapes_for(episode.end_reason)
        family_shape = courses.draw_shape(rng, shapes)
        start_year = episode.start_date.year
        self.outcome = [
            courses.draw_outcome_course(rng, self._intake_group(p, start_year), shapes=shapes,
                                        family_shape=family_shape)
            for p in episode.participants
        ]
        self.alliance = [
            courses.draw_alliance_course(rng, young=_is_child(p, start_year), dropout=dropout)
            for p in episode.participants
        ]
        self.collateral = courses.draw_outcome_course(rng, courses.COLLATERAL, shapes=shapes,
                                                      family_shape=family_shape)

    def plan(self, dates: list[date]) -> None:
        # A closed episode's last session is its last: alliance trouble shows there before a dropout.
        last_number = len(dates) if self.episode.end_date is not None else None
        for number, day in enumerate(dates, start=1):
            session = SessionPlan(number, day, attendance=self._attendance(number))
            self._rate(session, is_last=number == last_number)
            self.episode.sessions.append(session)

    def _attendance(self, number: int) -> list[AttendancePlan]:
        present = []
        for index, participant in enumerate(self.episode.participants):
            if participant.always_reason == "not_present":
                continue
            chance = 0.97 if (number == 1 and participant.role == "index") else participant.attend_chance
            if self.rng.random() < chance:
                present.append(AttendancePlan(index, self._no_rating_reason(participant)))
        if not present:
            # Somebody came: the session was held.
            index = 0 if self.episode.participants[0].always_reason != "not_present" else 1
            present.append(AttendancePlan(index, self.episode.participants[index].always_reason))
        return present

    def _no_rating_reason(self, participant: ParticipantPlan) -> str | None:
        if participant.always_reason is not None:
            return participant.always_reason
        if self.rng.random() < 0.03:
            return _weighted_by(self.rng.random(), {"declined": 3, "other": 1})
        return None

    def _rate(self, session: SessionPlan, *, is_last: bool) -> None:
        step = session.number - 1
        raters = [a.participant for a in session.attendance if a.no_rating_reason is None]
        for index in raters:
            self._self_outcome(session, index, step)
        self._collateral_outcome(session, raters, step)
        for index in raters:
            # Now and then the session ran late and the alliance scale was not filled in.
            if self.rng.random() < 0.97:
                self._self_alliance(session, index, step, is_last)

    def _self_outcome(self, session: SessionPlan, index: int, step: int) -> None:
        course = self.outcome[index]
        total = course.total_at(self.rng, step, self.planned)
        items = courses.items_x10(self.rng, total, course.item_profile, 0.6)
        instrument = default_instrument(self._age_on(index, session.date), "outcome")
        session.ratings.append(RatingPlan(instrument, index, index, items))

    def _collateral_outcome(self, session: SessionPlan, raters: list[int], step: int) -> None:
        """A parent's ORS about a child of five or younger, who cannot yet rate reliably."""
        age = self._age_on(0, session.date)
        parents = [i for i in raters if self.episode.participants[i].role == "parent"]
        if age is None or age > 5 or not parents:
            return
        total = self.collateral.total_at(self.rng, step, self.planned)
        items = courses.items_x10(self.rng, total, self.collateral.item_profile, 0.6)
        session.ratings.append(RatingPlan("ORS", 0, parents[0], items))

    def _self_alliance(self, session: SessionPlan, index: int, step: int, is_last: bool) -> None:
        course = self.alliance[index]
        total = course.total_at(self.rng, step, is_last)
        items = courses.items_x10(self.rng, total, course.item_profile, 0.25)
        instrument = default_instrument(self._age_on(index, session.date), "alliance")
        session.ratings.append(RatingPlan(instrument, index, index, items))

    def _age_on(self, index: int, day: date) -> int | None:
        return _age(self.episode.participants[index], day.year)

    @staticmethod
    def _intake_group(participant: ParticipantPlan, year: int) -> courses.IntakeGroup:
        if participant.role == "parent":
            return courses.PARENT
        return courses.intake_group_for_age(_age(participant, year))


def _age(participant: ParticipantPlan, year: int) -> int | None:
    birth_year = participant.person.birth_year
    return None if birth_year is None else year - birth_year


def _is_child(participant: ParticipantPlan, year: int) -> bool:
    age = _age(participant, year)
    return age is not None and age <= 12


def _member_on(spec: StaffSpec, unit_code: str, day: date, today: date) -> bool:
    return any(m.unit_code == unit_code and m.covers(day, today) for m in spec.memberships)


def _weighted_by(draw: float, weights: dict):
    """The key whose share of the total weight contains `draw` (0 <= draw < 1)."""
    threshold = draw * sum(weights.values())
    running = 0.0
    for key, weight in weights.items():
        running += weight
        if threshold < running:
            return key
    return key


def _shift_by_weeks(dates: list[date], target_start: date) -> list[date]:
    weeks = (target_start - dates[0]).days // 7
    return [d + timedelta(weeks=weeks) for d in dates]


def _weekday_on_or_before(day: date) -> date:
    return day - timedelta(days=max(0, day.weekday() - 4))


def _weekday_on_or_after(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7 if day.weekday() >= 5 else 0)
