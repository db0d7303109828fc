"""The derived series table: contents, index-series flags, idempotence, stale rows, norm set changes."""
from datetime import date

import pytest
from sqlalchemy import select, update

from fitapp.extensions import db
from fitapp.models import Episode, NormSetRecord, Rating, SeriesSummaryRecord, Session
from fitapp.reports.queries import report_facts
from fitapp.reports.series_store import refresh_series
from fitapp.reports.services import ReportError, build_report
from fitapp.scoring.periods import tertial


def stored_rows() -> set[tuple]:
    columns = [c for c in SeriesSummaryRecord.__table__.columns if c.name != "id"]
    return set(db.session.execute(select(*columns)).all())


def row_of(subject, instrument, rater=None) -> SeriesSummaryRecord | None:
    rater = rater or subject
    return db.session.scalar(select(SeriesSummaryRecord).where(
        SeriesSummaryRecord.subject_id == subject.id, SeriesSummaryRecord.rater_id == rater.id,
        SeriesSummaryRecord.instrument == instrument,
    ))


def test_rows_hold_the_series_summary(city):
    girl = city.children["A"][0]
    row = row_of(girl, "ORS")
    # ORS 20.0, 24.0, 27.0 at age 13: cutoff 28, RC 5 (pcoms-2003).
    assert (row.n, row.intake_x10, row.last_x10, row.change_x10) == (3, 200, 270, 70)
    assert (row.cutoff_x100, row.rc_x100, row.intake_clinical) == (2800, 500, True)
    assert (row.category, row.parameter_set, row.is_self, row.is_index_series) == ("improved", "pcoms-2003", True, True)
    assert (row.intake_date, row.last_date) == (date(2025, 2, 1), date(2025, 2, 15))
    srs = row_of(girl, "SRS")
    assert (srs.n, srs.category, srs.cutoff_x100, srs.is_index_series) == (3, None, None, False)


def test_parents_and_collateral_series_are_never_index_series(city):
    girl, mother = city.children["A"][0], city.parents[0]
    assert row_of(mother, "ORS").is_index_series is False
    collateral = row_of(girl, "ORS", rater=mother)
    assert (collateral.is_self, collateral.is_index_series) == (False, False)


def test_index_series_is_the_one_with_most_ratings(city):
    boy = city.children["D"][0]
    assert row_of(boy, "CORS").is_index_series is True
    assert row_of(boy, "ORS").is_index_series is False
    # One index series per index participant (metrics.md §5).
    flagged = db.session.scalars(select(SeriesSummaryRecord.subject_id).where(SeriesSummaryRecord.is_index_series))
    flagged = list(flagged)
    assert len(flagged) == len(set(flagged))


def test_refresh_is_idempotent(city):
    before = stored_rows()
    assert refresh_series().series == len(before)
    assert stored_rows() == before
    refresh_series([e.id for e in city.episodes["A"]])
    assert stored_rows() == before


def test_refresh_removes_rows_of_deleted_ratings(city):
    girl, mother = city.children["A"][0], city.parents[0]
    episode = city.episodes["A"][0]
    last_ors = db.session.scalar(
        select(Rating).join(Session).where(Rating.subject_id == girl.id, Rating.rater_id == girl.id,
                                           Rating.instrument == "ORS", Session.number == 3)
    )
    db.session.delete(last_ors)
    for rating in db.session.scalars(select(Rating).where(Rating.subject_id == mother.id, Rating.instrument == "SRS")):
        db.session.delete(rating)
    db.session.commit()
    refresh_series([episode.id])
    row = row_of(girl, "ORS")
    assert (row.n, row.last_x10, row.category) == (2, 240, "unchanged")  # 20.0 → 24.0: d 4 < RC 5
    assert row_of(mother, "SRS") is None
    # Other episodes of the same archetype are untouched.
    assert row_of(city.children["A"][1], "ORS").n == 3


def test_refresh_removes_rows_of_deleted_episodes(city):
    episode = db.session.get(Episode, city.episodes["C"][0].id)
    episode_id = episode.id
    db.session.delete(episode)
    db.session.commit()
    refresh_series()
    left = db.session.scalars(select(SeriesSummaryRecord).where(SeriesSummaryRecord.episode_id == episode_id))
    assert list(left) == []


def test_refresh_series_command(city, app):
    result = app.test_cli_runner().invoke(args=["refresh-series"])
    assert result.exit_code == 0, result.output
    assert f"{len(stored_rows())} series of " in result.output


def test_report_refuses_series_of_another_norm_set(city):
    db.session.execute(update(NormSetRecord).values(is_active=NormSetRecord.key == "cyp-iapt"))
    db.session.commit()
    with pytest.raises(ReportError, match="refresh-series"):
        build_report(2025, 2, False, ["UA"], date(2026, 8, 31))
    refresh_series()
    rows = build_report(2025, 2, False, ["UA"], date(2026, 8, 31), exact=True)
    # With RC 6.6 for ORS the girls of A (d +7) still improve; C's d −8 still deteriorates.
    assert any(r.indicator == "deteriorated" and r.numerator == 5 for r in rows)
    assert row_of(city.children["A"][0], "ORS").rc_x100 == 660


def test_rereferral_counts_other_units_of_the_district_only(city):
    period = tertial(2025, 2)
    persons = report_facts(period, None, date(2026, 8, 31)).inputs().persons
    found = {(p.episode_id, p.person_id) for p in persons if p.rereferred_12m}
    # A's girls take part (role other) in an episode of UB, same district, 123 days later.
    expected = {(e.id, c.person_id) for e, c in zip(city.episodes["A"], city.children["A"])}
    # B's boys: another district (UC) 32 days later, and UA 366 days later: neither counts.
    assert found == expected


def test_soft_deleted_ratings_and_sessions_are_left_out(city, run_report):
    from fitapp.models._types import utcnow

    girl = city.children["A"][0]
    episode = city.episodes["A"][0]
    third = db.session.scalar(select(Session).where(Session.episode_id == episode.id, Session.number == 3))
    third.deleted_at, third.delete_reason = utcnow(), "wrong_session"
    first_srs = db.session.scalar(
        select(Rating).join(Session).where(Rating.subject_id == girl.id, Rating.instrument == "SRS",
                                           Session.number == 1))
    first_srs.deleted_at, first_srs.delete_reason = utcnow(), "typing_error"
    db.session.commit()
    refresh_series([episode.id])
    assert (row_of(girl, "ORS").n, row_of(girl, "ORS").last_x10) == (2, 240)  # session 3 is gone
    assert row_of(girl, "SRS").n == 1  # SRS 35.0 (deleted) and 36.0 (session 3) are gone, 37.0 stays
    _, _, keyed = run_report("--year", "2025", "--tertial", "2", "--as-of", "2026-08-31", "--exact")
    # Sessions: 45 − 1 = 44 over 20 episodes; SRS: 40 − 2 ratings, 1445 − 35 − 36 = 1374 → 1374/38.
    assert keyed[("UA", "all", "all", "mean_sessions")]["value"] == "2.2000"
    assert keyed[("UA", "all", "all", "srs_mean")]["denominator"] == "38"
    assert keyed[("UA", "all", "all", "srs_mean")]["value"] == "36.1579"
