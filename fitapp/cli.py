"""Flask commands (interchange.md "Commands"). Thin: parse options, call a service, report."""
import sys

import click
from flask import Flask
from flask.cli import with_appcontext

from fitapp.cli_ptable import ptable_group
from fitapp.organisation_time import organisation_today


@click.command("import-ratings")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--create-missing", is_flag=True, help="Create units, staff and intervention codes named in the file.")
@click.option("--dry-run", is_flag=True, help="Check the file and report what would be created; write nothing.")
@with_appcontext
def import_ratings_command(file: str, create_missing: bool, dry_run: bool) -> None:
    """Import a ratings file: all or nothing."""
    from fitapp.interchange.importer import ImportFailed, import_ratings_file

    try:
        result = import_ratings_file(file, create_missing=create_missing, dry_run=dry_run)
    except ImportFailed as failure:
        for error in failure.errors:
            click.echo(str(error), err=True)
        click.echo(f"{len(failure.errors)} error(s): nothing was imported.", err=True)
        sys.exit(1)
    click.echo(result.summary())


@click.command("export-outcomes")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option("--include-open", is_flag=True, help="Also export series of open episodes.")
@click.option("--unit", "units", multiple=True, help="Unit code (repeatable); all units when none is given.")
@with_appcontext
def export_outcomes_command(out: str, include_open: bool, units: tuple[str, ...]) -> None:
    """Write the person-episode outcome file, one row per series."""
    from fitapp.interchange.exporter import ExportFailed, write_outcomes

    try:
        count = write_outcomes(out, include_open=include_open, unit_codes=list(units))
    except ExportFailed as failure:
        click.echo(str(failure), err=True)
        sys.exit(1)
    click.echo(f"{count} series written to {out}")


@click.command("demo")
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--if-empty", is_flag=True, help="Do nothing (but print the logins) when the database has data.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Pretend today is this date (default: today).")
@with_appcontext
def demo_command(seed: int, if_empty: bool, today) -> None:
    """Fill an empty database with realistic synthetic data and demo logins."""
    from fitapp.demo.generator import DemoRefused, demo_logins, fill_demo

    try:
        result = fill_demo(seed=seed, today=today.date() if today else organisation_today(), if_empty=if_empty)
    except DemoRefused as refusal:
        click.echo(str(refusal), err=True)
        sys.exit(1)
    click.echo(result.summary())
    click.echo("")
    click.echo("Demo logins (login name, password, role):")
    for login in demo_logins():
        click.echo(f"  {login.username:<14} {login.password:<20} {login.description}")


