"""metrics.md §7 as seen in the written report file: protected figures by the cell-key method.

Each figure is checked against the rule itself: the cell key is worked out
here from the record keys in the database, independently of the report query,
and looked up in the table in force.
"""
from datetime import date

from sqlalchemy import func, select

from fitapp.disclosure import ptable_in_force
from fitapp.extensions import db
from fitapp.models import Episode, Participant
from fitapp.reports.series_store import refresh_series
from fitapp.scoring.ckm import KEY_MODULUS
from tests import factories as f
from tests.reports.dataset import build_city

T2 = ["--year", "2025", "--tertial", "2", "--as-of", "2026-08-31"]
T2_START, T2_END = date(2025, 5, 1), date(2025, 8, 31)


def assert_no_small_numbers(rows, threshold: int = 5) -> None:
    for row in rows:
        if row["suppressed"] == "1":
            assert (row["numerator"], row["denominator"], row["value"]) == ("", "", ""), row
            continue
        assert row["suppressed"] == "0", row
        numbers = [row["numerator"], row["denominator"]]
        if row["numerator"] and not row["denominator"]:  # a count: its value is the count too
            numbers.append(row["value"])
        for number in numbers:
            assert not (number and 1 <= int(number) < threshold), row


def closed_key_sum(unit_ids, model=Episode, role=None) -> tuple[int, int]:
    """(count, sum of record keys) of the T2-closed episodes of the units, or of their participants of ``role``."""
    query = select(func.count(), func.coalesce(func.sum(model.record_key), 0))
    if model is Participant:
        query = query.join(Episode, Participant.episode_id == Episode.id).where(Participant.role == role)
    else:
        query = query.select_from(Episode)
    query = query.where(Episode.unit_id.in_(unit_ids), Episode.end_date >= T2_START, Episode.end_date <= T2_END)
    count, keys = db.session.execute(query).one()
    return count, int(keys)


def shown(n: int, keys: int, table) -> str:
    protected = table.perturb(n, keys % KEY_MODULUS)
    return "" if 0 < protected < 5 else str(protected)


def test_the_file_holds_protected_figures_that_follow_the_table(app, run_report):
    city = build_city(copies=2)
    refresh_series()
    table = ptable_in_force()
    _, rows, keyed = run_report(*T2)
    assert {row["protection"] for row in rows} == {table.id} == {"ckm-d5-v3-js2"}
    assert_no_small_numbers(rows)
    ua, ub, uc = (city.units[c].id for c in ("UA", "UB", "UC"))
    # Each unit is a cell of its own; ALL (the whole organisation) too, with the keys of all its records.
    for unit, ids in (("UA", [ua]), ("UC", [uc]), ("ALL", [ua, ub, uc])):
        n, keys = closed_key_sum(ids)
        row = keyed[(unit, "all", "all", "episodes_closed")]
        assert row["numerator"] == shown(n, keys, table), (unit, n)
        n, keys = closed_key_sum(ids, Participant, "index")
        assert keyed[(unit, "all", "all", "index_persons")]["numerator"] == shown(n, keys, table), (unit, n)
    # UB closed nothing in T2: zero stays zero.
    assert keyed[("UB", "all", "all", "episodes_closed")]["numerator"] == "0"


def test_exact_figures_are_the_section_6_figures_with_nothing_hidden(app, run_report):
    build_city(copies=1)
    refresh_series()
    _, rows, keyed = run_report(*T2, "--exact")
    assert {row["protection"] for row in rows} == {"exact"}
    assert {row["suppressed"] for row in rows} == {"0"}
    assert keyed[("UA", "all", "all", "episodes_closed")]["numerator"] == "4"
    assert keyed[("UC", "all", "all", "index_persons")]["numerator"] == "1"
    assert keyed[("ALL", "all", "all", "episodes_closed")]["numerator"] == "5"


def test_zero_stays_zero_and_every_count_is_the_same_in_every_file(app, run_report):
    build_city(copies=1)
    refresh_series()
    _, exact, _ = run_report(*T2, "--exact")
    _, city, city_keyed = run_report(*T2)
    _, again, _ = run_report(*T2)
    assert again == city, "the same records always give the same figures"
    for row in exact:
        if row["unit"] != "ALL" and row["numerator"] == "0" and not row["denominator"]:
            assert city_keyed[(row["unit"], row["breakdown"], row["group"], row["indicator"])]["numerator"] == "0"
    _, own, own_keyed = run_report(*T2, "--unit", "UA")
    _, pair, pair_keyed = run_report(*T2, "--unit", "UA", "--unit", "UC")
    for keyed_file in (own_keyed, pair_keyed):
        for key, row in keyed_file.items():
            if key[0] != "ALL":
                assert row == city_keyed[key], key


def test_a_chosen_total_is_the_sum_of_its_units_protected_figures(app, run_report):
    city = build_city(copies=3)
    refresh_series()
    table = ptable_in_force()
    _, _, keyed = run_report(*T2, "--unit", "UA", "--unit", "UC")
    ua, uc = city.units["UA"].id, city.units["UC"].id
    for model, role, indicator in ((Episode, None, "episodes_closed"), (Participant, "index", "index_persons")):
        protected = [table.perturb(n, keys % KEY_MODULUS)
                     for n, keys in (closed_key_sum([unit], model, role) for unit in (ua, uc))]
        total = sum(protected)
        row = keyed[("ALL", "all", "all", indicator)]
        assert row["numerator"] == ("" if 0 < total < 5 else str(total)), (indicator, protected)
    # Shares of the chosen total: the sum of the protected numerators over the sum of the protected denominators.
    coverage = keyed[("ALL", "all", "all", "coverage")]
    persons = keyed[("ALL", "all", "all", "index_persons")]
    if coverage["suppressed"] == "0":
        assert coverage["denominator"] == persons["numerator"]


def test_the_as_of_date_changes_no_figure_of_a_mature_period(app, run_report):
    build_city(copies=2)
    refresh_series()
    # T2 2025 ends on 2025-08-31: not_rereferred_12m is reported from 2026-08-31 on.
    _, early, early_keyed = run_report("--year", "2025", "--tertial", "2", "--as-of", "2026-08-30")
    assert not [r for r in early if r["indicator"] == "not_rereferred_12m"]
    _, mature, mature_keyed = run_report("--year", "2025", "--tertial", "2", "--as-of", "2026-08-31")
    _, later, _ = run_report("--year", "2025", "--tertial", "2", "--as-of", "2027-12-31")
    assert mature == later
    assert [r for r in mature if r["indicator"] != "not_rereferred_12m"] == early
    assert mature_keyed[("UA", "all", "all", "not_rereferred_12m")]["protection"] == "ckm-d5-v3-js2"


def test_threshold_comes_from_the_setting(app, run_report):
    build_city(copies=1)
    f.commit()
    refresh_series()
    app.config["SUPPRESSION_THRESHOLD"] = 3
    _, rows, _ = run_report(*T2)
    assert_no_small_numbers(rows, threshold=3)
    # With threshold 3 a protected 3 or 4 is shown; with 5 it is not.
    shown_small = [r for r in rows if r["numerator"] in ("3", "4") and r["suppressed"] == "0"]
    app.config["SUPPRESSION_THRESHOLD"] = 5
    _, default_rows, _ = run_report(*T2)
    assert_no_small_numbers(default_rows)
    assert len([r for r in default_rows if r["suppressed"] == "1"]) >= len(
        [r for r in rows if r["suppressed"] == "1"])
    assert all(r["suppressed"] == "0" for r in shown_small)
