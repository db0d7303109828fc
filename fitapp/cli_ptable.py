"""The ``ptable`` commands (interchange.md "Commands"): make a perturbation table, use one, show the one in force."""
import sys

import click
from flask.cli import AppGroup

# Who the audit log names for a table made the organisation's from the command line.
CLI_ACTOR = "cli"

ptable_group = AppGroup("ptable", help="Perturbation tables of the cell-key method (metrics.md §7.3).")


@ptable_group.command("generate", with_appcontext=False)
@click.option("--d", "d", default=5, show_default=True, type=click.IntRange(min=1), help="Largest deviation D.")
@click.option("--v", "v", default=3.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Variance V.")
@click.option("--js", "js", default=2, show_default=True, type=click.IntRange(min=0),
              help="No protected count is 1..js.")
@click.option("--shuffle-seed", default=None, help="Split and shuffle the intervals with this secret seed.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True))
def generate_command(d: int, v: float, js: int, shuffle_seed: str | None, out: str) -> None:
    """Write the maximum-entropy perturbation table for D, V and js to a file."""
    from fitapp.scoring.ckm import PTableError, generate_ptable, ptable_text

    try:
        table = generate_ptable(d=d, v=v, js=js, shuffle_seed=shuffle_seed)
    except PTableError as error:
        click.echo(str(error), err=True)
        sys.exit(1)
    with open(out, "w", encoding="utf-8-sig", newline="") as file:
        file.write(ptable_text(table))
    click.echo(f"{table.id} written to {out}")


@ptable_group.command("use")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def use_command(file: str) -> None:
    """Make the table in FILE the organisation's from now on (audited)."""
    from fitapp.disclosure import ptable_in_force, use_ptable
    from fitapp.scoring.ckm import PTableError

    try:
        with open(file, encoding="utf-8-sig") as handle:
            text = handle.read()
        table = use_ptable(text, actor=CLI_ACTOR)
    except (PTableError, UnicodeDecodeError) as error:
        click.echo(f"{file}: {error}", err=True)
        click.echo(f"Nothing changed: {ptable_in_force().id} stays in force.", err=True)
        sys.exit(1)
    click.echo(f"{table.id} is in force")


@ptable_group.command("show")
def show_command() -> None:
    """Print the id of the table in force, then the table."""
    from fitapp.disclosure import ptable_in_force
    from fitapp.scoring.ckm import ptable_text

    table = ptable_in_force()
    click.echo(f"id: {table.id}")
    click.echo(ptable_text(table), nl=False)
