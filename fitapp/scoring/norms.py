"""Norm parameter sets: clinical cutoff and reliable change (metrics.md §2)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation, localcontext

from fitapp.scoring.instruments import is_outcome, is_scored
from fitapp.scoring.numbers import CONTEXT, TWO_DECIMALS, round_half_up

_Z_95 = Decimal("1.96")

Number = Decimal | int | str | float


@dataclass(frozen=True)
class NormRow:
    """Cutoff and RC for one outcome instrument and age band (metrics.md §2).

    ``min_age``/``max_age`` are inclusive; ``None`` means unbounded.
    ``includes_unknown_age`` says whether a person without a birth year falls
    in this row.
    """

    instrument: str
    min_age: int | None
    max_age: int | None
    includes_unknown_age: bool
    cutoff: Decimal
    rc: Decimal

    def __post_init__(self) -> None:
        if not (is_outcome(self.instrument) and is_scored(self.instrument)):
            raise ValueError(f"norms apply to scored outcome instruments, not {self.instrument!r}")
        if self.rc <= 0:
            raise ValueError("RC must be positive")
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            raise ValueError("min_age is above max_age")

    def matches(self, instrument: str, age: int | None) -> bool:
        """True if this row applies to ``instrument`` at ``age`` at intake (metrics.md §2)."""
        if instrument != self.instrument:
            return False
        if age is None:
            return self.includes_unknown_age
        return (self.min_age is None or age >= self.min_age) and (self.max_age is None or age <= self.max_age)


@dataclass(frozen=True)
class NormSet:
    """A named, cited parameter set (metrics.md §2). ``key`` is shown in reports."""

    key: str
    name: str
    source: str
    rows: tuple[NormRow, ...]

    def lookup(self, instrument: str, age_at_intake: int | None) -> NormRow | None:
        """The first row for ``instrument`` and age at intake (metrics.md §2).

        None for instruments that are not scored outcome scales (YCORS and all
        alliance scales) and when no row covers the age.
        """
        for row in self.rows:
            if row.matches(instrument, age_at_intake):
                return row
        return None


def _row(instrument: str, min_age: int | None, max_age: int | None, unknown: bool, cutoff: str, rc: str) -> NormRow:
    return NormRow(instrument, min_age, max_age, unknown, Decimal(cutoff), Decimal(rc))


PCOMS_2003 = NormSet(
    key="pcoms-2003",
    name="PCOMS 2003",
    source="Miller et al. 2003; Duncan et al. 2006; the published PCOMS guidance",
    rows=(
        _row("ORS", 18, None, True, "25.0", "5.0"),
        _row("ORS", None, 17, False, "28.0", "5.0"),
        _row("CORS", None, None, True, "32.0", "6.0"),
    ),
)

# Same cutoffs as PCOMS, larger RC (metrics.md §2).
CYP_IAPT = NormSet(
    key="cyp-iapt",
    name="CYP-IAPT",
    source="UK CYP-IAPT/CORC outcome guidance",
    rows=(
        _row("ORS", 18, None, True, "25.0", "6.6"),
        _row("ORS", None, 17, False, "28.0", "6.6"),
        _row("CORS", None, None, True, "32.0", "10.0"),
    ),
)

BUILTIN_SETS: dict[str, NormSet] = {norm_set.key: norm_set for norm_set in (PCOMS_2003, CYP_IAPT)}
DEFAULT_SET_KEY = PCOMS_2003.key


def reliable_change(sd1: Number, r: Number) -> Decimal:
    """RC = 1.96 · √2 · SD1 · √(1 − r), half-up to two decimals (metrics.md §2, Jacobson & Truax)."""
    sd1_d = _positive(sd1, "SD1")
    r_d = _decimal(r, "r")
    if not Decimal(0) <= r_d < Decimal(1):
        raise ValueError(f"reliability r must be in [0, 1), got {r}")
    with localcontext(CONTEXT):
        sem = sd1_d * (1 - r_d).sqrt()
        s_diff = Decimal(2).sqrt() * sem
        return round_half_up(_Z_95 * s_diff, TWO_DECIMALS)


def clinical_cutoff(m1: Number, sd1: Number, m0: Number, sd0: Number) -> Decimal:
    """c = (SD1·M0 + SD0·M1) / (SD1 + SD0), half-up to two decimals (metrics.md §2)."""
    m1_d, m0_d = _decimal(m1, "M1"), _decimal(m0, "M0")
    sd1_d, sd0_d = _positive(sd1, "SD1"), _positive(sd0, "SD0")
    with localcontext(CONTEXT):
        return round_half_up((sd1_d * m0_d + sd0_d * m1_d) / (sd1_d + sd0_d), TWO_DECIMALS)


def jacobson_truax_rows(
    instrument: str,
    m1: Number,
    sd1: Number,
    m0: Number,
    sd0: Number,
    r: Number,
    min_age: int | None = None,
    max_age: int | None = None,
    includes_unknown_age: bool = True,
) -> NormRow:
    """A norm row computed from sample statistics (metrics.md §2, Jacobson & Truax 1991).

    M1/SD1 describe the clinical sample, M0/SD0 the functional sample, r the
    test-retest reliability. Combine rows into a :class:`NormSet` with a source.
    """
    return NormRow(
        instrument=instrument,
        min_age=min_age,
        max_age=max_age,
        includes_unknown_age=includes_unknown_age,
        cutoff=clinical_cutoff(m1, sd1, m0, sd0),
        rc=reliable_change(sd1, r),
    )


def age_at(on: date, birth_year: int | None) -> int | None:
    """Age as year difference only, since only the birth year is stored (metrics.md §2)."""
    if birth_year is None:
        return None
    return on.year - birth_year


def _decimal(value: Number, name: str) -> Decimal:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a number")
    # str() of a float gives the shortest literal, so 6.8 stays 6.8 and not 6.79999…
    try:
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"{name} must be a finite number, got {value}")
    return number


def _positive(value: Number, name: str) -> Decimal:
    number = _decimal(value, name)
    if number <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return number
