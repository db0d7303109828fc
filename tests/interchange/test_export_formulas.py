"""export-outcomes writes no live formula (OWASP "CSV injection"; issue 12, item 7).

References, codes and the norm set's key that a spreadsheet would take for a
formula get a leading ``'``; numbers, dates and fixed values are written as
they are, so a negative change stays ``-5.1``. The values are put straight into
the database: the import and the administration would refuse most of them.
"""
import csv
import io

from sqlalchemy import update

from fitapp.extensions import db
from fitapp.interchange.exporter import HEADER, write_outcomes
from fitapp.interchange.importer import import_ratings_file
from fitapp.models import Episode, Intervention, NormSetRecord, Person, Unit
from tests.interchange.test_export import file_rows

HYPERLINK = '=HYPERLINK("http://x","y")'
# person ref as stored -> as the file must hold it
REFS = {"P1": "=1+2", "P2": "@SUM(1,2)", "P3": "+1", "P4": "-1+1", "P9": "\t=1+2"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_COLUMNS = ("unit", "episode_ref", "intervention", "person_ref", "rater_ref", "parameter_set")


def _outcomes(tmp_path) -> list[dict[str, str]]:
    path = tmp_path / "outcomes.csv"
    write_outcomes(path, include_open=False, unit_codes=[])
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline=""), delimiter=";"))


def test_formula_text_is_neutralised_and_numbers_are_not(organisation, ratings_file, tmp_path):
    rows = [r for r in file_rows() if r["unit"] == "U1"]  # anna's unit: E1 (FFT) and E2 (MST)
    import_ratings_file(ratings_file(rows), create_missing=False, dry_run=False)
    for ref, value in REFS.items():
        db.session.execute(update(Person).where(Person.ref == ref).values(ref=value))
    db.session.execute(update(Episode).where(Episode.ref == "E2").values(ref="\r=2+3"))
    db.session.execute(update(Unit).where(Unit.code == "U1").values(code=HYPERLINK))
    db.session.execute(update(Intervention).where(Intervention.code == "MST").values(code="-MST"))
    db.session.execute(update(NormSetRecord).where(NormSetRecord.is_active.is_(True)).values(key="+pcoms"))
    db.session.commit()

    exported = _outcomes(tmp_path)
    assert len(exported) == 8 and list(exported[0]) == list(HEADER)
    for row in exported:
        for column in HEADER:
            assert not row[column].startswith(FORMULA_STARTS) or column in ("change",), (column, row[column])
        assert row["unit"] == "'" + HYPERLINK
        assert row["parameter_set"] in ("'+pcoms", "")
    by_key = {(r["episode_ref"], r["person_ref"], r["rater_ref"], r["instrument"]): r for r in exported}
    e2 = "'\r=2+3"
    # P2's ORS, d -5.1: deteriorated; the change is a number and is written as one.
    p2 = by_key[("E1", "'@SUM(1,2)", "", "ORS")]
    assert (p2["intervention"], p2["change"], p2["intake_score"], p2["category"]) == ("FFT", "-5.1", "30.0",
                                                                                       "deteriorated")
    assert by_key[("E1", "'=1+2", "'@SUM(1,2)", "CORS")]["n_ratings"] == "1"  # a rater ref too
    p3_by_p4 = by_key[(e2, "'+1", "'-1+1", "ORS")]
    assert (p3_by_p4["intervention"], p3_by_p4["change"]) == ("'-MST", "-5.0")
    assert by_key[(e2, "'\t=1+2", "", "ORS")]["birth_year"] == "2007"
    assert by_key[(e2, "'-1+1", "", "ORS")]["change"] == "5.0"


def test_ordinary_text_is_written_as_it_is(organisation, ratings_file, tmp_path):
    rows = [r for r in file_rows() if r["unit"] == "U1"]
    import_ratings_file(ratings_file(rows), create_missing=False, dry_run=False)
    exported = _outcomes(tmp_path)
    assert {r["unit"] for r in exported} == {"U1"} and {r["parameter_set"] for r in exported} == {"pcoms-2003", ""}
    assert {r["person_ref"] for r in exported} == {"P1", "P2", "P3", "P4", "P9"}
    assert not any("'" in r[column] for r in exported for column in TEXT_COLUMNS)
