"""``import-ratings``: load a ratings file all or nothing (interchange.md "Ratings file (input)").

Steps: read and check every row on its own (rows.py), load what the database
already holds for the file's keys (stored.py), check across rows and against
the database and work out what is new (plan.py), check what ``--create-missing``
would create against the administration's rules (new_names.py), and only when
there is not a single error insert everything in one transaction (writer.py).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from fitapp import audit
from fitapp.extensions import db
from fitapp.interchange.csvio import CsvProblem, parse_table
from fitapp.interchange.new_names import check_new_names, stored_usernames_folded
from fitapp.interchange.plan import ImportPlan, Planner, group_by_episode, read_episodes
from fitapp.interchange.rows import Errors, RatingRow, RowError, RowReader, header_errors
from fitapp.interchange.stored import Stored, load_stored
from fitapp.interchange.writer import write_plan
from fitapp.reports.series_store import refresh_series

__all__ = ["ImportFailed", "ImportResult", "RowError", "import_ratings_file"]


class ImportFailed(Exception):
    """The file has errors; nothing was written. ``errors`` lists every one, in file order."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("\n".join(str(error) for error in errors))
        self.errors = errors


# What the summary counts, in the order it prints them.
_COUNTED = (
    ("episodes", "episodes"), ("participants", "participants"), ("persons", "persons"), ("sessions", "sessions"),
    ("attendance", "attendance records"), ("ratings", "ratings"), ("districts", "districts"), ("units", "units"),
    ("staff", "staff accounts (without password)"), ("interventions", "intervention codes"),
)


@dataclass(frozen=True)
class ImportResult:
    rows: int
    episodes: int
    participants: int
    persons: int
    sessions: int
    attendance: int
    ratings: int
    districts: int
    units: int
    staff: int
    interventions: int
    dry_run: bool

    @classmethod
    def of(cls, plan: ImportPlan, *, rows: int, dry_run: bool) -> ImportResult:
        return cls(
            rows=rows, episodes=len(plan.episodes), participants=len(plan.participants), persons=len(plan.persons),
            sessions=len(plan.sessions), attendance=len(plan.attendance), ratings=len(plan.ratings),
            districts=len(plan.districts), units=len(plan.units), staff=len(plan.staff),
            interventions=len(plan.interventions), dry_run=dry_run,
        )

    @property
    def nothing_new(self) -> bool:
        return all(getattr(self, name) == 0 for name, _ in _COUNTED)

    def summary(self) -> str:
        if self.rows == 0:
            return "The file has no data rows: nothing changed."
        if self.nothing_new:
            lines = [f"Nothing new in {self.rows} rows: the file was already imported. Nothing changed."]
        else:
            verb = "would be created" if self.dry_run else "created"
            lines = [f"{self.rows} rows read."] + [
                f"{label} {verb}: {getattr(self, name)}" for name, label in _COUNTED
                if getattr(self, name) or name in ("episodes", "participants", "sessions", "ratings")
            ]
        if self.dry_run:
            lines.append("Dry run: nothing written.")
        return "\n".join(lines)


def import_ratings_file(path: str | Path, *, create_missing: bool, dry_run: bool) -> ImportResult:
    """Import a ratings file in one transaction, or raise ImportFailed listing every error."""
    data = Path(path).read_bytes()
    errors = Errors()
    try:
        table = parse_table(data)
    except CsvProblem as problem:
        raise ImportFailed([RowError(problem.line, problem.column, problem.reason)]) from None
    if not header_errors(table.header, errors):
        raise ImportFailed(errors.sorted(table.header))
    reader = RowReader(errors, decimal_comma=table.delimiter == ";")
    rows = [reader.read_row(row) for row in table.rows]
    try:
        plan, stored = _plan(rows, reader, create_missing=create_missing)
        if errors:
            raise ImportFailed(errors.sorted(table.header))
        result = ImportResult.of(plan, rows=len(rows), dry_run=dry_run)
        if not (dry_run or result.nothing_new):
            _write(plan, stored, data)
    finally:
        # Ends the read transaction of the checks, and undoes a write that failed half way.
        db.session.rollback()
    return result


def _plan(rows: list[RatingRow], reader: RowReader, *, create_missing: bool) -> tuple[ImportPlan, Stored]:
    groups = group_by_episode(rows)
    episodes = read_episodes(groups, reader)
    stored = load_stored(
        usernames={fields.therapist for fields in episodes.values() if fields.therapist},
        person_refs={row.person_ref for row in rows if row.person_ref},
        episode_keys=set(groups),
    )
    plan = Planner(stored, create_missing=create_missing, errors=reader.errors).build(rows, episodes)
    if create_missing:
        check_new_names(plan, episodes, stored, reader.errors, stored_usernames_folded(plan.staff))
    return plan, stored


def _write(plan: ImportPlan, stored: Stored, data: bytes) -> None:
    changed_episodes = write_plan(plan, stored)
    # The file's digest says which file was imported without copying any of its content.
    audit.record("import_ratings", object_type="ratings_file", object_id=hashlib.sha256(data).hexdigest())
    db.session.commit()
    # Reports read series from the derived series_summary table: writers refresh what they changed.
    refresh_series(changed_episodes)
