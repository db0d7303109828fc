"""Targets (målvärden): entered by the unit head for their units, audited, judged met / not met on the report."""
import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from fitapp.extensions import db
from fitapp.models import AuditEvent, ReportTarget
from fitapp.models.reports import LOWER_IS_BETTER
from fitapp.reports.services import build_report
from tests import factories as f
from tests.reports.html import keyed_cells
from tests.web.conftest import sign_in

T2 = "year=2025&tertial=2&span=tertial&as_of=2026-08-31"


@pytest.fixture
def head(city):
    staff = f.staff("head_a", "unit_head", [city.units["UA"]])
    f.commit()
    return staff


def _status(html: str, indicator: str) -> str | None:
    """The target status class in the line of ``indicator`` in the `all` table."""
    line = re.search(rf'data-cell="index/UA/all/all/{indicator}".*?</tr>', html, re.S).group(0)
    found = re.search(r'class="target target--(\w+)"', line)
    return found.group(1) if found else None


def test_targets_are_saved_audited_and_judged_on_the_report(client, head):
    sign_in(client, head)
    response = client.post("/reports/targets", data={
        "unit": "UA", "year": "2025",
        "coverage": "90",               # 80 %: not met
        "paired": "75,5",               # 80 %: met
        "not_rereferred_12m": "84",     # 80 %: not met
        "deteriorated": "25",           # 25 %, lower is better: met (at the target)
        "mean_change": "2.25",          # 2.25: met
        "srs_below_36": "",             # no target
    })
    assert response.status_code == 302
    stored = {t.indicator: t.target_x10000 for t in db.session.scalars(select(ReportTarget))}
    assert stored == {"coverage": 9000, "paired": 7550, "not_rereferred_12m": 8400, "deteriorated": 2500,
                      "mean_change": 22500}
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "set_target")).all()
    assert sorted(e.object_id for e in events) == sorted(f"UA/2025/{i}" for i in stored)
    assert {e.actor_id for e in events} == {head.id}

    # Judged on what is shown: the unit head's exact figures here (hand arithmetic in test_report_values.py) ...
    html = client.get(f"/reports/?{T2}&exact=1").get_data(as_text=True)
    assert _status(html, "coverage") == "not_met"
    assert _status(html, "paired") == "met"
    assert _status(html, "not_rereferred_12m") == "not_met"
    assert _status(html, "deteriorated") == "met"
    assert _status(html, "mean_change") == "met"
    assert _status(html, "srs_below_36") is None
    assert keyed_cells(html)["index/UA/all/all/coverage"]["fig-value"] == "80,0\u00a0%"
    # ... and the protected figures on the page everyone else may see, each against its own shown value.
    protected = {r.indicator: r for r in build_report(2025, 2, False, ["UA"], date(2026, 8, 31))
                 if r.unit == "UA" and r.breakdown == "all"}
    html = client.get(f"/reports/?{T2}").get_data(as_text=True)
    for indicator, target in stored.items():
        assert _status(html, indicator) == _expected_status(protected[indicator], indicator, target), indicator
    # Targets belong to a year: 2026's report has none.
    assert "target--" not in client.get("/reports/?year=2026&tertial=2").get_data(as_text=True)


def test_the_form_shows_saved_targets_and_removes_emptied_ones(client, head):
    sign_in(client, head)
    client.post("/reports/targets", data={"unit": "UA", "year": "2025", "coverage": "90", "srs_mean": "36"})
    html = client.get("/reports/targets?unit=UA&year=2025").get_data(as_text=True)
    assert 'name="coverage" inputmode="decimal" value="90"' in html
    assert 'name="srs_mean" inputmode="decimal" value="36"' in html
    client.post("/reports/targets", data={"unit": "UA", "year": "2025", "coverage": "90"})
    assert {t.indicator for t in db.session.scalars(select(ReportTarget))} == {"coverage"}
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions.count("set_target") == 3  # two set, one removed; saving the same coverage again is no change


def test_a_hidden_figure_cannot_be_judged(client, app):
    from fitapp.reports.series_store import refresh_series
    from tests.reports.dataset import build_city

    city = build_city(copies=1)
    refresh_series()
    staff = f.staff("head_a", "unit_head", [city.units["UA"]])
    f.commit()
    sign_in(client, staff)
    client.post("/reports/targets", data={"unit": "UA", "year": "2025", "coverage": "90"})
    rows = build_report(2025, 2, False, ["UA"], date(2026, 8, 31))
    coverage = next(r for r in rows if (r.unit, r.breakdown, r.indicator) == ("UA", "all", "coverage"))
    status = _status(client.get(f"/reports/?{T2}").get_data(as_text=True), "coverage")
    assert status == _expected_status(coverage, "coverage", 9000)
    assert (status == "unknown") == (coverage.suppressed or coverage.value is None)


def _expected_status(row, indicator: str, target_x10000: int) -> str:
    """met / not_met on the shown (protected) figure; unknown when it is hidden or has no value."""
    if row.suppressed or row.value is None:
        return "unknown"
    target = Decimal(target_x10000).scaleb(-4)
    met = row.value <= target if indicator in LOWER_IS_BETTER else row.value >= target
    return "met" if met else "not_met"


@pytest.mark.parametrize("value", ["abc", "101", "-1", "12.345", "NaN"])
def test_bad_values_are_refused_and_nothing_is_saved(client, head, value):
    sign_in(client, head)
    response = client.post("/reports/targets", data={"unit": "UA", "year": "2025", "coverage": value,
                                                     "paired": "80"})
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert db.session.scalars(select(ReportTarget)).all() == []


def test_targets_need_the_csrf_token(app, client, head):
    app.config["WTF_CSRF_ENABLED"] = True
    sign_in(client, head)
    assert client.post("/reports/targets", data={"unit": "UA", "year": "2025", "coverage": "90"}).status_code == 400
    assert db.session.scalars(select(ReportTarget)).all() == []


def test_a_unit_head_of_several_units_sets_each_units_own(client, city):
    staff = f.staff("head_ab", "unit_head", [city.units["UA"], city.units["UB"]])
    f.commit()
    sign_in(client, staff)
    client.post("/reports/targets", data={"unit": "UB", "year": "2025", "coverage": "90"})
    (target,) = db.session.scalars(select(ReportTarget)).all()
    assert target.unit_id == city.units["UB"].id and target.year == 2025
    # The report of both units together is not a unit's: no target column.
    html = client.get(f"/reports/?{T2}").get_data(as_text=True)
    assert "target--" not in html and date(2026, 8, 31).isoformat() in html
