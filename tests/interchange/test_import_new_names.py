"""``--create-missing`` creates only what the administration would accept (fitapp.names; issue 12, item 7).

A unit, district or intervention code or a therapist's login name that the
import would create is checked like one typed on the administration pages:
refused at the first line and column that name it, and then nothing at all is
imported. Codes that are stored already are found as they are.
"""
import csv
import io

import pytest

from fitapp.extensions import db
from fitapp.interchange.importer import ImportFailed, import_ratings_file
from fitapp.interchange.rows import COLUMNS
from fitapp.models import Staff, Unit
from tests.interchange.files import row, table_counts

HYPERLINK = '=HYPERLINK("http://x","y")'
FORMULA = "must not start with =, +, - or @ (a spreadsheet would read it as a formula)"
IDENTITY = ("looks like a personal identity number (personnummer or samordningsnummer); "
            "only pseudonymous references may be imported")


def csv_file(ratings_file, rows: list[dict]):
    """The rows as a ';' file, quoted as a spreadsheet program writes them (a code may hold '"' and ',')."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows([r.get(c, "") for c in COLUMNS] for r in rows)
    return ratings_file([], text=out.getvalue())


def errors_of(path, *, create_missing: bool = True) -> list[str]:
    before = table_counts()
    with pytest.raises(ImportFailed) as failure:
        import_ratings_file(path, create_missing=create_missing, dry_run=False)
    assert table_counts() == before, "a failed import must write nothing"
    return [str(error) for error in failure.value.errors]


def second(**changes) -> dict:
    """A valid row of another episode (E2, person P2): the problem is on line 3.

    A new unit gets a new therapist (dag, created with it): a case is held by a member of its unit.
    """
    new_unit = changes.get("unit", "U1") not in ("U1", "U2")
    return row(**{"episode_ref": "E2", "person_ref": "P2", **({"therapist": "dag"} if new_unit else {}), **changes})


def test_a_unit_code_that_is_a_formula_is_refused_at_its_line_and_column(organisation, ratings_file):
    path = csv_file(ratings_file, [row(), second(unit=HYPERLINK), second(unit=HYPERLINK, episode_ref="E3",
                                                                          person_ref="P3")])
    assert errors_of(path) == [f"line 3, column unit: a new unit code {HYPERLINK!r} cannot be created: it {FORMULA}"]
    assert db.session.query(Unit).filter(Unit.code == HYPERLINK).count() == 0


@pytest.mark.parametrize("column, value, what", [
    ("unit", "=1+2", "unit code"),
    ("unit", "-1+1", "unit code"),
    ("district", "+1", "district code"),
    ("intervention", "@SUM(1,2)", "intervention code"),
    ("therapist", "=cmd|' /C calc'!A0", "therapist login"),
    ("therapist", "-anna", "therapist login"),
])
def test_every_kind_of_new_code_is_checked(organisation, ratings_file, column, value, what):
    changes = {column: value}
    if column == "district":
        changes["unit"] = "NY1"  # a new unit in a new district
    path = csv_file(ratings_file, [row(), second(**changes)])
    assert errors_of(path) == [f"line 3, column {column}: a new {what} {value!r} cannot be created: it {FORMULA}"]


@pytest.mark.parametrize("column, value, reason", [
    ("unit", "NY ENHET", "may contain only letters (a-z, å, ä, ö), digits, - and _, and must start with a letter "
                         "or digit"),
    ("intervention", "NY.KOD", "may contain only letters (a-z, å, ä, ö), digits, - and _, and must start with a "
                               "letter or digit"),
    ("therapist", "dag berg", "may contain only letters (a-z, å, ä, ö), digits, ., -, _ and @, no spaces, and must "
                              "start with a letter or digit"),
])
def test_a_new_code_of_the_wrong_shape_is_refused(organisation, ratings_file, column, value, reason):
    path = csv_file(ratings_file, [row(), second(**{column: value})])
    what = "therapist login" if column == "therapist" else f"{column} code"
    assert errors_of(path) == [f"line 3, column {column}: a new {what} {value!r} cannot be created: it {reason}"]


@pytest.mark.parametrize("column", ["unit", "district", "intervention", "therapist"])
@pytest.mark.parametrize("create_missing", [True, False])
def test_an_identity_number_in_a_code_is_refused_with_or_without_create_missing(organisation, ratings_file, column,
                                                                                create_missing):
    path = csv_file(ratings_file, [row(), second(**{column: "Enhet 19121212-1212"})])
    errors = errors_of(path, create_missing=create_missing)
    assert errors[0] == f"line 3, column {column}: {IDENTITY}"
    assert not any("19121212" in error for error in errors)  # never repeated


@pytest.mark.parametrize("column, value, stored", [
    ("unit", "u1", "U1"), ("district", "d1", "D1"), ("intervention", "fft", "FFT"), ("therapist", "Anna", "anna"),
])
def test_a_new_code_that_differs_only_in_case_from_a_stored_one_is_refused(organisation, ratings_file, column,
                                                                           value, stored):
    changes = {column: value, **({"unit": "NY1"} if column == "district" else {})}
    path = csv_file(ratings_file, [row(), second(**changes)])
    what = "therapist login" if column == "therapist" else f"{column} code"
    assert errors_of(path) == [f"line 3, column {column}: {what} {value!r} differs only in case from the stored "
                               f"{stored!r}; write it as stored"]


def test_two_new_codes_that_differ_only_in_case_are_refused_at_the_second(app, ratings_file):
    path = csv_file(ratings_file, [row(district="", unit="NY1", therapist="dag"),
                                   second(district="", unit="ny1", therapist="Dag")])
    assert errors_of(path) == [
        "line 3, column unit: unit code 'ny1' differs only in case from 'NY1' on line 2; write it the same way",
        "line 3, column therapist: therapist login 'Dag' differs only in case from 'dag' on line 2; write it the "
        "same way",
    ]


def test_good_new_codes_are_still_created(app, ratings_file):
    path = csv_file(ratings_file, [row(district="NO", unit="NO-FAM", therapist="dag.berg", intervention="NY_KOD")])
    result = import_ratings_file(path, create_missing=True, dry_run=False)
    assert (result.districts, result.units, result.staff, result.interventions) == (1, 1, 1, 1)
    assert db.session.query(Staff.username).scalar() == "dag.berg"


def test_a_stored_code_outside_todays_rule_is_still_found(organisation, ratings_file):
    # Created before the rule (or by hand): the import names it as it is and creates nothing.
    db.session.get(Unit, organisation["U1"]).code = "U 1"
    db.session.commit()
    result = import_ratings_file(csv_file(ratings_file, [row(unit="U 1")]), create_missing=True, dry_run=False)
    assert (result.units, result.episodes) == (0, 1)
