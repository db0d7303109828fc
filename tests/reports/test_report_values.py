"""Every figure of the exact report file (``report --exact``) checked against hand arithmetic on
tests/reports/dataset.py: the app against metrics.md §6, with nothing hidden.

Archetypes (each 5 times; see dataset.py for the details), period 2025-T2, as-of 2026-08-31:

  A  UA FAMBEH  119 days, 3 sessions, referral 22 d   girl 13  ORS 20→27  d +7  improved   clinical   re-referred (UB)
  B  UA FAMBEH   76 days, 2 sessions, referral 45 d   boy 10   CORS 25→33 d +8  recovered  clinical   dropout
  C  UA FFT      44 days, 2 sessions, no referral     woman 25 ORS 30→22  d −8  deteriorated non-clin. + 1 person, no ratings
  D  UA FAMBEH   30 days, 2 sessions, referral 30 d   boy 12   CORS 20→22 d +2  unchanged  clinical
  E  UC MST       9 days, 1 session,  no referral     girl 9   no ratings
not_rereferred_12m: every index person; A's girls are re-referred (UB, same district).
Self-rated SRS/CSRS per set: A 35, 37, 36 (girl) + 38, 39 (mother); B 30, 34; C 40  →  8 ratings, sum 289, 3 below 36.
"""
from sqlalchemy import select

from fitapp.extensions import db
from fitapp.models import AuditEvent

AS_OF = ["--as-of", "2026-08-31"]
T2 = ["--year", "2025", "--tertial", "2", *AS_OF, "--exact"]


def figures(keyed, unit, breakdown, group, indicator):
    row = keyed[(unit, breakdown, group, indicator)]
    assert row["suppressed"] == "0", row
    return row["numerator"], row["denominator"], row["value"]


def test_unit_ua_all_row_matches_hand_arithmetic(city, run_report):
    _, rows, keyed = run_report(*T2)
    expected = {
        # 4 archetypes × 5
        "episodes_closed": ("20", "", "20"),
        # A 5 + B 5 + C 2×5 + D 5
        "index_persons": ("25", "", "25"),
        # all but C's second person: 20/25
        "coverage": ("20", "25", "0.8000"),
        # A (n 3), B, C, D (n 2 each): 20/25
        "paired": ("20", "25", "0.8000"),
        # A improved + B recovered = 10 of 20
        "reliable_improvement": ("10", "20", "0.5000"),
        # B 5 of the clinical A, B, D = 15: 5/15
        "recovered": ("5", "15", "0.3333"),
        # C: 5/20
        "deteriorated": ("5", "20", "0.2500"),
        # (20 + 25 + 30 + 20)·5 / 20 = 475/20
        "mean_intake": ("", "20", "23.7500"),
        # (7 + 8 − 8 + 2)·5 / 20 = 45/20
        "mean_change": ("", "20", "2.2500"),
        # F: 20×10, 25×5, 30×5, mean 23.75; Σ(F−m)² = 10·3.75² + 5·1.25² + 5·6.25² = 343.75;
        # SD = √(343.75/19) = 4.25348; 2.25 / 4.25348 = 0.52898
        "effect_size": ("", "20", "0.5290"),
        # (3 + 2 + 2 + 2)·5 / 20
        "mean_sessions": ("", "20", "2.2500"),
        # (119 + 76 + 44 + 30)·5 / 20 = 1345/20
        "mean_days": ("", "20", "67.2500"),
        # B: 5/20
        "dropout": ("5", "20", "0.2500"),
        # referral known for A, B, D (15); within 30 days A (22), D (30): 10/15
        "started_within_30d": ("10", "15", "0.6667"),
        # all 25 index persons; A re-referred to UB (same district); B's later episodes are in
        # another district or 366 days later: 20/25
        "not_rereferred_12m": ("20", "25", "0.8000"),
        # 289·5 / 40 = 36.125 (the mother's SRS counts: it is an episode-level figure)
        "srs_mean": ("", "40", "36.1250"),
        # 3·5 / 40
        "srs_below_36": ("15", "40", "0.3750"),
    }
    assert {k: figures(keyed, "UA", "all", "all", k) for k in expected} == expected
    assert {r["period"] for r in rows} == {"2025-T2"}


