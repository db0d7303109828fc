"""Norm parameter sets (metrics.md §2): typed or computed by Jacobson & Truax, activated with a full refresh."""
import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from fitapp.admin.norm_sets import Sample, computed_rows
from fitapp.extensions import db
from fitapp.models import AuditEvent, NormSetRecord, SeriesSummaryRecord
from fitapp.reports.series_store import refresh_series
from fitapp.reports.services import ReportError, build_report
from tests import factories
from tests.admin.conftest import sign_in

HEADER = {"key": "egen-2026", "name": "Egen 2026", "source": "Stadens egen normering, 2026"}


def set_of(key: str) -> NormSetRecord | None:
    db.session.expire_all()
    return db.session.scalar(select(NormSetRecord).where(NormSetRecord.key == key))


def active_keys() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(NormSetRecord.key).where(NormSetRecord.is_active)))


def audit_actions() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def set_count() -> int:
    return db.session.scalar(select(func.count()).select_from(NormSetRecord))


def row_form(index: int, instrument="", min_age="", max_age="", unknown=False, **numbers) -> dict:
    data = {f"rows-{index}-instrument": instrument, f"rows-{index}-min_age": min_age,
            f"rows-{index}-max_age": max_age, **{f"rows-{index}-{k}": v for k, v in numbers.items()}}
    if unknown:
        data[f"rows-{index}-includes_unknown_age"] = "y"
    return data


@pytest.fixture
def admin(client, org):
    sign_in(client, org["admin"])
    return org["admin"]


# ---------------------------------------------------------------- Jacobson & Truax


def test_the_computation_gives_the_check_values_of_metrics_md():
    rc_check, cutoff_check = computed_rows([
        Sample("ORS", None, None, True, m1=Decimal(20), sd1=Decimal("6.8"), m0=Decimal(30), sd0=Decimal("6.8"),
               r=Decimal("0.93")),
        Sample("CORS", None, None, True, m1=Decimal("35.48"), sd1=Decimal("8.16"), m0=Decimal("7.69"),
               sd0=Decimal("7.52"), r=Decimal("0.93")),
    ])
    assert rc_check.rc == Decimal("4.99") and rc_check.cutoff == Decimal("25.00")
    assert cutoff_check.cutoff == Decimal("21.02")


SAMPLES = {
    **HEADER,
    **row_form(0, "ORS", "18", "", True, m1="20", sd1="6,8", m0="30", sd0="6,8", r="0,93"),
    **row_form(1, "CORS", "", "", True, m1="35,48", sd1="8,16", m0="7,69", sd0="7,52", r="0,93"),
}


def test_computed_values_are_shown_before_saving_and_saved_as_shown(client, admin):
    preview = client.post("/admin/norm-sets/compute", data={**SAMPLES, "action": "preview"})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and set_of("egen-2026") is None
    assert "4,99" in html and "25,00" in html and "21,02" in html
    previewed = re.search(r'name="previewed" value="([^"]*)"', html).group(1)

    saved = client.post("/admin/norm-sets/compute", data={**SAMPLES, "action": "save", "previewed": previewed})
    assert saved.status_code == 302
    stored = set_of("egen-2026")
    assert [(p.instrument, p.min_age, p.max_age, p.includes_unknown_age, p.cutoff_x100, p.rc_x100)
            for p in stored.parameters] == [("ORS", 18, None, True, 2500, 499), ("CORS", None, None, True, 2102, 598)]
    assert (stored.name, stored.source, stored.is_active) == ("Egen 2026", "Stadens egen normering, 2026", False)
    assert audit_actions() == ["admin_create_norm_set"]


def test_values_changed_after_the_preview_are_shown_again_not_saved(client, admin):
    html = client.post("/admin/norm-sets/compute", data={**SAMPLES, "action": "preview"}).get_data(as_text=True)
    previewed = re.search(r'name="previewed" value="([^"]*)"', html).group(1)
    changed = {**SAMPLES, "rows-0-r": "0,80", "action": "save", "previewed": previewed}
    response = client.post("/admin/norm-sets/compute", data=changed)
    assert "Värdena ändrades efter beräkningen" in response.get_data(as_text=True)
    assert set_of("egen-2026") is None and audit_actions() == []


@pytest.mark.parametrize("change, message", [
    ({"rows-0-r": "1"}, "Måste vara från 0 och under 1."),
    ({"rows-0-sd1": "0"}, "Måste vara över 0 och högst 40."),
    ({"rows-0-m1": ""}, "Fyll i fältet."),
    ({"rows-1-m1": "40", "rows-1-m0": "40", "rows-1-sd0": "0,0001", "rows-1-sd1": "40"}, None),
])
def test_bad_sample_values_are_refused(client, admin, change, message):
    response = client.post("/admin/norm-sets/compute", data={**SAMPLES, **change, "action": "preview"})
    html = response.get_data(as_text=True)
    if message is None:  # valid numbers whose result is still possible: the preview shows it
        assert response.status_code == 200 and "40,00" in html
    else:
        assert response.status_code == 422 and message in html
    assert set_count() == 2