@click.command("create-staff")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["therapist", "unit_head", "quality", "admin"]))
@click.option("--unit", "units", multiple=True, help="Unit code the account belongs to (repeatable).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@with_appcontext
def create_staff_command(username: str, role: str, units: tuple[str, ...], password: str) -> None:
    """Create a staff account with a password: the administration page's checks and audit events (actor "cli").

    Its unit memberships wait for a unit head's confirmation (or `flask confirm-access`). Administrator
    accounts are made here only, without units."""
    from fitapp.staff_service import StaffError, create_staff

    try:
        staff = create_staff(username, role=role, unit_codes=list(units), password=password)
    except StaffError as error:
        click.echo(str(error), err=True)
        sys.exit(1)
    click.echo(f"Created {role} account {staff.username}")


def _account_or_exit(username: str):
    """The account named ``username``, or one line and exit status 1."""
    from fitapp.models.staff import staff_by_username

    staff = staff_by_username(username)
    if staff is None:
        click.echo(f"No account {username!r}.", err=True)
        sys.exit(1)
    return staff


@click.command("set-password")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@with_appcontext
def set_password_command(username: str, password: str) -> None:
    """Set USERNAME's password (audited, actor "cli"), as the administration does: the user must choose a
    new one at the next login, and a case role's access waits for a unit head's confirmation again.
    The only way to set an administrator's password for them."""
    from fitapp.staff_service import StaffError, checked_password, reset_password

    staff = _account_or_exit(username)
    try:
        reset_password(staff, checked_password(password, staff.username))
    except StaffError as error:
        click.echo(str(error), err=True)
        sys.exit(1)
    click.echo(f"Password set for {staff.username}; it must be changed at the next login")


@click.command("confirm-access")
@click.argument("username")
@click.option("--unit", "unit_code", default=None, help="Only the membership of this unit (code).")
@with_appcontext
def confirm_access_command(username: str, unit_code: str | None) -> None:
    """Confirm USERNAME's pending unit memberships (audited, actor "cli"): how a unit that has no unit
    head yet gets its first one. Elsewhere a unit head of the unit confirms on the page "Att bekräfta"."""
    from fitapp.access_confirmation import confirm_on_command_line

    staff = _account_or_exit(username)
    confirmed = confirm_on_command_line(staff, organisation_today(), unit_code)
    if not confirmed:
        where = f" in {unit_code}" if unit_code else ""
        click.echo(f"{staff.username} has no membership{where} waiting for confirmation.", err=True)
        sys.exit(1)
    for membership in confirmed:
        click.echo(f"Confirmed {staff.username} in {membership.unit.code} from {membership.valid_from.isoformat()}")


@click.command("report")
@click.option("--year", required=True, type=int)
@click.option("--tertial", "tertial_no", required=True, type=click.IntRange(1, 3))
@click.option("--ytd", is_flag=True, help="Year to date through the tertial.")
@click.option("--unit", "units", multiple=True, help="Unit code (repeatable); all units when none is given.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Decides only whether not_rereferred_12m can be reported for the period (default: today).")
@click.option("--exact", is_flag=True,
              help="Exact figures, nothing hidden (for checking the app; the file is confidential).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def report_command(year: int, tertial_no: int, ytd: bool, units: tuple[str, ...], as_of, exact: bool,
                   out: str) -> None:
    """Write the aggregate report file for each unit given and for all of them together (ALL).

    Protected figures (cell-key method) unless --exact.
    """
    from fitapp.reports.export import export_report
    from fitapp.reports.services import ReportError

    try:
        count = export_report(out, year=year, tertial=tertial_no, ytd=ytd, unit_codes=list(units),
                              as_of=as_of.date() if as_of else organisation_today(), exact=exact)
    except ReportError as failure:
        click.echo(str(failure), err=True)
        sys.exit(1)
    click.echo(f"{count} cells written to {out}")


@click.command("activate-norm-set")
@click.argument("key")
@with_appcontext
def activate_norm_set_command(key: str) -> None:
    """Make the norm set KEY the active one and recompute every series with it, in one transaction."""
    from sqlalchemy import select

    from fitapp.admin.norm_sets import activate_norm_set
    from fitapp.extensions import db
    from fitapp.models import NormSetRecord

    norm_set = db.session.scalar(select(NormSetRecord).where(NormSetRecord.key == key))
    if norm_set is None:
        known = ", ".join(db.session.scalars(select(NormSetRecord.key).order_by(NormSetRecord.key)))
        click.echo(f"no norm set with key {key!r}; known: {known}", err=True)
        sys.exit(1)
    result = activate_norm_set(norm_set)
    if result is None:
        click.echo(f"{key} already is the active norm set; nothing changed")
    else:
        click.echo(f"{key} is now the active norm set; {result.series} series of {result.episodes} episodes "
                   "recomputed")


@click.command("refresh-series")
@with_appcontext
def refresh_series_command() -> None:
    """Recompute the stored series summaries of every episode (after changing the norm set)."""
    from fitapp.norms_service import NoActiveNormSet
    from fitapp.reports.series_store import refresh_series

    try:
        result = refresh_series()
    except NoActiveNormSet as failure:
        click.echo(str(failure), err=True)
        sys.exit(1)
    click.echo(f"{result.series} series of {result.episodes} episodes refreshed")


@click.command("audit-verify")
@with_appcontext
def audit_verify_command() -> None:
    """Check the audit log's keyed hash chain, and its length and head against the newest signed checkpoint.

    Exit 1 naming what is wrong: the first broken entry, a removed tail, an emptied log, a missing checkpoint.
    """
    from fitapp.audit import verify_log

    result = verify_log()
    for warning in result.warnings:
        click.echo(f"WARNING: {warning}", err=True)
    broken = result.walk.broken
    if broken is not None:
        click.echo(f"Audit chain BROKEN at {broken} ({result.walk.checked} entries before it are intact).", err=True)
    for problem in result.problems:
        click.echo(f"Audit log CHECKPOINT MISMATCH: {problem}.", err=True)
    if not result.ok:
        sys.exit(1)
    click.echo(f"Audit chain intact: {result.walk.checked} entries.")
    if result.checkpoint is not None:
        click.echo(f"Checkpoint matches: {result.checkpoint} ({result.path}).")
    for note in result.notes:
        click.echo(f"Note: {note}.")


@click.command("retention")
@click.option("--dry-run", is_flag=True, help="Report what would be deleted; delete nothing.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Pretend today is this date (default: today).")
@with_appcontext
def retention_command(dry_run: bool, today) -> None:
    """Delete person-level data of closed cases past the retention period (gallring), audited."""
    from fitapp import retention

    day = today.date() if today else organisation_today()
    result = retention.plan(day) if dry_run else retention.apply(day)
    click.echo("\n".join(result.summary_lines()))
    if dry_run:
        click.echo("Dry run: nothing deleted.")


def register_commands(app: Flask) -> None:
    for command in (import_ratings_command, export_outcomes_command, demo_command, create_staff_command,
                    confirm_access_command, set_password_command,
                    report_command, activate_norm_set_command, refresh_series_command, audit_verify_command,
                    retention_command, ptable_group):
        app.cli.add_command(command)