def test_unit_ua_breakdowns(city, run_report):
    _, rows, keyed = run_report(*T2)
    # Boys B (10, CORS 25→33) and D (12, CORS 20→22): 10 persons.
    pojke = {
        "index_persons": ("10", "", "10"),
        "coverage": ("10", "10", "1.0000"),
        "reliable_improvement": ("5", "10", "0.5000"),
        "recovered": ("5", "10", "0.5000"),
        "deteriorated": ("0", "10", "0.0000"),
        "mean_intake": ("", "10", "22.5000"),  # (25 + 20)/2
        "mean_change": ("", "10", "5.0000"),  # (8 + 2)/2
        # Σ(F−22.5)² = 10·2.5² = 62.5; SD = √(62.5/9) = 2.63523; 5 / 2.63523 = 1.89737
        "effect_size": ("", "10", "1.8974"),
        "not_rereferred_12m": ("10", "10", "1.0000"),  # B and D, neither re-referred
    }
    assert {k: figures(keyed, "UA", "gender", "pojke", k) for k in pojke} == pojke
    # Girls A: all improved, none re-referred; SD of F is 0, so no effect size.
    assert figures(keyed, "UA", "gender", "flicka", "not_rereferred_12m") == ("0", "5", "0.0000")
    assert figures(keyed, "UA", "gender", "flicka", "effect_size") == ("", "5", "")
    # C's second person: no birth year (okand), no gender (uppgift_saknas), no ratings.
    assert figures(keyed, "UA", "gender", "uppgift_saknas", "coverage") == ("0", "5", "0.0000")
    assert figures(keyed, "UA", "gender", "uppgift_saknas", "mean_intake") == ("", "0", "")
    assert figures(keyed, "UA", "age_band", "okand", "index_persons") == ("5", "", "5")
    assert _groups(rows, "UA", "gender", "index_persons") == ["flicka", "pojke", "kvinna", "uppgift_saknas"]
    assert _groups(rows, "UA", "age_band", "index_persons") == ["6-12", "13-17", "18+", "okand"]
    # Episode level by intervention. FAMBEH = A, B, D: days (119 + 76 + 30)/3 = 75;
    # sessions 7/3; SRS (185 + 64)·5 / 35 = 35.5714; below 36: (1 + 2)·5 / 35.
    fambeh = {
        "episodes_closed": ("15", "", "15"),
        "mean_days": ("", "15", "75.0000"),
        "mean_sessions": ("", "15", "2.3333"),
        "dropout": ("5", "15", "0.3333"),
        "srs_mean": ("", "35", "35.5714"),
        "srs_below_36": ("15", "35", "0.4286"),
    }
    assert {k: figures(keyed, "UA", "intervention", "FAMBEH", k) for k in fambeh} == fambeh
    assert figures(keyed, "UA", "intervention", "FFT", "started_within_30d") == ("0", "0", "")
    assert figures(keyed, "UA", "intervention", "FFT", "coverage") == ("5", "10", "0.5000")
    # Episode-level indicators are never broken down by gender or age band.
    assert not any(r["breakdown"] in ("gender", "age_band") and r["indicator"] == "mean_days" for r in rows)


def test_every_unit_and_all_in_code_order(city, run_report):
    _, rows, keyed = run_report(*T2)
    assert _unit_sequence(rows) == ["UA", "UB", "UC", "ALL"]
    # UB has only open episodes: zeros are shown, never suppressed.
    assert figures(keyed, "UB", "all", "all", "episodes_closed") == ("0", "", "0")
    assert figures(keyed, "UB", "all", "all", "mean_days") == ("", "0", "")
    assert {r["breakdown"] for r in rows if r["unit"] == "UB"} == {"all"}
    # UC: E, not re-referred.
    assert figures(keyed, "UC", "all", "all", "not_rereferred_12m") == ("5", "5", "1.0000")
    assert figures(keyed, "UC", "all", "all", "mean_days") == ("", "5", "9.0000")
    expected_all = {
        "episodes_closed": ("25", "", "25"),
        "index_persons": ("30", "", "30"),
        "coverage": ("20", "30", "0.6667"),
        "mean_intake": ("", "20", "23.7500"),
        "mean_sessions": ("", "25", "2.0000"),  # (45 in UA + 1·5 in UC) / 25
        "mean_days": ("", "25", "55.6000"),  # (1345 + 45) / 25
        "dropout": ("5", "25", "0.2000"),
        "not_rereferred_12m": ("25", "30", "0.8333"),  # all but A's 5 girls
        "srs_mean": ("", "40", "36.1250"),
    }
    assert {k: figures(keyed, "ALL", "all", "all", k) for k in expected_all} == expected_all


