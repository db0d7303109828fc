"""Every error of interchange.md "Ratings file (input)", each at its exact line and column."""
import pytest

from fitapp.interchange.importer import ImportFailed, import_ratings_file
from fitapp.interchange.rows import COLUMNS, REQUIRED
from tests.interchange.files import row, table_counts


def errors_of(path, *, create_missing: bool = False) -> list[str]:
    before = table_counts()
    with pytest.raises(ImportFailed) as failure:
        import_ratings_file(path, create_missing=create_missing, dry_run=False)
    assert table_counts() == before, "a failed import must write nothing"
    return [str(error) for error in failure.value.errors]


def second_episode(**changes) -> dict:
    """A valid row of another episode (E2, person P2), to put a problem on line 3."""
    return row(**{"episode_ref": "E2", "person_ref": "P2", **changes})


@pytest.mark.parametrize("column", REQUIRED)
def test_a_missing_required_value_is_reported_at_its_row_and_column(organisation, ratings_file, column):
    path = ratings_file([row(), second_episode(**{column: ""})])
    assert errors_of(path) == [f"line 3, column {column}: {column} is required"]


@pytest.mark.parametrize("column", ["item1", "item2", "item3", "item4"])
def test_items_are_required_with_an_instrument(organisation, ratings_file, column):
    path = ratings_file([row(**{column: "", "total": ""})])
    assert errors_of(path) == [f"line 2, column {column}: {column} is required"]


@pytest.mark.parametrize("column, value, reason", [
    ("role", "child", "unknown role 'child' (allowed: index, parent, other)"),
    ("gender", "f", "unknown gender 'f' (allowed: female, male, other)"),
    ("instrument", "OQ45", "unknown instrument 'OQ45' (allowed: ORS, CORS, YCORS, SRS, CSRS, YCSRS)"),
    ("end_reason", "done", "unknown end reason 'done' (allowed: planned, client_dropout, moved, other)"),
])
def test_an_unknown_code_is_an_error(organisation, ratings_file, column, value, reason):
    path = ratings_file([row(), second_episode(**{column: value})])
    assert errors_of(path) == [f"line 3, column {column}: {reason}"]


@pytest.mark.parametrize("column, value, what", [
    ("unit", "U9", "unknown unit code 'U9'"),
    ("therapist", "nobody", "unknown therapist login 'nobody'"),
    ("intervention", "NOPE", "unknown intervention code 'NOPE'"),
])
def test_unknown_unit_therapist_or_intervention_needs_create_missing(organisation, ratings_file, column, value, what):
    path = ratings_file([row(), second_episode(**{column: value}),
                         second_episode(**{column: value, "session_no": "2", "session_date": "2024-02-01"})])
    errors = errors_of(path)
    # Reported once, where the code is first used.
    assert errors == [f"line 3, column {column}: {what}; create it first or use --create-missing"
                      if column != "unit" else
                      f"line 3, column unit: {what}; create the unit first or use --create-missing"]


@pytest.mark.parametrize("value, reason", [
    ("10.5", "10.5 is outside 0–10"),
    ("-1", "-1 is outside 0–10"),
    ("7.25", "7.25 has more than one decimal"),
    ("abc", "abc is not a number"),
    ("7.", "7. is not a number"),
    ("1e1", "1e1 is not a number"),
])
def test_a_bad_item_is_named_with_the_rule_it_breaks(organisation, ratings_file, value, reason):
    path = ratings_file([row(item3=value, total="")])
    assert errors_of(path) == [f"line 2, column item3: {reason}"]


def test_a_total_that_is_not_the_sum_of_the_items(organisation, ratings_file):
    path = ratings_file([row(total="26.0")])
    assert errors_of(path) == ["line 2, column total: total 26.0 does not match the sum of the items (25.0)"]


@pytest.mark.parametrize("column, value, reason", [
    ("session_date", "2024-02-30", "2024-02-30 is not a possible date"),
    ("session_date", "2024/01/10", "'2024/01/10' is not a date in the form YYYY-MM-DD"),
    ("referral_date", "2023-13-01", "2023-13-01 is not a possible date"),
    ("episode_start", "10-01-2024", "'10-01-2024' is not a date in the form YYYY-MM-DD"),
])
def test_an_impossible_date(organisation, ratings_file, column, value, reason):
    path = ratings_file([row(**{column: value})])
    assert errors_of(path) == [f"line 2, column {column}: {reason}"]


