"""Small factories and Hypothesis strategies for indicator and disclosure-control tests."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from fitapp.scoring.indicators import ClosedEpisode, IndexPerson
from fitapp.scoring.norms import PCOMS_2003
from fitapp.scoring.series import RatingPoint, SeriesSummary, summarise_series


def series(instrument: str, birth_year: int | None, *totals: str, start: date = date(2025, 1, 13)) -> SeriesSummary:
    """A weekly self-rated series with the given totals, summarised with pcoms-2003."""
    points = [RatingPoint(start + timedelta(weeks=i), i + 1, Decimal(t)) for i, t in enumerate(totals)]
    return summarise_series(instrument, points, birth_year, PCOMS_2003)


def episode(
    episode_id: str,
    intervention: str,
    start: date,
    end: date,
    *,
    referral: date | None = None,
    reason: str = "planned",
    sessions: int = 5,
    key: int = 0,
) -> ClosedEpisode:
    return ClosedEpisode(episode_id, intervention, referral, start, end, reason, sessions, key)


def person(
    of: ClosedEpisode,
    person_id: str,
    birth_year: int | None,
    gender: str | None,
    index_series: SeriesSummary | None = None,
    *,
    has_rating: bool | None = None,
    rereferred: bool = False,
    key: int = 0,
) -> IndexPerson:
    return IndexPerson(
        episode_id=of.episode_id,
        person_id=person_id,
        birth_year=birth_year,
        gender=gender,
        episode_start=of.start_date,
        intervention=of.intervention,
        has_self_outcome_rating=index_series is not None if has_rating is None else has_rating,
        index_series=index_series,
        rereferred_12m=rereferred,
        record_key=key,
    )


_totals = st.integers(min_value=0, max_value=400).map(lambda t: str(Decimal(t) / 10))
record_keys = st.integers(min_value=0, max_value=10**9 - 1)


@st.composite
def index_people(draw, of: ClosedEpisode, count: int) -> list[IndexPerson]:
    people = []
    for k in range(count):
        birth_year = draw(st.one_of(st.none(), st.integers(1960, of.start_date.year)))
        instrument = draw(st.sampled_from(["ORS", "CORS", "YCORS", None]))
        index_series = None
        if instrument is not None:
            index_series = series(instrument, birth_year, *draw(st.lists(_totals, min_size=1, max_size=5)), start=of.start_date)
        people.append(
            person(
                of,
                f"{of.episode_id}-p{k}",
                birth_year,
                draw(st.sampled_from(["female", "male", "other", None])),
                index_series,
                rereferred=draw(st.booleans()),
                key=draw(record_keys),
            )
        )
    return people


@st.composite
def datasets(draw, max_episodes: int = 12):
    """Consistent (episodes, persons, srs_totals) for one period and scope."""
    episodes, persons, srs = [], [], []
    for k in range(draw(st.integers(0, max_episodes))):
        start = date(2024, 1, 1) + timedelta(days=draw(st.integers(0, 500)))
        item = episode(
            f"e{k}",
            draw(st.sampled_from(["FAMBEH", "MST", "FFT", "ART"])),
            start,
            start + timedelta(days=draw(st.integers(0, 400))),
            referral=draw(st.one_of(st.none(), st.just(start - timedelta(days=draw(st.integers(0, 60)))))),
            reason=draw(st.sampled_from(["planned", "client_dropout", "moved", "other"])),
            sessions=draw(st.integers(0, 30)),
            key=draw(record_keys),
        )
        episodes.append(item)
        persons.extend(draw(index_people(item, draw(st.integers(0, 3)))))
        srs.extend((item.episode_id, item.intervention, Decimal(t), draw(record_keys))
                   for t in draw(st.lists(_totals, max_size=4)))
    return episodes, persons, srs
