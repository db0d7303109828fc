"""Report periods: tertials and year to date (metrics.md §6, "Periods")."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

# (first month, last month, last day) of tertials 1–3.
_TERTIALS = {1: (1, 4, 30), 2: (5, 8, 31), 3: (9, 12, 31)}
_LABEL = re.compile(r"(\d{4})-T([123])(?:\.\.T([123]))?")


@dataclass(frozen=True)
class Period:
    """Tertials ``first_tertial``..``last_tertial`` of ``year`` (metrics.md §6).

    ``year_to_date`` marks a year-to-date period: its label always has the
    range form, so year to date through tertial 1 reads ``2025-T1..T1`` while
    tertial 1 alone reads ``2025-T1`` (interchange.md, "Report file").
    """

    year: int
    first_tertial: int
    last_tertial: int
    year_to_date: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.first_tertial <= self.last_tertial <= 3:
            raise ValueError(
                f"tertials must satisfy 1 ≤ first ≤ last ≤ 3, got {self.first_tertial}..{self.last_tertial}"
            )
        if self.year_to_date and self.first_tertial != 1:
            raise ValueError("a year-to-date period starts with tertial 1")
        if not 1 <= self.year <= 9999:
            raise ValueError(f"year out of range: {self.year}")

    @property
    def start(self) -> date:
        """First day of the first tertial (metrics.md §6, "Periods")."""
        return date(self.year, _TERTIALS[self.first_tertial][0], 1)

    @property
    def end(self) -> date:
        """Last day of the last tertial, inclusive (metrics.md §6, "Periods")."""
        _, month, day = _TERTIALS[self.last_tertial]
        return date(self.year, month, day)

    @property
    def label(self) -> str:
        """``2025-T2`` for one tertial, ``2025-T1..T2`` for a range or year to date."""
        if self.first_tertial == self.last_tertial and not self.year_to_date:
            return f"{self.year}-T{self.first_tertial}"
        return f"{self.year}-T{self.first_tertial}..T{self.last_tertial}"

    def contains(self, day: date) -> bool:
        """True if ``day`` falls in the period, both ends included (metrics.md §5: closed in the period)."""
        return self.start <= day <= self.end

    def in_year(self, year: int) -> Period:
        """The same tertials of another year, for comparisons over time (metrics.md §6)."""
        return Period(year, self.first_tertial, self.last_tertial, self.year_to_date)

    @classmethod
    def from_label(cls, label: str) -> Period:
        """Inverse of :attr:`label` (interchange.md). A range starting at T1 is read as year to date."""
        match = _LABEL.fullmatch(label)
        if not match:
            raise ValueError(f"not a period label: {label!r}")
        year, first, last = int(match[1]), int(match[2]), match[3]
        if last is None:
            return tertial(year, first)
        return cls(year, first, int(last), year_to_date=first == 1)


def tertial(year: int, t: int) -> Period:
    """Tertial ``t``: 1 = Jan–Apr, 2 = May–Aug, 3 = Sep–Dec (metrics.md §6)."""
    return Period(year, t, t)


def year_to_date(year: int, t: int) -> Period:
    """1 January to the end of tertial ``t`` (metrics.md §6)."""
    return Period(year, 1, t, year_to_date=True)


def whole_year(year: int) -> Period:
    """The whole year, i.e. year to date through tertial 3 (metrics.md §6)."""
    return year_to_date(year, 3)


def tertial_of(day: date) -> int:
    """The tertial (1–3) that ``day`` falls in (metrics.md §6)."""
    return next(t for t, (_, last_month, _) in _TERTIALS.items() if day.month <= last_month)