def test_an_end_date_before_the_start(organisation, ratings_file):
    path = ratings_file([row(episode_end="2024-01-09")])
    assert errors_of(path) == [
        "line 2, column episode_end: the episode ends (2024-01-09) before it starts (2024-01-10)",
        "line 2, column session_date: session date 2024-01-10 is outside the episode's dates (2024-01-10–2024-01-09)",
    ]


@pytest.mark.parametrize("session_date", ["2024-01-09", "2024-05-31"])
def test_a_session_outside_the_episode_dates(organisation, ratings_file, session_date):
    path = ratings_file([row(), row(session_no="2", session_date=session_date)])
    assert errors_of(path) == [f"line 3, column session_date: session date {session_date} is outside the "
                               "episode's dates (2024-01-10–2024-05-30)"]


def test_a_session_before_the_start_of_an_open_episode(organisation, ratings_file):
    path = ratings_file([row(episode_end="", end_reason="", session_date="2024-01-01")])
    assert errors_of(path) == ["line 2, column session_date: session date 2024-01-01 is outside the episode's "
                               "dates (2024-01-10–)"]


def test_an_end_date_without_an_end_reason(organisation, ratings_file):
    path = ratings_file([row(end_reason="")])
    assert errors_of(path) == ["line 2, column end_reason: an ended episode needs an end reason "
                               "(planned, client_dropout, moved, other)"]


def test_an_end_reason_without_an_end_date(organisation, ratings_file):
    path = ratings_file([row(episode_end="")])
    assert errors_of(path) == ["line 2, column end_reason: an end reason is given but episode_end is empty"]


def test_the_same_rating_twice_is_reported_at_the_second_row(organisation, ratings_file):
    # rater_ref = the person's own reference is the same self-rating as an empty rater_ref.
    path = ratings_file([row(), row(person_ref="P2", role="parent"), row(rater_ref="P1", item1="6.0", total="")])
    assert errors_of(path) == ["line 4, column instrument: the same rating (episode, session_no, person_ref, "
                               "rater_ref, instrument) is already on line 2"]


def test_rows_of_one_episode_that_disagree_are_reported_at_the_first_disagreeing_row(organisation, ratings_file):
    path = ratings_file([
        row(),
        row(session_no="2", session_date="2024-02-01"),
        row(session_no="3", session_date="2024-03-01", intervention="MST"),
        row(session_no="4", session_date="2024-04-01", intervention="MST", therapist="bo"),
    ])
    assert errors_of(path) == [
        "line 4, column intervention: rows of episode E1 must agree: MST here but FFT on line 2, "
        "the episode's first row",
        "line 5, column therapist: rows of episode E1 must agree: bo here but anna on line 2, the episode's first row",
    ]


def test_an_empty_episode_value_disagrees_with_a_given_one(organisation, ratings_file):
    path = ratings_file([row(), row(session_no="2", session_date="2024-02-01", referral_date="")])
    assert errors_of(path) == ["line 3, column referral_date: rows of episode E1 must agree: (empty) here but "
                               "2024-01-02 on line 2, the episode's first row"]


@pytest.mark.parametrize("value", ["19800101-1234", "800101-1234", "198001011234", "8001011234", "800161+1234",
                                   "barn 800101-1234"])
@pytest.mark.parametrize("column", ["person_ref", "episode_ref", "rater_ref"])
def test_a_personal_identity_number_in_a_reference_is_refused(organisation, ratings_file, column, value):
    path = ratings_file([row(**{column: value})])
    errors = errors_of(path)
    assert len(errors) == 1
    assert errors[0].startswith(f"line 2, column {column}: looks like a personal identity number (personnummer")
    assert value not in errors[0], "the identity number itself must not be echoed into logs"


def test_a_rater_who_is_not_a_participant(organisation, ratings_file):
    path = ratings_file([row(), row(rater_ref="P9", instrument="CORS")])
    assert errors_of(path) == ["line 3, column rater_ref: rater P9 is not a participant of episode E1 "
                               "(no row of the episode has that person_ref)"]