def test_all_covers_only_the_units_given(city, run_report):
    _, rows, keyed = run_report(*T2, "--unit", "UA")
    assert _unit_sequence(rows) == ["UA", "ALL"]
    assert figures(keyed, "ALL", "all", "all", "episodes_closed") == ("20", "", "20")
    _, rows, keyed = run_report(*T2, "--unit", "UC", "--unit", "UA")
    assert _unit_sequence(rows) == ["UA", "UC", "ALL"]
    assert figures(keyed, "ALL", "all", "all", "episodes_closed") == ("25", "", "25")


def test_period_labels_and_year_to_date(city, run_report):
    _, rows, keyed = run_report("--year", "2025", "--tertial", "2", "--ytd", *AS_OF, "--exact")
    assert {r["period"] for r in rows} == {"2025-T1..T2"}
    # T2's 20 plus the 5 closed on 2025-04-30.
    assert figures(keyed, "UA", "all", "all", "episodes_closed") == ("25", "", "25")
    _, rows, keyed = run_report("--year", "2025", "--tertial", "1", "--ytd", *AS_OF, "--exact")
    assert {r["period"] for r in rows} == {"2025-T1..T1"}
    assert figures(keyed, "UA", "all", "all", "episodes_closed") == ("5", "", "5")
    _, rows, keyed = run_report("--year", "2025", "--tertial", "3", "--as-of", "2026-12-31", "--exact")
    assert {r["period"] for r in rows} == {"2025-T3"}
    # Closed 2025-09-01 only; 2025-08-31 belongs to T2.
    assert figures(keyed, "UA", "all", "all", "episodes_closed") == ("5", "", "5")


def test_as_of_decides_only_whether_rereferral_is_reported(city, run_report):
    # One day before 365 days after the period's end: left out, and nothing else changes.
    _, early, _ = run_report("--year", "2025", "--tertial", "2", "--as-of", "2026-08-30", "--exact")
    _, mature, _ = run_report(*T2)
    _, later, _ = run_report("--year", "2025", "--tertial", "2", "--as-of", "2030-01-01", "--exact")
    assert not [r for r in early if r["indicator"] == "not_rereferred_12m"]
    assert [r for r in mature if r["indicator"] != "not_rereferred_12m"] == early
    assert later == mature


def test_unknown_unit_is_an_error(city, run_report, tmp_path):
    result, _, _ = run_report(*T2, "--unit", "UA", "--unit", "NOPE", expect_ok=False)
    assert result.exit_code != 0
    assert "unknown unit code(s): NOPE" in result.output
    assert not (tmp_path / "report.csv").exists()


def test_report_is_audited_without_content(city, run_report):
    run_report(*T2[:-1], "--unit", "UA")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export_report"))
    assert event is not None
    assert event.unit_id == city.units["UA"].id
    assert event.object_id == "2025-T2"
    run_report(*T2, "--unit", "UA")
    exact = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export_report_exact"))
    assert exact is not None and exact.object_id == "2025-T2"


def _unit_sequence(rows) -> list[str]:
    units: list[str] = []
    for row in rows:
        if not units or units[-1] != row["unit"]:
            units.append(row["unit"])
    return units


def _groups(rows, unit, breakdown, indicator) -> list[str]:
    return [r["group"] for r in rows if (r["unit"], r["breakdown"], r["indicator"]) == (unit, breakdown, indicator)]
