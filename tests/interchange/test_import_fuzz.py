"""Random and hostile input: the importer only ever raises ImportFailed, and a failed import writes nothing."""
import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fitapp.interchange.importer import ImportFailed, import_ratings_file
from fitapp.interchange.rows import COLUMNS
from tests.interchange.files import row, table_counts

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Plausible values per column, so that some files get deep into the checks.
PLAUSIBLE = {
    "district": ["", "D1", "D2"], "unit": ["U1", "U2"], "episode_ref": ["E1", "E2"], "therapist": ["anna", "bo"],
    "intervention": ["FFT", "MST"], "referral_date": ["", "2024-01-02"], "episode_start": ["2024-01-10"],
    "episode_end": ["", "2024-05-30"], "end_reason": ["", "planned"], "person_ref": ["P1", "P2"],
    "role": ["index", "parent"], "birth_year": ["", "2014", "1980"], "gender": ["", "female"],
    "session_date": ["2024-01-10", "2024-02-01"], "session_no": ["1", "2"], "instrument": ["", "ORS", "CORS", "SRS"],
    "rater_ref": ["", "P1", "P2"], "item1": ["5", "5,5"], "item2": ["6.0"], "item3": ["0"], "item4": ["10"],
    "total": ["", "21.0"],
}
BAD_VALUES = ["10.1", "-0.1", "7.25", "x", "2024-02-30", "800101-1234", "19800101-1234", "\x00", "P" * 65, "0",
              "NaN", "1e1", "∞", "٣", "2024-13-01"]
# Values that break a rule of their column whatever the rest of the file says.
ALWAYS_BAD = {
    "person_ref": ["800101-1234", "19800101-1234", "P\x00", "P" * 65],
    "episode_ref": ["800101-1234", "E\x7f", "E" * 65],
    "item1": ["10.1", "-0.1", "7.25", "x"],
    "item4": ["10.1", "٣", "1e1", ""],
    "session_date": ["2024-02-30", "x", ""],
    "session_no": ["0", "x", ""],
}
garbage = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)


@st.composite
def fuzzed_row(draw, bad: bool = False) -> dict:
    values = {column: draw(st.sampled_from(options)) for column, options in PLAUSIBLE.items()}
    for column in draw(st.lists(st.sampled_from(COLUMNS), max_size=4)):
        values[column] = draw(st.one_of(garbage, st.sampled_from(BAD_VALUES)))
    if bad:
        column = draw(st.sampled_from(sorted(ALWAYS_BAD)))
        values[column] = draw(st.sampled_from(ALWAYS_BAD[column]))
        if column.startswith("item"):
            values["instrument"] = "ORS"
    return values


def as_csv(rows: list[dict], delimiter: str, quoted: bool) -> str:
    if not quoted:  # deliberately naive: stray quotes and delimiters inside values break the layout
        return "\n".join([delimiter.join(COLUMNS)] + [delimiter.join(r[c] for c in COLUMNS) for r in rows])
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(COLUMNS)
    writer.writerows([[r[c] for c in COLUMNS] for r in rows])
    return out.getvalue()


def attempt(path):
    before = table_counts()
    try:
        result = import_ratings_file(path, create_missing=False, dry_run=False)
    except ImportFailed as failure:
        assert failure.errors, "a failure always says why"
        assert all(str(e).startswith("line ") for e in failure.errors)
        assert table_counts() == before
        return None
    after = table_counts()
    assert after["rating"] - before["rating"] == result.ratings
    assert after["session"] - before["session"] == result.sessions
    return result


@FUZZ
@given(rows=st.lists(fuzzed_row(), min_size=1, max_size=6), delimiter=st.sampled_from([";", ","]),
       quoted=st.booleans())
def test_fuzzed_rows_never_crash_and_a_failure_writes_nothing(organisation, tmp_path, rows, delimiter, quoted):
    path = tmp_path / "fuzz.csv"
    path.write_text(as_csv(rows, delimiter, quoted), encoding="utf-8", newline="")
    attempt(path)


@FUZZ
@given(good=st.lists(fuzzed_row(), max_size=4), bad=fuzzed_row(bad=True), position=st.integers(0, 4))
def test_a_file_with_a_bad_row_never_writes_anything(organisation, tmp_path, good, bad, position):
    rows = good[:position] + [bad] + good[position:]
    path = tmp_path / "bad.csv"
    path.write_text(as_csv(rows, ";", quoted=True), encoding="utf-8", newline="")
    before = table_counts()
    try:
        import_ratings_file(path, create_missing=True, dry_run=False)
    except ImportFailed:
        pass
    else:
        raise AssertionError("a file with a bad value was imported")
    assert table_counts() == before


@FUZZ
@given(data=st.binary(max_size=300))
def test_random_bytes_are_refused(organisation, tmp_path, data):
    path = tmp_path / "bytes.csv"
    path.write_bytes(data)
    assert attempt(path) is None


def test_a_valid_file_passes_the_same_check(organisation, tmp_path):
    """The fuzz helpers can tell success from failure: a plain valid file imports."""
    path = tmp_path / "ok.csv"
    path.write_text(as_csv([row()], ";", quoted=True), encoding="utf-8", newline="")
    assert attempt(path).ratings == 1