def test_a_rater_from_another_episode_is_not_a_participant(organisation, ratings_file):
    path = ratings_file([row(), second_episode(), row(rater_ref="P2")])
    assert errors_of(path)[0].startswith("line 4, column rater_ref: rater P2 is not a participant of episode E1")


def test_a_district_other_than_the_units_own(organisation, ratings_file):
    path = ratings_file([row(district="D2")])
    assert errors_of(path) == ["line 2, column district: unit U1 belongs to district D1, not D2"]


def test_a_new_unit_given_two_districts(app, ratings_file):
    path = ratings_file([row(district="D1"), second_episode(district="D2")])
    assert errors_of(path, create_missing=True) == [
        "line 3, column district: unit U1 is given district D2 here but D1 on line 2"]


def test_a_persons_birth_year_or_gender_must_agree_within_the_file(organisation, ratings_file):
    path = ratings_file([row(), second_episode(person_ref="P1", birth_year="2013", gender="male")])
    assert errors_of(path) == [
        "line 3, column birth_year: person P1 has birth_year 2013 here but 2014 on line 2",
        "line 3, column gender: person P1 has gender male here but female on line 2",
    ]


def test_a_session_dated_twice(organisation, ratings_file):
    path = ratings_file([row(), row(person_ref="P2", role="parent", session_date="2024-01-11")])
    assert errors_of(path) == ["line 3, column session_date: session 1 of this episode is dated 2024-01-11 here "
                               "but 2024-01-10 on line 2"]


def test_a_person_with_two_roles_in_one_episode(organisation, ratings_file):
    path = ratings_file([row(), row(session_no="2", session_date="2024-02-01", role="other")])
    assert errors_of(path) == ["line 3, column role: person P1 has role other here but index on line 2 in the "
                               "same episode"]


@pytest.mark.parametrize("column", ["rater_ref", "item1", "total"])
def test_rating_values_without_an_instrument(organisation, ratings_file, column):
    values = {"instrument": "", "rater_ref": "", "item1": "", "item2": "", "item3": "", "item4": "", "total": ""}
    path = ratings_file([row(**{**values, column: "P1" if column == "rater_ref" else "5"})])
    assert errors_of(path) == [f"line 2, column {column}: {column} is given but instrument is empty"]


@pytest.mark.parametrize("column, value, reason", [
    ("birth_year", "14", "'14' is not a birth year (four digits, 1900–2100)"),
    ("birth_year", "1850", "'1850' is not a birth year (four digits, 1900–2100)"),
    ("session_no", "0", "'0' is not a session number (a whole number 1–9999)"),
    ("session_no", "1.0", "'1.0' is not a session number (a whole number 1–9999)"),
    ("person_ref", "P" * 65, "is longer than 64 characters"),
    ("person_ref", "P\x001", "contains control characters"),
])
def test_malformed_values(organisation, ratings_file, column, value, reason):
    path = ratings_file([row(**{column: value})])
    assert errors_of(path) == [f"line 2, column {column}: {reason}"]


def test_every_error_is_collected_in_file_order(organisation, ratings_file):
    path = ratings_file([
        row(),
        row(session_no="2", session_date="2024-02-01", item1="11"),
        row(session_no="3", session_date="2024-03-01"),
        row(session_no="4", session_date="2024-04-01", item2="x", item4="7.77"),
        row(session_no="5", session_date="2024-07-01"),
    ])
    assert errors_of(path) == [
        "line 3, column item1: 11 is outside 0–10",
        "line 5, column item2: x is not a number",
        "line 5, column item4: 7.77 has more than one decimal",
        "line 6, column session_date: session date 2024-07-01 is outside the episode's dates (2024-01-10–2024-05-30)",
    ]


