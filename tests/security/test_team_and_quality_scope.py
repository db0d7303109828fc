"""Who sees a colleague's case (team visibility, the unit's choice) and which units a quality group's reports cover.

Team: a therapist sees the cases of the therapists in their own team today,
in a unit with ``team_cases_visible``, and only that unit's cases; otherwise
only their own (fitapp.cases.access.episode_scope). Quality group: the units of
its district (``scope_district_id``), or the whole city without one
(fitapp.reports.scope.report_units). ASVS 5.0 V8.2.2 and V8.4.1.
"""
from datetime import date, timedelta

import pytest

from fitapp.cases.services import caseload_for
from fitapp.extensions import db
from fitapp.reports.scope import report_units
from fitapp.models import Team
from tests import factories
from tests.security.conftest import sign_in

YESTERDAY = date.today() - timedelta(days=1)


def join_team(staff, team, *, valid_to=None):
    """Put ``staff``'s membership of the team's unit in the team (added if they have none)."""
    membership = next((m for m in staff.memberships if m.unit_id == team.unit_id), None)
    if membership is None:
        membership = factories.membership(unit_id=team.unit_id)
        staff.memberships.append(membership)
    membership.team_id, membership.valid_to = team.id, valid_to
    db.session.flush()


@pytest.fixture
def team(org):
    """Unit A shows team cases; anna and arvid are in its team 1, anna holds case TEAM-1 in A."""
    a = org["units"]["A"]
    a.team_cases_visible = True
    team = factories._add(Team(unit=a, name="Team 1"))
    join_team(org["anna"], team)
    join_team(org["arvid"], team)
    org["case"] = factories.episode(a, org["anna"], ref="TEAM-1")
    factories.commit()
    org["team"] = team
    return org


def sees(client, org, who: str, episode) -> bool:
    """The case page opens for ``who``, and their caseload lists the case (or neither)."""
    sign_in(client, org[who])
    status = client.get(f"/cases/{episode.id}").status_code
    listed = episode.ref in {r.ref for r in caseload_for(org[who], date.today()).rows}
    assert status in (200, 404) and (status == 200) == listed, (who, status, listed)
    return listed


def test_a_team_member_sees_the_teams_cases_when_the_unit_chose_so(client, team):
    assert sees(client, team, "arvid", team["case"])
    html = client.get("/").get_data(as_text=True)
    assert "Mina och mitt teams ärenden" in html and "TEAM-1" in html and ">anna<" in html


def test_without_the_units_choice_only_ones_own_cases(client, team):
    team["units"]["A"].team_cases_visible = False
    factories.commit()
    assert not sees(client, team, "arvid", team["case"])
    assert sees(client, team, "anna", team["case"])


def test_a_therapist_of_the_unit_outside_the_team_does_not_see_it(client, team):
    outsider = factories.staff("olle", "therapist", [team["units"]["A"]])
    other_team = factories._add(Team(unit=team["units"]["A"], name="Team 2"))
    join_team(outsider, other_team)
    team["olle"] = outsider
    factories.commit()
    assert not sees(client, team, "olle", team["case"])


def test_a_team_member_of_another_unit_does_not_see_it(client, team):
    """bert is in a team of unit B (which shows team cases) and anna is in that team too: A's case stays hidden."""
    b = team["units"]["B"]
    b.team_cases_visible = True
    team_b = factories._add(Team(unit=b, name="Team B"))
    join_team(team["bert"], team_b)
    join_team(team["anna"], team_b)
    case_b = factories.episode(b, team["anna"], ref="TEAM-B")
    factories.commit()
    assert not sees(client, team, "bert", team["case"])
    assert sees(client, team, "bert", case_b)       # anna's case in B: their shared team there
    assert not sees(client, team, "arvid", case_b)  # arvid shares a team with anna only in unit A


def test_a_team_membership_that_has_ended_shows_nothing(client, team):
    join_team(team["arvid"], team["team"], valid_to=YESTERDAY)
    factories.commit()
    assert not sees(client, team, "arvid", team["case"])


def test_team_visibility_never_reaches_other_roles_or_districts(client, team):
    for who in ("cecilia", "kvalitet", "admin"):
        sign_in(client, team[who])
        assert client.get(f"/cases/{team['case'].id}").status_code in (403, 404), who


# ---------------------------------------------------------------- quality group scope


REPORT_PAGES = ("/reports/", "/reports/over-time", "/reports/units", "/reports/export.csv", "/reports/print")


def codes(units) -> list[str]:
    return [u.code for u in units]


def test_a_district_quality_group_sees_only_its_districts_units(client, org):
    quality = org["kvalitet"]
    quality.scope_district_id = org["units"]["A"].district_id
    factories.commit()
    assert codes(report_units(quality, date.today())) == ["A", "B"]
    sign_in(client, quality)
    for page in REPORT_PAGES:
        # Refused before any figure is computed: another district's unit is not even said to exist.
        assert client.get(f"{page}?unit=C").status_code == 404, page
        assert client.get(f"{page}?unit=A&unit=C").status_code == 404, page


def test_a_quality_group_without_a_district_sees_the_whole_city(app, org):
    assert codes(report_units(org["kvalitet"], date.today())) == ["A", "B", "C"]