def test_a_result_above_the_highest_total_is_refused(client, admin):
    response = client.post("/admin/norm-sets/compute", data={
        **HEADER, **row_form(0, "ORS", m1="40", sd1="40", m0="40", sd0="1", r="0"), "action": "preview"})
    assert response.status_code == 422 and "över 40" in response.get_data(as_text=True)


# ---------------------------------------------------------------- typed values


TYPED = {**HEADER, **row_form(0, "ORS", "18", "", True, cutoff="25", rc="5,5"),
         **row_form(1, "ORS", "", "17", False, cutoff="28,25", rc="5,5"),
         **row_form(2, "CORS", "", "", True, cutoff="32", rc="6")}


def test_a_typed_set_is_stored_inactive_and_audited(client, admin):
    response = client.post("/admin/norm-sets/new", data=TYPED)
    assert response.status_code == 302
    stored = set_of("egen-2026")
    assert [(p.instrument, p.min_age, p.max_age, p.includes_unknown_age, p.cutoff_x100, p.rc_x100)
            for p in stored.parameters] == [("ORS", 18, None, True, 2500, 550), ("ORS", None, 17, False, 2825, 550),
                                            ("CORS", None, None, True, 3200, 600)]
    assert not stored.is_active and active_keys() == ["pcoms-2003"]
    assert audit_actions() == ["admin_create_norm_set"]
    html = client.get("/admin/norm-sets").get_data(as_text=True)
    assert "Egen 2026" in html and "Stadens egen normering, 2026" in html and "28,25" in html


@pytest.mark.parametrize("change, field, message", [
    ({"key": "pcoms-2003"}, "key", "Det finns redan en normvärdesuppsättning med nyckeln pcoms-2003."),
    ({"key": "Egen 2026"}, "key", "Använd gemener, siffror"),
    ({"source": ""}, "source", "Fyll i fältet."),
    ({"source": "Uppgift från 20120315-1234"}, "source", "ser ut som ett personnummer"),
    ({"rows-0-rc": "0"}, "rows-0-rc", "Måste vara över 0 och högst 40."),
    ({"rows-0-cutoff": "25,125"}, "rows-0-cutoff", "Högst 2 decimaler."),
    ({"rows-0-cutoff": "tjugo"}, "rows-0-cutoff", "är inte ett tal"),
    ({"rows-0-cutoff": "1e1"}, "rows-0-cutoff", "är inte ett tal"),
    ({"rows-2-rc": ""}, "rows-2-rc", "Fyll i fältet."),
    ({"rows-2-instrument": "YCORS"}, "rows-2-instrument", "Välj ett av alternativen."),
    ({"rows-1-min_age": "10", "rows-1-max_age": "5"}, "rows-1-max_age", "Åldersintervallet slutar innan det börjar."),
    ({"rows-1-max_age": "18"}, "rows-1-min_age", "Åldersintervallet överlappar en tidigare rad för ORS."),
    ({"rows-1-includes_unknown_age": "y"}, "rows-1-includes_unknown_age", "Bara en rad för ORS kan gälla okänd ålder."),
])
def test_bad_typed_values_are_refused_and_nothing_is_stored(client, admin, change, field, message):
    response = client.post("/admin/norm-sets/new", data={**TYPED, **change})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html and f'href="#{field}"' in html
    assert set_of("egen-2026") is None and set_count() == 2 and audit_actions() == []


def test_a_refusal_points_at_the_row_as_typed_even_after_empty_rows(client, admin):
    # As a browser sends it: every row, the unused ones empty.
    data = {**HEADER, **row_form(0, cutoff="", rc=""), **row_form(1, "ORS", "", "17", cutoff="28", rc="5"),
            **row_form(2, cutoff="", rc=""), **row_form(3, "ORS", "10", "", cutoff="25", rc="5")}
    html = client.post("/admin/norm-sets/new", data=data).get_data(as_text=True)
    assert "<a href=\"#rows-3-min_age\">Åldersintervallet överlappar" in html


def test_a_set_needs_at_least_one_row(client, admin):
    response = client.post("/admin/norm-sets/new", data=HEADER)
    assert response.status_code == 422 and "Ange minst en rad" in response.get_data(as_text=True)


# ---------------------------------------------------------------- activation


@pytest.fixture
def closed_case(org):
    """A young person whose ORS goes 20 → 26 (d = +6): improved with RC 5.0, unchanged with RC 6.6."""
    episode = factories.episode(org["units"]["A"], org["anna"], start_date=date(2025, 1, 13),
                                end_date=date(2025, 6, 30))
    child = factories.participant(episode, "index", birth_year=2010)
    factories.series(episode, child, "ORS", ["20.0", "23.0", "26.0"])
    factories.commit()
    refresh_series()
    return episode


def summary(episode) -> SeriesSummaryRecord:
    db.session.expire_all()
    return db.session.scalar(select(SeriesSummaryRecord).where(SeriesSummaryRecord.episode_id == episode.id))


