"""What ``--create-missing`` would create must pass the rules the administration applies (fitapp.names).

Districts, units and intervention codes are created with their code as their
name, therapists with their login name: each must be a valid code or login
name, with no formula character and no identity number, and must not differ
only in case from one that is stored or that the file creates on an earlier
line (the administration refuses such near-duplicates too). Each problem is
reported at the first line that names the value, in the column that holds it;
then nothing is imported.

Codes the database already holds are found as they are and not checked again.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select

from fitapp import names
from fitapp.extensions import db
from fitapp.interchange.plan import ImportPlan
from fitapp.interchange.rows import IDENTITY_NUMBER_REASON, EpisodeFields, Errors
from fitapp.interchange.stored import CHUNK, EpisodeKey, Stored
from fitapp.models import Staff

# (plan attribute, file column, what it is, the rule, its maximum length)
_KINDS = (
    ("districts", "district", "district code", names.code_problem, names.CODE_MAX),
    ("units", "unit", "unit code", names.code_problem, names.CODE_MAX),
    ("interventions", "intervention", "intervention code", names.code_problem, names.CODE_MAX),
    ("staff", "therapist", "therapist login", names.username_problem, names.USERNAME_MAX),
)


def stored_usernames_folded(usernames: Iterable[str]) -> dict[str, str]:
    """Lower-cased login name -> the stored login name, for the names given that differ only in case."""
    folded = sorted({name.lower() for name in usernames})
    found: dict[str, str] = {}
    for start in range(0, len(folded), CHUNK):
        query = select(Staff.username).where(func.lower(Staff.username).in_(folded[start:start + CHUNK]))
        for (username,) in db.session.execute(query):
            found.setdefault(username.lower(), username)
    return found


def check_new_names(plan: ImportPlan, episodes: dict[EpisodeKey, EpisodeFields], stored: Stored,
                    errors: Errors, usernames_folded: dict[str, str]) -> None:
    """Add an error for every code or login name ``plan`` would create that the rules refuse."""
    existing = {
        "districts": {code.lower(): code for code in stored.district_ids},
        "units": {code.lower(): code for code in stored.units},
        "interventions": {code.lower(): code for code in stored.intervention_ids},
        "staff": usernames_folded,
    }
    for attribute, column, what, problem_of, max_length in _KINDS:
        new = getattr(plan, attribute)
        if not new:
            continue
        first_lines = _first_lines(episodes, column)
        created: dict[str, str] = {}  # lower-cased -> as the file first wrote it
        for value in sorted(new, key=lambda v: (first_lines.get(v, 0), v)):
            line = first_lines.get(value)
            if line is None:  # the default district: named by no row
                continue
            reason = _reason(value, what, problem_of(value), max_length)
            if reason is None:
                folded = value.lower()
                twin = existing[attribute].get(folded)
                if twin is not None:
                    reason = (f"{what} {value!r} differs only in case from the stored {twin!r}; "
                              f"write it as stored")
                elif folded in created:
                    reason = (f"{what} {value!r} differs only in case from {created[folded]!r} on line "
                              f"{first_lines[created[folded]]}; write it the same way")
                else:
                    created[folded] = value
            if reason is not None:
                errors.add(line, column, reason)


def _reason(value: str, what: str, problem: str | None, max_length: int) -> str | None:
    if problem is None:
        return None
    if problem == names.IDENTITY_NUMBER:
        return IDENTITY_NUMBER_REASON  # never repeated in the message
    return f"a new {what} {value!r} cannot be created: it {names.english(problem, max_length)}"


def _first_lines(episodes: dict[EpisodeKey, EpisodeFields], column: str) -> dict[str, int]:
    """Value -> the first line (an episode's first row) that names it in ``column``."""
    lines: dict[str, int] = {}
    for (unit, _ref), fields in episodes.items():
        value = unit if column == "unit" else getattr(fields, column)
        if value is not None and column not in fields.bad:
            lines[value] = min(lines.get(value, fields.line), fields.line)
    return lines
