"""export-outcomes: one row per series with the category metrics.md §4 gives.

The expected rows were worked out by hand from metrics.md §2–§4 (pcoms-2003:
ORS c 25.0 / 28.0 under 18, RC 5.0; CORS c 32.0, RC 6.0), not by the code
under test.
"""
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from fitapp.extensions import db
from fitapp.interchange.exporter import HEADER, ExportFailed, write_outcomes
from fitapp.interchange.importer import import_ratings_file
from fitapp.models import AuditEvent, NormSetRecord

EPISODES = {
    ("U1", "E1"): dict(intervention="FFT", episode_start="2024-01-08", episode_end="2024-06-03", end_reason="planned"),
    ("U1", "E2"): dict(intervention="MST", episode_start="2024-02-05", episode_end="2024-08-26",
                       end_reason="client_dropout"),
    ("U2", "E3"): dict(intervention="FAMBEH", episode_start="2024-03-04", episode_end="2024-05-27",
                       end_reason="moved"),
    ("U2", "E4"): dict(intervention="FAMBEH", episode_start="2024-09-02", episode_end="", end_reason=""),
    ("U3", "E1"): dict(intervention="FFT", episode_start="2024-04-01", episode_end="2024-06-24", end_reason="planned",
                       district="D2"),
}
# A member of each unit (the import refuses a therapist who is not): U3 and its therapist are created.
THERAPISTS = {"U1": "anna", "U2": "bo", "U3": "cilla"}
PERSONS = {
    "P1": ("index", "2014", "female"), "P2": ("parent", "1985", "male"), "P3": ("index", "2009", "other"),
    "P4": ("parent", "", ""), "P9": ("other", "2007", "female"), "P5": ("index", "2020", "male"),
    "P6": ("parent", "1990", "female"), "P7": ("index", "2015", "female"), "P8": ("index", "2000", ""),
    "P10": ("index", "2012", "male"),
}
# (unit, episode, subject, rater, instrument, {session_no: total})
SERIES = [
    ("U1", "E1", "P1", "", "CORS", {1: "25.0", 3: "31.0"}),     # child age 10: d 6.0 = RC, L < 32: improved
    ("U1", "E1", "P1", "P2", "CORS", {1: "12.0"}),              # collateral, n = 1: single_rating
    ("U1", "E1", "P2", "", "ORS", {1: "30.0", 2: "27.0", 3: "24.9"}),  # adult d −5.1 ≤ −5.0: deteriorated
    ("U1", "E1", "P2", "", "SRS", {1: "36.0", 3: "38.0"}),      # alliance: no category
    ("U1", "E2", "P3", "", "ORS", {1: "20.0", 3: "28.0"}),      # age 15, c 28: recovered
    ("U1", "E2", "P3", "P4", "ORS", {1: "30.0", 3: "25.0"}),    # d −5.0 exactly: deteriorated
    ("U1", "E2", "P4", "", "ORS", {1: "30.0", 3: "35.0"}),      # age unknown = adult; F ≥ c, d +5.0: improved
    ("U1", "E2", "P9", "", "ORS", {1: "26.0", 3: "31.0"}),      # age 17, c 28 (adult c 25 would say improved)
    ("U2", "E3", "P5", "", "YCORS", {1: "20.0", 2: "30.0"}),    # not scored
    ("U2", "E3", "P6", "", "ORS", {1: "30.0", 2: "25.1"}),      # d −4.9: unchanged
    ("U2", "E3", "P7", "", "CORS", {1: "20.0", 2: "25.9"}),     # d 5.9 < 6.0: unchanged
    ("U2", "E4", "P8", "", "ORS", {1: "15.0", 2: "22.0"}),      # open episode
    ("U3", "E1", "P10", "", "CORS", {1: "26.0", 2: "32.0"}),    # d = RC and L = c exactly: recovered
    ("U3", "E1", "P10", "", "CSRS", {1: "35.0"}),               # alliance, n = 1
]
EXPECTED_CLOSED = """\
U1;E1;FFT;P1;index;;CORS;2014;female;2024-01-08;2024-06-03;planned;2;2024-01-08;25.0;2024-01-22;31.0;6.0;32.0;6.0;1;improved;pcoms-2003
U1;E1;FFT;P1;index;P2;CORS;2014;female;2024-01-08;2024-06-03;planned;1;2024-01-08;12.0;2024-01-08;12.0;;32.0;6.0;1;single_rating;pcoms-2003
U1;E1;FFT;P2;parent;;ORS;1985;male;2024-01-08;2024-06-03;planned;3;2024-01-08;30.0;2024-01-22;24.9;-5.1;25.0;5.0;0;deteriorated;pcoms-2003
U1;E1;FFT;P2;parent;;SRS;1985;male;2024-01-08;2024-06-03;planned;2;2024-01-08;36.0;2024-01-22;38.0;2.0;;;;;
U1;E2;MST;P3;index;;ORS;2009;other;2024-02-05;2024-08-26;client_dropout;2;2024-02-05;20.0;2024-02-19;28.0;8.0;28.0;5.0;1;recovered;pcoms-2003
U1;E2;MST;P3;index;P4;ORS;2009;other;2024-02-05;2024-08-26;client_dropout;2;2024-02-05;30.0;2024-02-19;25.0;-5.0;28.0;5.0;0;deteriorated;pcoms-2003
U1;E2;MST;P4;parent;;ORS;;;2024-02-05;2024-08-26;client_dropout;2;2024-02-05;30.0;2024-02-19;35.0;5.0;25.0;5.0;0;improved;pcoms-2003
U1;E2;MST;P9;other;;ORS;2007;female;2024-02-05;2024-08-26;client_dropout;2;2024-02-05;26.0;2024-02-19;31.0;5.0;28.0;5.0;1;recovered;pcoms-2003
U2;E3;FAMBEH;P5;index;;YCORS;2020;male;2024-03-04;2024-05-27;moved;2;2024-03-04;20.0;2024-03-11;30.0;10.0;;;;not_scored;
U2;E3;FAMBEH;P6;parent;;ORS;1990;female;2024-03-04;2024-05-27;moved;2;2024-03-04;30.0;2024-03-11;25.1;-4.9;25.0;5.0;0;unchanged;pcoms-2003
U2;E3;FAMBEH;P7;index;;CORS;2015;female;2024-03-04;2024-05-27;moved;2;2024-03-04;20.0;2024-03-11;25.9;5.9;32.0;6.0;1;unchanged;pcoms-2003
U3;E1;FFT;P10;index;;CORS;2012;male;2024-04-01;2024-06-24;planned;2;2024-04-01;26.0;2024-04-08;32.0;6.0;32.0;6.0;1;recovered;pcoms-2003
U3;E1;FFT;P10;index;;CSRS;2012;male;2024-04-01;2024-06-24;planned;1;2024-04-01;35.0;2024-04-01;35.0;;;;;;
"""
OPEN_ROW = ("U2;E4;FAMBEH;P8;index;;ORS;2000;;2024-09-02;;;2;2024-09-02;15.0;2024-09-09;22.0;7.0;25.0;5.0;1;"
            "improved;pcoms-2003")