def report():
    return build_report(2025, 2, False, ["A"], date(2026, 6, 30))


def test_activation_recomputes_every_series_so_reports_keep_working(client, admin, closed_case):
    assert (summary(closed_case).category, summary(closed_case).parameter_set) == ("improved", "pcoms-2003")
    cyp = set_of("cyp-iapt")
    response = client.post(f"/admin/norm-sets/{cyp.id}/activate", follow_redirects=True)
    assert "CYP-IAPT är nu den aktiva normvärdesuppsättningen. Omräknat med den: serier 1, ärenden 1." in response.get_data(as_text=True)
    assert active_keys() == ["cyp-iapt"]
    row = summary(closed_case)
    assert (row.category, row.parameter_set, row.rc_x100, row.cutoff_x100) == ("unchanged", "cyp-iapt", 660, 2800)
    assert report()  # no ReportError: the stored series match the active set
    assert audit_actions() == ["admin_activate_norm_set"]


def test_a_new_set_can_be_activated_and_its_values_are_used(client, admin, closed_case):
    client.post("/admin/norm-sets/new", data={**HEADER, **row_form(0, "ORS", cutoff="24", rc="2")})
    client.post(f"/admin/norm-sets/{set_of('egen-2026').id}/activate")
    row = summary(closed_case)
    # F 20 < 24 and L 26 ≥ 24 with d 6 ≥ 2: recovered under the new set.
    assert (row.category, row.parameter_set, row.cutoff_x100, row.rc_x100) == ("recovered", "egen-2026", 2400, 200)
    assert active_keys() == ["egen-2026"] and report()


def test_activating_the_active_set_changes_nothing(client, admin, closed_case):
    pcoms = set_of("pcoms-2003")
    response = client.post(f"/admin/norm-sets/{pcoms.id}/activate", follow_redirects=True)
    assert "redan den aktiva" in response.get_data(as_text=True)
    assert active_keys() == ["pcoms-2003"] and audit_actions() == []


def test_series_left_from_another_set_are_shown_and_can_be_recomputed(client, admin, closed_case):
    # As after an activation made outside the app (or a refresh that did not finish).
    db.session.execute(update(NormSetRecord).values(is_active=NormSetRecord.key == "cyp-iapt"))
    db.session.commit()
    with pytest.raises(ReportError):
        report()
    assert "1 serier är beräknade med en annan" in client.get("/admin/norm-sets").get_data(as_text=True)
    assert client.post("/admin/norm-sets/refresh").status_code == 302
    assert summary(closed_case).parameter_set == "cyp-iapt" and report()
    assert "beräknade med en annan" not in client.get("/admin/norm-sets").get_data(as_text=True)
    assert audit_actions() == ["admin_refresh_series"]


def test_unknown_sets_are_not_found(client, admin):
    assert client.post("/admin/norm-sets/999999/activate").status_code == 404


@pytest.mark.parametrize("who", ["anna", "chef_a", "kvalitet"])
def test_other_roles_are_refused(client, org, who):
    cyp = set_of("cyp-iapt")
    sign_in(client, org[who])
    for method, path in [("GET", "/admin/norm-sets"), ("GET", "/admin/norm-sets/new"),
                         ("POST", "/admin/norm-sets/new"), ("GET", "/admin/norm-sets/compute"),
                         ("POST", "/admin/norm-sets/compute"), ("POST", f"/admin/norm-sets/{cyp.id}/activate"),
                         ("POST", "/admin/norm-sets/refresh")]:
        response = client.open(path, method=method, data={**TYPED, "action": "save"})
        assert response.status_code == 403, (method, path)
    assert active_keys() == ["pcoms-2003"] and set_count() == 2 and audit_actions() == []


def test_above_the_request_limit_activation_is_left_to_the_command(app, client, admin, closed_case):
    app.config["NORM_ACTIVATION_MAX_SERIES"] = 0  # the one stored series is already too many
    cyp = set_of("cyp-iapt")
    page = client.post(f"/admin/norm-sets/{cyp.id}/activate", follow_redirects=True).get_data(as_text=True)
    assert "för många serier" in page and "flask --app fitapp activate-norm-set cyp-iapt" in page
    assert active_keys() == ["pcoms-2003"] and audit_actions() == []

    result = app.test_cli_runner().invoke(args=["activate-norm-set", "cyp-iapt"])
    assert result.exit_code == 0, result.output
    assert "cyp-iapt is now the active norm set; 1 series of 1 episodes recomputed" in result.output
    assert active_keys() == ["cyp-iapt"] and summary(closed_case).parameter_set == "cyp-iapt" and report()
    assert audit_actions() == ["admin_activate_norm_set"]


def test_the_command_refuses_an_unknown_key_and_names_the_known_ones(app, admin):
    result = app.test_cli_runner().invoke(args=["activate-norm-set", "nope"])
    assert result.exit_code == 1
    assert "no norm set with key 'nope'; known: cyp-iapt, pcoms-2003" in result.output
    assert active_keys() == ["pcoms-2003"]
