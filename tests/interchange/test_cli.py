"""The import-ratings and export-outcomes commands: exit status, stdout and stderr."""
from tests.interchange.files import row, table_counts


def run(app, *args):
    return app.test_cli_runner().invoke(args=[str(a) for a in args])


def test_import_prints_counts_and_exits_0(app, organisation, ratings_file):
    path = ratings_file([row(), row(session_no="2", session_date="2024-02-01")])
    result = run(app, "import-ratings", path)
    assert result.exit_code == 0, result.output
    assert "ratings created: 2" in result.stdout
    assert "sessions created: 2" in result.stdout
    assert result.stderr == ""


def test_import_of_a_bad_file_lists_every_error_on_stderr_and_exits_1(app, organisation, ratings_file):
    path = ratings_file([row(item1="11"), row(session_no="2", session_date="2024-02-01", person_ref="800101-1234")])
    before = table_counts()
    result = run(app, "import-ratings", path)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "line 2, column item1: 11 is outside 0–10",
        "line 3, column person_ref: looks like a personal identity number (personnummer or samordningsnummer); "
        "only pseudonymous references may be imported",
        "2 error(s): nothing was imported.",
    ]
    assert result.stdout == ""
    assert table_counts() == before


def test_import_twice_says_nothing_changed(app, organisation, ratings_file):
    path = ratings_file([row()])
    assert run(app, "import-ratings", path).exit_code == 0
    again = run(app, "import-ratings", path)
    assert again.exit_code == 0
    assert "already imported" in again.stdout


def test_dry_run_and_create_missing_options(app, ratings_file):
    path = ratings_file([row()])
    refused = run(app, "import-ratings", path)
    assert refused.exit_code == 1 and "use --create-missing" in refused.stderr
    dry = run(app, "import-ratings", path, "--create-missing", "--dry-run")
    assert dry.exit_code == 0 and "Dry run: nothing written." in dry.stdout
    assert table_counts()["rating"] == 0
    real = run(app, "import-ratings", path, "--create-missing")
    assert real.exit_code == 0 and "units created: 1" in real.stdout
    assert table_counts()["rating"] == 1


def test_import_of_a_missing_file_is_a_usage_error(app, tmp_path):
    result = run(app, "import-ratings", tmp_path / "nope.csv")
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_export_writes_the_file_and_reports_the_count(app, organisation, ratings_file, tmp_path):
    run(app, "import-ratings", ratings_file([row(), row(session_no="2", session_date="2024-02-01")]))
    out = tmp_path / "out.csv"
    result = run(app, "export-outcomes", "--out", out, "--unit", "U1")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"1 series written to {out}"
    assert out.read_text(encoding="utf-8-sig").splitlines()[1].startswith("U1;E1;FFT;P1;index;;CORS;")


def test_export_of_an_unknown_unit_exits_1_with_a_message(app, organisation, tmp_path):
    result = run(app, "export-outcomes", "--out", tmp_path / "out.csv", "--unit", "NOPE")
    assert result.exit_code == 1
    assert "unknown unit code(s): NOPE" in result.stderr

