"""Issue 12 item 1: a ratings file cannot hand a case to someone outside the case's unit.

The rule (fitapp.interchange.plan.Planner._therapists_in_their_units): a new episode's therapist
belongs to the row's unit on the episode's last day (its end date; today for an open episode).
A therapist created by --create-missing belongs to the units of one district only.
"""
from datetime import date

import pytest
from sqlalchemy import select

from fitapp.extensions import db
from fitapp.interchange.importer import ImportFailed, import_ratings_file
from fitapp.models import District, Episode, Staff, Unit
from fitapp.organisation_time import organisation_today
from tests import factories
from tests.interchange.files import row, table_counts


def errors_of(path, *, create_missing: bool = False) -> list[str]:
    before = table_counts()
    with pytest.raises(ImportFailed) as failure:
        import_ratings_file(path, create_missing=create_missing, dry_run=False)
    assert table_counts() == before, "a failed import must write nothing"
    return [str(error) for error in failure.value.errors]


@pytest.fixture
def districts(organisation):
    """Beside U1 (anna) and U2 (bo) of D1: unit U5 of district D2 with its therapist cecilia, and ulla,
    who was in U1 until 30 June 2024 and is in U5 since."""
    d2 = db.session.scalar(select(District).where(District.code == "D2"))
    u1 = db.session.get(Unit, organisation["U1"])
    u5 = Unit(code="U5", name="Enhet 5", district=d2)
    cecilia = Staff(username="cecilia", role="therapist", password_hash=None)
    cecilia.memberships.append(factories.membership(u5, date(2020, 1, 1)))
    ulla = Staff(username="ulla", role="therapist", password_hash=None)
    ulla.memberships.append(factories.membership(u1, date(2020, 1, 1), date(2024, 6, 30)))
    ulla.memberships.append(factories.membership(u5, date(2024, 7, 1)))
    db.session.add_all([u5, cecilia, ulla])
    db.session.commit()
    return organisation


def test_a_therapist_of_another_district_is_refused(districts, ratings_file):
    """The issue's finding: a row naming a therapist of another district gave them the case."""
    path = ratings_file([row(therapist="cecilia")])
    assert errors_of(path) == [
        "line 2, column therapist: therapist cecilia does not belong to unit U1 on 2024-05-30 (the episode's end "
        "date); a case is held by a member of its unit"]
    assert errors_of(path, create_missing=True) == errors_of(path)  # --create-missing adds no membership


def test_a_therapist_of_another_unit_of_the_district_is_refused_too(districts, ratings_file):
    assert errors_of(ratings_file([row(therapist="bo")])) == [
        "line 2, column therapist: therapist bo does not belong to unit U1 on 2024-05-30 (the episode's end "
        "date); a case is held by a member of its unit"]


def test_an_open_episode_needs_a_member_today(districts, ratings_file):
    path = ratings_file([row(therapist="ulla", episode_end="", end_reason="")])
    assert errors_of(path) == [
        f"line 2, column therapist: therapist ulla does not belong to unit U1 on {organisation_today()} (today: "
        "the episode is open); a case is held by a member of its unit"]


def test_a_closed_episode_may_name_who_held_it_then(districts, ratings_file):
    """ulla was in U1 when the case ended and has moved since: history may say so (she sees nothing of it)."""
    import_ratings_file(ratings_file([row(therapist="ulla")]), create_missing=False, dry_run=False)
    episode = db.session.scalars(select(Episode)).one()
    assert episode.therapist.username == "ulla"
    late = ratings_file([row(therapist="ulla", episode_ref="E9", episode_start="2024-06-03",
                             episode_end="2024-07-01", session_date="2024-06-03")])
    assert errors_of(late) == [
        "line 2, column therapist: therapist ulla does not belong to unit U1 on 2024-07-01 (the episode's end "
        "date); a case is held by a member of its unit"]


def test_every_refused_episode_is_named_at_its_first_line(districts, ratings_file):
    rows = [row(), row(episode_ref="E2", therapist="cecilia", person_ref="P2"),
            row(episode_ref="E2", therapist="cecilia", person_ref="P2", session_no="2", session_date="2024-01-17"),
            row(unit="U2", district="D1", episode_ref="E3", therapist="bo", person_ref="P3")]
    assert errors_of(ratings_file(rows)) == [
        "line 3, column therapist: therapist cecilia does not belong to unit U1 on 2024-05-30 (the episode's end "
        "date); a case is held by a member of its unit"]


def test_a_created_therapist_belongs_to_one_district_only(districts, ratings_file):
    rows = [row(unit="U1", therapist="ny"), row(unit="U5", district="D2", episode_ref="E2", therapist="ny",
                                              person_ref="P2")]
    assert errors_of(ratings_file(rows), create_missing=True) == [
        "line 3, column therapist: therapist ny would belong to unit U5 of district D2 and unit U1 of district "
        "D1 at the same time; nobody belongs to units of two districts"]
    same_district = [row(unit="U1", therapist="ny"), row(unit="U2", episode_ref="E2", therapist="ny",
                                                         person_ref="P2")]
    import_ratings_file(ratings_file(same_district), create_missing=True, dry_run=False)
    ny = db.session.scalar(select(Staff).where(Staff.username == "ny"))
    assert sorted(m.unit.code for m in ny.memberships) == ["U1", "U2"]


def test_an_existing_episode_keeps_its_therapist_whatever_their_membership_now(districts, ratings_file):
    """A re-import of a file of past years after its therapist moved still reads as 'nothing new'."""
    path = ratings_file([row(therapist="ulla")])
    import_ratings_file(path, create_missing=False, dry_run=False)
    assert import_ratings_file(path, create_missing=False, dry_run=False).nothing_new
