"""The ptable commands (interchange.md "Commands"): generate a table file, use one (audited), show the one in force."""
from functools import cache

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from fitapp.cli_ptable import generate_command
from fitapp.extensions import db
from fitapp.models import AuditEvent, PerturbationTableRecord
from fitapp.scoring.ckm import default_ptable, generate_ptable, parse_ptable, ptable_text


@cache
def shuffled_text() -> str:
    return ptable_text(generate_ptable(shuffle_seed="kommunens hemlighet"))


def run(app, *args):
    return app.test_cli_runner().invoke(args=["ptable", *[str(a) for a in args]])


def generate(*args):
    return CliRunner().invoke(generate_command, [str(a) for a in args])


def counts() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(PerturbationTableRecord)),
            db.session.scalar(select(func.count()).select_from(AuditEvent)))


def test_generate_writes_a_valid_file_with_a_byte_order_mark(tmp_path):
    out = tmp_path / "ptable.csv"
    result = generate("--out", out)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"ckm-d5-v3-js2 written to {out}"
    assert out.read_bytes().startswith(b"\xef\xbb\xbfi;j;p;p_int_lb;p_int_ub\n")
    assert out.read_text(encoding="utf-8-sig") == ptable_text(default_ptable())


def test_generate_takes_the_parameters_and_a_shuffle_seed(tmp_path):
    out = tmp_path / "ptable.csv"
    assert generate("--d", 3, "--v", 1.5, "--js", 1, "--out", out).exit_code == 0
    assert parse_ptable(out.read_text(encoding="utf-8-sig")).id == "ckm-d3-v1.5-js1"
    result = generate("--shuffle-seed", "kommunens hemlighet", "--out", out)
    assert result.exit_code == 0, result.output
    table = parse_ptable(out.read_text(encoding="utf-8-sig"))
    assert table.shuffled and table.id.startswith("ckm-d5-v3-js2-")
    assert out.read_text(encoding="utf-8-sig") == shuffled_text()


def test_generate_refuses_parameters_no_table_satisfies(tmp_path):
    result = generate("--v", 1, "--out", tmp_path / "ptable.csv")
    assert result.exit_code == 1
    assert "V=1 is too small" in result.stderr
    assert not (tmp_path / "ptable.csv").exists()


def test_show_prints_the_default_table_when_none_was_used(app):
    result = run(app, "show")
    assert result.exit_code == 0, result.output
    assert result.stdout == "id: ckm-d5-v3-js2\n" + ptable_text(default_ptable())


def test_use_makes_the_table_the_one_in_force_and_is_audited(app, tmp_path):
    path = tmp_path / "ours.csv"
    path.write_text(shuffled_text(), encoding="utf-8-sig")
    table_id = parse_ptable(shuffled_text()).id
    result = run(app, "use", path)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{table_id} is in force"
    assert run(app, "show").stdout == f"id: {table_id}\n" + shuffled_text()
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.action, event.object_type, event.object_id, event.actor_name) == (
        "use_ptable", "ptable", table_id, "cli")
    stored = db.session.scalars(select(PerturbationTableRecord)).one()
    assert (stored.table_id, stored.content, stored.created_by) == (table_id, shuffled_text(), "cli")


def _lines() -> list[str]:
    return ptable_text(default_ptable()).splitlines()


def _biased() -> str:
    # Row 1's last entry (line 7, j = 6) made j = 5: the intervals still cover [0, 1), the mean moves by −0.0186.
    lines = _lines()
    lines[6] = lines[6].replace("1;6;", "1;5;")
    return "\n".join(lines) + "\n"


def _gap() -> str:
    # Row 2's second entry (line 9) starts 0.001 after the first one ends.
    lines = _lines()
    i, j, p, lb, ub = lines[8].split(";")
    lines[8] = f"{i};{j};{float(p) - 0.001:.8f};{float(lb) + 0.001:.8f};{ub}"
    return "\r\n".join(lines) + "\r\n"


@pytest.mark.parametrize(("text", "message"), [
    (_biased(), "line 3: row i=1 is biased"),
    (_gap(), "line 9: gap in row i=2"),
], ids=["biased row", "gap"])
def test_use_of_a_bad_file_exits_1_naming_the_line_and_changes_nothing(app, tmp_path, text, message):
    good = tmp_path / "good.csv"
    good.write_text(shuffled_text(), encoding="utf-8")
    assert run(app, "use", good).exit_code == 0
    before_show, before = run(app, "show").stdout, counts()
    bad = tmp_path / "bad.csv"
    bad.write_text(text, encoding="utf-8")
    result = run(app, "use", bad)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{bad}: {message}")
    assert f"Nothing changed: {parse_ptable(shuffled_text()).id} stays in force." in result.stderr
    assert result.stdout == ""
    assert run(app, "show").stdout == before_show
    assert counts() == before
