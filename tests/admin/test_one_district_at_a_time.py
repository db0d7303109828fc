"""Issue 12 item 1: nobody belongs to units of two districts on the same day (each district is its own
authority, OSL 8 kap.). The administrator's membership and move pages refuse it; a move (an end and
a start) is allowed; the demo's staff follow the rule too."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from fitapp.cases.access import may_view_episode
from fitapp.demo.generator import fill_demo
from fitapp.extensions import db
from fitapp.models import Episode, Staff, Unit, UnitMembership
from fitapp.models.staff import membership_in_another_district
from fitapp.organisation_time import organisation_today
from tests import factories
from tests.admin.conftest import sign_in
from tests.security.conftest import table_contents

TWO_DISTRICTS = "ingen kan höra till enheter i två förvaltningar samtidigt"


@pytest.fixture
def admin(client, org):
    sign_in(client, org["admin"])
    return org


def refused(response, message: str) -> str:
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Ingenting sparades" in html and message in html, html
    return html


def memberships(staff: Staff) -> list[tuple]:
    db.session.expire_all()
    return [(m.unit.code, m.valid_from, m.valid_to) for m in db.session.get(Staff, staff.id).memberships]


def test_a_membership_in_a_unit_of_another_district_is_refused(client, admin):
    """The administrator's route to a person in three districts: each membership beside one of another
    district is refused, for therapists and unit heads alike."""
    before = table_contents(exclude=())
    for who, unit in (("cecilia", "A"), ("chef_a", "C")):
        html = refused(client.post(f"/admin/staff/{admin[who].id}/memberships",
                                   data={"membership-unit": str(admin["units"][unit].id),
                                         "membership-valid_from": "2026-01-01"}), TWO_DISTRICTS)
        other = "Familjeenheten C (Förvaltning Söder)" if who == "cecilia" else "Familjeenheten A (Förvaltning Norr)"
        assert f"{who} hör till {other} det datumet eller senare" in html
    db.session.expire_all()
    assert table_contents(exclude=()) == before


def test_a_membership_before_one_of_another_district_starts_is_refused_too(client, admin):
    """An open-ended membership would run into the later one."""
    cecilia = admin["cecilia"]
    cecilia.memberships[0].valid_from = date(2026, 1, 1)
    factories.commit()
    refused(client.post(f"/admin/staff/{cecilia.id}/memberships",
                        data={"membership-unit": str(admin["units"]["A"].id), "membership-valid_from": "2025-01-01"}),
            TWO_DISTRICTS)


def test_after_the_other_district_ends_a_membership_is_added(client, admin):
    cecilia, a = admin["cecilia"], admin["units"]["A"]
    cecilia.memberships[0].valid_to = date(2025, 12, 31)
    factories.commit()
    response = client.post(f"/admin/staff/{cecilia.id}/memberships",
                           data={"membership-unit": str(a.id), "membership-valid_from": "2026-01-01"})
    assert response.status_code == 302
    assert memberships(cecilia) == [("C", factories.LONG_AGO, date(2025, 12, 31)), ("A", date(2026, 1, 1), None)]


def test_units_of_the_same_district_may_be_held_together(client, admin):
    response = client.post(f"/admin/staff/{admin['anna'].id}/memberships",
                           data={"membership-unit": str(admin["units"]["B"].id), "membership-valid_from": "2026-01-01"})
    assert response.status_code == 302


def test_a_move_to_another_district_is_an_end_and_a_start(client, admin):
    arvid, c = admin["arvid"], admin["units"]["C"]
    old = arvid.memberships[0]
    move_day = organisation_today()
    response = client.post(f"/admin/staff/{arvid.id}/memberships/{old.id}/move",
                           data={"unit": str(c.id), "move_date": move_day.isoformat()})
    assert response.status_code == 302
    assert memberships(arvid) == [("A", factories.LONG_AGO, move_day - timedelta(days=1)), ("C", move_day, None)]


def test_a_move_to_another_district_while_still_in_a_second_unit_is_refused(client, admin):
    """anna is in A and B (district 1): moving A's membership to C would leave her in B and C at once."""
    anna = admin["anna"]
    anna.memberships.append(factories.membership(admin["units"]["B"]))
    factories.commit()
    old = anna.memberships[0]
    before = table_contents(exclude=())
    html = refused(client.post(f"/admin/staff/{anna.id}/memberships/{old.id}/move",
                               data={"unit": str(admin["units"]["C"].id),
                                     "move_date": organisation_today().isoformat()}), TWO_DISTRICTS)
    assert "anna hör till Familjeenheten B (Förvaltning Norr)" in html
    db.session.expire_all()
    assert table_contents(exclude=()) == before


def test_the_rule_on_its_own():
    """membership_in_another_district over plain spans: ends included, open ends run for ever."""
    d1, d2 = 1, 2
    unit_2 = Unit(code="X2", name="X2", district_id=d2)
    person = Staff(username="x", role="therapist")
    held = UnitMembership(unit=unit_2, valid_from=date(2025, 1, 1), valid_to=date(2025, 6, 30))
    person.memberships.append(held)
    assert membership_in_another_district(person, d1, date(2025, 6, 30)) is held
    assert membership_in_another_district(person, d1, date(2025, 7, 1)) is None
    assert membership_in_another_district(person, d1, date(2024, 1, 1), date(2024, 12, 31)) is None
    assert membership_in_another_district(person, d1, date(2024, 1, 1)) is held
    assert membership_in_another_district(person, d2, date(2025, 3, 1)) is None  # the same district
    assert membership_in_another_district(person, d1, date(2025, 3, 1), ignoring=held) is None


# ---------------------------------------------------------------- the demo


def test_the_demo_staff_belong_to_one_district_at_a_time_and_the_mover_left_the_old_cases(app):
    fill_demo(seed=7, today=organisation_today(), if_empty=False, scale=0.25)
    people = db.session.scalars(select(Staff)).all()
    for person in people:
        for membership in person.memberships:
            clash = membership_in_another_district(person, membership.unit.district_id, membership.valid_from,
                                                   membership.valid_to)
            assert clash is None, (person.username, membership.unit.code, clash.unit.code)
    # The demo's moved therapist (Ungdomsenheten Norr, then Familjeenheten Söder a year ago) keeps the
    # old unit's closed cases on record but sees none of them; the new unit's cases are theirs.
    [moved] = [p for p in people if p.role == "therapist" and len(p.memberships) == 2]
    today = organisation_today()
    old_unit, new_unit = (m.unit_id for m in moved.memberships)
    held = db.session.scalars(select(Episode).where(Episode.therapist_id == moved.id)).all()
    old_cases = [e for e in held if e.unit_id == old_unit]
    assert old_cases and all(e.end_date is not None for e in old_cases)
    assert not any(may_view_episode(moved, e, today) for e in old_cases)
    assert all(may_view_episode(moved, e, today) for e in held if e.unit_id == new_unit)