def items_for(total: str) -> list[str]:
    """Four items in tenths, as even as possible, that sum to ``total``."""
    tenths = round(float(total) * 10)
    parts = [tenths // 4 + (1 if i < tenths % 4 else 0) for i in range(4)]
    return [f"{p // 10}.{p % 10}" for p in parts]


def session_date(episode: dict, number: int) -> str:
    return (date.fromisoformat(episode["episode_start"]) + timedelta(days=7 * (number - 1))).isoformat()


def file_rows() -> list[dict]:
    rows = []
    for unit, ref, subject, rater, instrument, totals in SERIES:
        episode = EPISODES[(unit, ref)]
        role, birth_year, gender = PERSONS[subject]
        for number, total in totals.items():
            rows.append({
                "district": episode.get("district", ""), "unit": unit, "episode_ref": ref,
                "therapist": THERAPISTS[unit],
                **{k: v for k, v in episode.items() if k != "district"}, "person_ref": subject, "role": role,
                "birth_year": birth_year, "gender": gender, "session_no": str(number),
                "session_date": session_date(episode, number), "instrument": instrument, "rater_ref": rater,
                **dict(zip(("item1", "item2", "item3", "item4"), items_for(total))), "total": total,
            })
            if rater:  # the rater attended too; their own row of the session has no rating
                r_role, r_year, r_gender = PERSONS[rater]
                rows.append({**rows[-1], "person_ref": rater, "role": r_role, "birth_year": r_year,
                             "gender": r_gender, "instrument": "", "rater_ref": "", "item1": "", "item2": "",
                             "item3": "", "item4": "", "total": ""})
    return rows


@pytest.fixture
def imported(organisation, ratings_file):
    # U3 is created in district D2 by --create-missing, and its therapist cilla with it.
    import_ratings_file(ratings_file(file_rows()), create_missing=True, dry_run=False)


def exported(tmp_path, **options) -> list[str]:
    path = tmp_path / "outcomes.csv"
    count = write_outcomes(path, include_open=options.get("include_open", False),
                           unit_codes=options.get("unit_codes", []))
    data = path.read_bytes()
    assert data.startswith("\ufeff".encode())
    lines = data.decode("utf-8-sig").split("\r\n")
    assert lines[0] == ";".join(HEADER) and lines[-1] == ""
    assert count == len(lines) - 2
    return lines[1:-1]


def test_header_is_exactly_the_spec():
    assert ";".join(HEADER) == (
        "unit;episode_ref;intervention;person_ref;role;rater_ref;instrument;birth_year;gender;episode_start;"
        "episode_end;end_reason;n_ratings;intake_date;intake_score;last_date;last_score;change;cutoff;rc;"
        "intake_clinical;category;parameter_set")


def test_closed_episodes_export_with_hand_computed_categories(imported, tmp_path):
    assert exported(tmp_path) == EXPECTED_CLOSED.splitlines()


def test_include_open_adds_series_of_open_episodes(imported, tmp_path):
    expected = EXPECTED_CLOSED.splitlines()
    expected.insert(11, OPEN_ROW)
    assert exported(tmp_path, include_open=True) == expected


def test_unit_filter(imported, tmp_path):
    rows = exported(tmp_path, unit_codes=["U2", "U3"], include_open=True)
    assert [r.split(";")[0] for r in rows] == ["U2", "U2", "U2", "U2", "U3", "U3"]


def test_an_unknown_unit_is_refused(imported, tmp_path):
    with pytest.raises(ExportFailed, match="unknown unit code.*NOPE"):
        write_outcomes(tmp_path / "x.csv", include_open=False, unit_codes=["U1", "NOPE"])
    assert not (tmp_path / "x.csv").exists()


def test_the_active_norm_set_decides_thresholds_and_is_named(imported, tmp_path):
    db.session.execute(update(NormSetRecord).values(is_active=NormSetRecord.key == "cyp-iapt"))
    db.session.commit()
    rows = {tuple(r.split(";")[i] for i in (0, 1, 3, 5, 6)): r.split(";") for r in exported(tmp_path)}
    p3 = rows[("U1", "E2", "P3", "", "ORS")]
    assert (p3[19], p3[21], p3[22]) == ("6.6", "recovered", "cyp-iapt")  # d 8.0 ≥ 6.6
    p4 = rows[("U1", "E2", "P4", "", "ORS")]
    assert (p4[19], p4[21]) == ("6.6", "unchanged")  # d 5.0 < 6.6
    p10 = rows[("U3", "E1", "P10", "", "CORS")]
    assert (p10[19], p10[21]) == ("10.0", "unchanged")  # d 6.0 < 10.0


def test_a_self_rating_given_with_the_own_reference_exports_an_empty_rater(organisation, ratings_file, tmp_path):
    rows = [r for r in file_rows() if r["unit"] == "U2" and r["episode_ref"] == "E3"]
    for r in rows:
        r["rater_ref"] = r["person_ref"]
    import_ratings_file(ratings_file(rows), create_missing=False, dry_run=False)
    assert all(r.split(";")[5] == "" for r in exported(tmp_path))


def test_an_export_is_audited(imported, tmp_path):
    exported(tmp_path, unit_codes=["U1"])
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export_outcomes")).one()
    assert event.unit_id is not None and event.object_type == "outcome_file"


def test_an_empty_database_exports_a_header_only(app, tmp_path):
    assert exported(tmp_path) == []


def test_soft_deleted_ratings_and_sessions_are_not_exported(imported, tmp_path):
    from datetime import datetime, timezone

    from fitapp.models import Episode, Participant, Person, Rating, Session

    def live_ratings_of(ref: str):
        return (select(Rating).join(Rating.session).join(Session.episode).join(Rating.subject)
                .join(Participant.person).where(Episode.ref == ref, Person.ref == "P2", Rating.instrument == "ORS"))

    now = datetime.now(timezone.utc)
    # P2's ORS 30.0, 27.0, 24.9: deleting the last rating makes it 30.0 → 27.0 (d −3.0: unchanged).
    last = db.session.scalars(live_ratings_of("E1").order_by(Session.number.desc())).first()
    last.deleted_at, last.delete_reason = now, "typing_error"
    # Deleting E3's second session removes P6's and P7's second ratings: single ratings.
    second = db.session.scalars(select(Session).join(Session.episode).where(Episode.ref == "E3",
                                                                           Session.number == 2)).one()
    second.deleted_at, second.delete_reason = now, "duplicate"
    db.session.commit()
    rows = {tuple(r.split(";")[i] for i in (1, 3, 5, 6)): r.split(";") for r in exported(tmp_path)}
    p2 = rows[("E1", "P2", "", "ORS")]
    assert (p2[12], p2[16], p2[17], p2[21]) == ("2", "27.0", "-3.0", "unchanged")
    assert rows[("E3", "P6", "", "ORS")][21] == "single_rating"
    assert rows[("E3", "P7", "", "CORS")][21] == "single_rating"