def test_line_numbers_are_physical_lines_with_blank_lines_and_quoted_newlines(organisation, ratings_file):
    header = ";".join(COLUMNS)
    good = ";".join(row().get(c, "") for c in COLUMNS)
    quoted = ";".join(row(session_no="2", session_date="2024-02-01", unit='"U1"').get(c, "") for c in COLUMNS)
    bad = ";".join(row(session_no="3", session_date="2024-03-01", item1="12").get(c, "") for c in COLUMNS)
    multiline = good.replace("P1", '"P\n1"', 1)
    text = "\n".join([header, good, "", quoted, multiline.replace("E1", "E5", 1), bad]) + "\n"
    errors = errors_of(ratings_file([], text=text))
    assert "line 7, column item1: 12 is outside 0–10" in errors
    assert any(e.startswith("line 5, column person_ref: contains control characters") for e in errors)


def test_a_missing_column_in_the_header(organisation, ratings_file):
    columns = [c for c in COLUMNS if c not in ("therapist", "session_no")]
    path = ratings_file([row()], columns=columns)
    assert errors_of(path) == ["line 1, column therapist: required column is missing from the header",
                               "line 1, column session_no: required column is missing from the header"]


def test_a_column_twice_in_the_header(organisation, ratings_file):
    path = ratings_file([row()], columns=[*COLUMNS, "gender"])
    assert errors_of(path) == ["line 1, column gender: the column appears twice in the header"]


def test_a_row_with_more_fields_than_the_header(organisation, ratings_file):
    good = row()
    text = ";".join(COLUMNS) + "\n" + ";".join(good[c] for c in COLUMNS) + ";extra\n"
    assert errors_of(ratings_file([], text=text)) == [
        f"line 2, column field {len(COLUMNS) + 1}: the row has more fields than the header has columns"]


def test_a_file_that_is_not_utf8(organisation, tmp_path):
    path = tmp_path / "latin1.csv"
    lines = [";".join(COLUMNS), ";".join(row().get(c, "") for c in COLUMNS), "U1;Bäck"]
    path.write_bytes("\n".join(lines).encode("latin-1"))
    assert errors_of(path) == ["line 3, column (file): the file is not UTF-8 text; save it as CSV UTF-8"]


def test_an_empty_file(organisation, ratings_file):
    assert errors_of(ratings_file([], text="")) == ["line 1, column (header): the file is empty: a header row is "
                                                    "required"]


def test_a_decimal_comma_is_refused_in_a_comma_separated_file(organisation, ratings_file):
    text = ",".join(COLUMNS) + "\n" + ",".join(row(item1='"5,0"').get(c, "") for c in COLUMNS) + "\n"
    assert errors_of(ratings_file([], text=text)) == [
        "line 2, column item1: 5,0 uses a decimal comma, which is only accepted in ';'-separated files"]


def test_conflicts_with_stored_values(organisation, ratings_file):
    import_ratings_file(ratings_file([row(), row(session_no="2", session_date="2024-02-01")]),
                        create_missing=False, dry_run=False)
    path = ratings_file([
        row(therapist="bo", birth_year="2013"),
        row(therapist="bo", session_no="2", session_date="2024-02-02", item2="6.5", total=""),
    ])
    assert errors_of(path) == [
        "line 2, column therapist: episode E1 of unit U1 is already stored with therapist anna; "
        "an existing key must keep its values",
        "line 2, column birth_year: person P1 is already stored with birth_year 2014; "
        "an existing key must keep its values",
        "line 3, column birth_year: person P1 has birth_year 2014 here but 2013 on line 2",
        "line 3, column session_date: session 2 of episode E1 is already stored with date 2024-02-01",
        "line 3, column item2: this rating is already stored with item2 6.0; an existing key must keep its values",
    ]


def test_conflicting_rating_and_role_with_stored_values(organisation, ratings_file):
    import_ratings_file(ratings_file([row()]), create_missing=False, dry_run=False)
    assert errors_of(ratings_file([row(item2="6.5", total="")])) == [
        "line 2, column item2: this rating is already stored with item2 6.0; an existing key must keep its values"]
    assert errors_of(ratings_file([row(role="other")])) == [
        "line 2, column role: person P1 is already a participant of episode E1 with role index"]
    assert errors_of(ratings_file([row(episode_end="", end_reason="")])) == [
        "line 2, column episode_end: episode E1 of unit U1 is already stored with episode_end 2024-05-30; "
        "an existing key must keep its values",
        "line 2, column end_reason: episode E1 of unit U1 is already stored with end_reason planned; "
        "an existing key must keep its values",
    ]
