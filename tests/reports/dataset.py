"""A small, hand-checkable city for the report tests, built through the ORM.

District D1 has units UA and UB, district D2 has unit UC. Every family
archetype is repeated COPIES times, so with COPIES = 5 no non-zero count in
the UA block falls under the suppression threshold and every figure can be
checked by hand (tests/reports/test_report_values.py does the arithmetic).

Period of interest: 2025-T2 (2025-05-01..2025-08-31); as-of 2026-08-31, 365
days after the period's end, so the period is reported for
not_rereferred_12m (metrics.md §6).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from fitapp.extensions import db
from fitapp.models import Episode, Participant
from tests import factories as f

AS_OF = date(2026, 8, 31)


@dataclass
class City:
    units: dict = field(default_factory=dict)
    therapist: object = None
    children: dict[str, list[Participant]] = field(default_factory=dict)
    parents: list[Participant] = field(default_factory=list)
    episodes: dict[str, list[Episode]] = field(default_factory=dict)

    def add(self, kind: str, episode: Episode, child: Participant | None = None) -> None:
        self.episodes.setdefault(kind, []).append(episode)
        if child is not None:
            self.children.setdefault(kind, []).append(child)


def build_city(copies: int = 5) -> City:
    city = City()
    d1, d2 = f.district("D1"), f.district("D2")
    city.units = {"UA": f.unit(d1, "UA"), "UB": f.unit(d1, "UB"), "UC": f.unit(d2, "UC")}
    city.therapist = f.staff(units=city.units.values(), with_password=False)
    for _ in range(copies):
        family_a(city)
        family_b(city)
        family_c(city)
        family_d(city)
        family_e(city)
        closed_in_t1(city)
        closed_in_t3(city)
    f.commit()
    return city


def _episode(city: City, unit: str, start: date, end: date | None, *, code: str = "FAMBEH",
             referral: date | None = None, reason: str | None = None) -> Episode:
    episode = f.episode(city.units[unit], city.therapist, intervention_code=code, start_date=start, end_date=end)
    episode.referral_date = referral
    if reason is not None:
        episode.end_reason = reason
    return episode


def family_a(city: City) -> None:
    """UA, FAMBEH, 2025-02-01..2025-05-31, referral 2025-01-10, 3 sessions.

    Girl born 2012 (13 at start: flicka, 13-17) with ORS 20.0, 24.0, 27.0
    (cutoff 28, RC 5: improved, clinical). Her mother's own ORS and her
    collateral ORS about the girl must never count as index series. SRS:
    girl 35.0, 37.0, 36.0; mother 38.0, 39.0. The girl takes part (role
    other) in an open episode of UB, same district, from 2025-10-01:
    re-referred.
    """
    episode = _episode(city, "UA", date(2025, 2, 1), date(2025, 5, 31), referral=date(2025, 1, 10))
    girl = f.participant(episode, "index", birth_year=2012, gender="female")
    mother = f.participant(episode, "parent", birth_year=1985, gender="female")
    f.series(episode, girl, "ORS", ["20.0", "24.0", "27.0"])
    f.series(episode, mother, "ORS", ["10.0", "30.0"])
    f.series(episode, girl, "ORS", ["15.0", "35.0"], rater=mother)
    f.series(episode, girl, "SRS", ["35.0", "37.0", "36.0"])
    f.series(episode, mother, "SRS", ["38.0", "39.0"])
    later = _episode(city, "UB", date(2025, 10, 1), None)
    db.session.add(Participant(episode=later, person=girl.person, role="other"))
    city.add("A", episode, girl)
    city.parents.append(mother)


def family_b(city: City) -> None:
    """UA, FAMBEH, 2025-04-15..2025-06-30, referral 2025-03-01 (45 days), dropout, 2 sessions.

    Boy born 2015 (10: pojke, 6-12) with CORS 25.0, 33.0 (cutoff 32, RC 6:
    recovered) and CSRS 30.0, 34.0. Later episodes: UC (other district)
    from 2025-08-01, and UA from 2026-07-01, 366 days after the end: neither
    is a re-referral.
    """
    episode = _episode(city, "UA", date(2025, 4, 15), date(2025, 6, 30), referral=date(2025, 3, 1),
                       reason="client_dropout")
    boy = f.participant(episode, "index", birth_year=2015, gender="male")
    f.series(episode, boy, "CORS", ["25.0", "33.0"])
    f.series(episode, boy, "CSRS", ["30.0", "34.0"])
    for unit, start in (("UC", date(2025, 8, 1)), ("UA", date(2026, 7, 1))):
        later = _episode(city, unit, start, None)
        db.session.add(Participant(episode=later, person=boy.person, role="index"))
    city.add("B", episode, boy)


def family_c(city: City) -> None:
    """UA, FFT, 2025-06-01..2025-07-15, no referral date, 2 sessions.

    Young woman born 2000 (25: kvinna, 18+) with ORS 30.0, 22.0 (cutoff 25:
    not clinical; d = −8.0: deteriorated) and SRS 40.0. A second index
    person without birth year or gender and without ratings.
    """
    episode = _episode(city, "UA", date(2025, 6, 1), date(2025, 7, 15), code="FFT")
    woman = f.participant(episode, "index", birth_year=2000, gender="female")
    f.participant(episode, "index")
    f.series(episode, woman, "ORS", ["30.0", "22.0"])
    f.series(episode, woman, "SRS", ["40.0"])
    city.add("C", episode, woman)


def family_d(city: City) -> None:
    """UA, FAMBEH, 2025-08-01..2025-08-31 (last day of T2), referral 2025-07-02 (30 days), 2 sessions.

    Boy born 2013 (12: pojke, 6-12) with ORS 15.0 once and CORS 20.0, 22.0:
    the CORS series has more ratings and is the index series (unchanged,
    clinical).
    """
    episode = _episode(city, "UA", date(2025, 8, 1), date(2025, 8, 31), referral=date(2025, 7, 2))
    boy = f.participant(episode, "index", birth_year=2013, gender="male")
    f.series(episode, boy, "ORS", ["15.0"])
    f.series(episode, boy, "CORS", ["20.0", "22.0"])
    city.add("D", episode, boy)


def family_e(city: City) -> None:
    """UC, MST, 2025-05-01..2025-05-10, 1 session, girl born 2016 (flicka, 6-12) without ratings."""
    episode = _episode(city, "UC", date(2025, 5, 1), date(2025, 5, 10), code="MST")
    girl = f.participant(episode, "index", birth_year=2016, gender="female")
    f.session(episode, 1)
    city.add("E", episode, girl)


def closed_in_t1(city: City) -> None:
    """UA, closed 2025-04-30 (last day of T1): only in year-to-date reports. No sessions."""
    episode = _episode(city, "UA", date(2025, 3, 1), date(2025, 4, 30))
    child = f.participant(episode, "index", birth_year=2010, gender="female")
    city.add("T1", episode, child)


def closed_in_t3(city: City) -> None:
    """UA, closed 2025-09-01 (first day of T3): in no T2 report."""
    episode = _episode(city, "UA", date(2025, 8, 1), date(2025, 9, 1))
    f.participant(episode, "index", birth_year=2010, gender="male")
    city.add("T3", episode)
