"""How one person's ratings move over an episode: outcome and alliance courses.

The numbers follow what published FIT/PCOMS samples and the city's reports
describe: most people start below the clinical cutoff, a little over half
improve with most of the gain in the first sessions, a third stay flat, about
one in ten gets worse; alliance ratings sit near the top of the scale with
occasional dips. Pure: a course is drawn once from a `random.Random` and then
asked for the total at each step.
"""
import math
import random
from dataclasses import dataclass

IMPROVE, FLAT, DETERIORATE, RELAPSE = "improve", "flat", "deteriorate", "relapse"

# Share of each course shape. Episodes that end as planned went better on the whole;
# dropouts and people who start well stay flat more often.
SHAPES_USUAL = {IMPROVE: 57, FLAT: 29, DETERIORATE: 9, RELAPSE: 5}
SHAPES_PLANNED_END = {IMPROVE: 65, FLAT: 23, DETERIORATE: 7, RELAPSE: 5}
SHAPES_DROPOUT = {IMPROVE: 30, FLAT: 50, DETERIORATE: 15, RELAPSE: 5}
SHAPES_NON_CLINICAL = {IMPROVE: 35, FLAT: 50, DETERIORATE: 10, RELAPSE: 5}

NON_CLINICAL_SHARE = 0.25
ITEMS = 4
MAX_TOTAL = 39.8


@dataclass(frozen=True)
class IntakeGroup:
    """Where a group's intake totals lie: cutoff and the clinical intake distribution."""

    cutoff: float
    mean: float
    sd: float


# Cutoffs from the default norm set (metrics.md §2); means as in published intake samples.
CHILD = IntakeGroup(cutoff=32.0, mean=24.0, sd=6.0)          # CORS and YCORS, up to 12
YOUTH = IntakeGroup(cutoff=28.0, mean=22.0, sd=7.0)          # ORS, 13-17
YOUNG_ADULT = IntakeGroup(cutoff=25.0, mean=20.0, sd=6.0)    # ORS, 18 and over
PARENT = IntakeGroup(cutoff=25.0, mean=20.5, sd=6.0)         # ORS about themselves
COLLATERAL = IntakeGroup(cutoff=28.0, mean=24.0, sd=6.0)     # a parent's ORS about a small child


def intake_group_for_age(age: int | None) -> IntakeGroup:
    if age is None or age >= 18:
        return YOUNG_ADULT
    return CHILD if age <= 12 else YOUTH


@dataclass(frozen=True)
class OutcomeCourse:
    intake: float
    shape: str
    # Change by the planned last session (negative when the person gets worse).
    gain: float
    # Sessions until about two thirds of an improvement has happened.
    tau: float
    noise_sd: float
    item_profile: tuple[float, ...]

    def total_at(self, rng: random.Random, step: int, planned_steps: int) -> float:
        """Total at session `step` (0-based) of an episode planned for `planned_steps` sessions."""
        share = self._share_of_change(step, planned_steps)
        value = self.intake + self.gain * share
        if step > 0:
            value += rng.gauss(0.0, self.noise_sd)
        return _clamp(value, 1.0, MAX_TOTAL)

    def _share_of_change(self, step: int, planned_steps: int) -> float:
        if planned_steps <= 1 or step == 0:
            return 0.0
        linear = min(1.0, step / (planned_steps - 1))
        if self.shape == IMPROVE:
            # Decelerating: early sessions show most of the change ("three to four sessions").
            return (1 - math.exp(-step / self.tau)) / (1 - math.exp(-(planned_steps - 1) / self.tau))
        if self.shape == RELAPSE:
            return math.sin(math.pi * linear)
        return linear


@dataclass(frozen=True)
class AllianceCourse:
    base: float
    # Extra dip risk at the last session: alliance trouble comes before dropout.
    ends_in_dropout: bool
    item_profile: tuple[float, ...]

    def total_at(self, rng: random.Random, step: int, is_last: bool) -> float:
        value = self.base + min(1.2, 0.12 * step) + rng.gauss(0.0, 0.8)
        dip_chance = 0.4 if (is_last and self.ends_in_dropout) else 0.07
        if rng.random() < dip_chance:
            value -= rng.uniform(2.5, 6.0)
        return _clamp(value, 8.0, 40.0)


def draw_shape(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def shapes_for(end_reason: str | None) -> dict[str, int]:
    if end_reason == "planned":
        return SHAPES_PLANNED_END
    return SHAPES_DROPOUT if end_reason == "client_dropout" else SHAPES_USUAL


def draw_outcome_course(rng: random.Random, group: IntakeGroup, *, shapes: dict[str, int],
                        family_shape: str | None = None) -> OutcomeCourse:
    """One person's outcome course; `family_shape` makes family members tend to move together."""
    non_clinical = rng.random() < NON_CLINICAL_SHARE
    intake = _non_clinical_intake(rng, group) if non_clinical else _clinical_intake(rng, group)
    if non_clinical:
        shape = draw_shape(rng, SHAPES_NON_CLINICAL)
    elif family_shape is not None and rng.random() < 0.6:
        shape = family_shape
    else:
        shape = draw_shape(rng, shapes)
    gain = _gain(rng, shape, intake, non_clinical)
    return OutcomeCourse(
        intake=intake, shape=shape, gain=gain, tau=rng.uniform(1.5, 4.0),
        noise_sd=rng.uniform(1.0, 2.0), item_profile=draw_item_profile(rng, 0.9),
    )


def draw_alliance_course(rng: random.Random, *, young: bool, dropout: bool) -> AllianceCourse:
    # Children mark the alliance faces higher than adults do; dropouts start lower.
    base = rng.gauss(37.4 if young else 36.6, 1.3) - (1.5 if dropout else 0.0)
    return AllianceCourse(
        base=_clamp(base, 28.0, 39.6), ends_in_dropout=dropout, item_profile=draw_item_profile(rng, 0.3),
    )


def draw_item_profile(rng: random.Random, spread: float) -> tuple[float, ...]:
    """A rater's lasting differences between items, summing to zero."""
    raw = [rng.gauss(0.0, spread) for _ in range(ITEMS)]
    mean = sum(raw) / ITEMS
    return tuple(value - mean for value in raw)


def items_x10(rng: random.Random, total: float, profile: tuple[float, ...], noise_sd: float) -> tuple[int, ...]:
    """Four marks in tenths (0-100) around `total`; the stored total is their exact sum."""
    return tuple(
        int(_clamp(round((total / ITEMS + offset + rng.gauss(0.0, noise_sd)) * 10), 0, 100))
        for offset in profile
    )


def _clinical_intake(rng: random.Random, group: IntakeGroup) -> float:
    # Rejection sampling keeps the normal shape below the cutoff; the loop is bounded.
    for _ in range(50):
        value = rng.gauss(group.mean, group.sd)
        if 3.0 <= value <= group.cutoff - 0.5:
            return value
    return group.cutoff - 4.0


def _non_clinical_intake(rng: random.Random, group: IntakeGroup) -> float:
    return min(group.cutoff + 0.5 + abs(rng.gauss(0.0, 3.5)), 38.5)


def _gain(rng: random.Random, shape: str, intake: float, non_clinical: bool) -> float:
    room = MAX_TOTAL - intake
    if shape == IMPROVE:
        gain = rng.uniform(4.0, 9.0) if non_clinical else rng.uniform(7.0, 15.0)
        return min(gain, room)
    if shape == RELAPSE:
        return min(rng.uniform(5.0, 10.0), room)
    if shape == DETERIORATE:
        return -rng.uniform(5.0, 10.0)
    return rng.gauss(0.0, 1.5)


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))
