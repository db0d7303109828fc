"""Codes and names: one validation for units, districts, teams, interventions and login names.

Used by the administration pages, ``flask create-staff`` (fitapp.staff_service)
and ``import-ratings --create-missing`` (fitapp.interchange.new_names), so a
value refused in one place is refused in all of them (issue 12, item 7).

- A **code** (district, unit, intervention): letters (a–z, å, ä, ö, either
  case), digits, ``-`` and ``_``, starting with a letter or digit, at most 40
  characters (the columns' width). Codes name units in reports, file names and
  files, so they are kept plain.
- A **login name**: the same letters and digits plus ``.``, ``-``, ``_`` and
  ``@``, starting with a letter or digit, at most 80 characters, no spaces.
- A **name** (district, unit, team, intervention): printable text, at most 200
  characters, no control or invisible formatting characters (line breaks,
  tabs, bidirectional overrides) and not starting with a character that a
  spreadsheet reads as the start of a formula (``=``, ``+``, ``-``, ``@``).

None of them may contain anything that looks like a personal identity number
(fitapp.identity_numbers): it would be stored and shown everywhere.

Pure: no Flask, no database. The checks return a problem code (the constants
below), the callers word it: in English here (command line, import), in
translated text on the administration pages (fitapp.admin.formkit).
"""
from __future__ import annotations

import re
import unicodedata

from fitapp.identity_numbers import looks_like_identity_number

CODE_MAX = 40
NAME_MAX = 200
USERNAME_MAX = 80

# What a spreadsheet may read as the start of a formula: OWASP's "CSV injection" list, and the
# null character ASVS 5.0 1.2.10 adds. Tab, carriage return and null are control characters,
# refused as such in codes and names.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")

_LETTERS = "A-Za-z0-9ÅÄÖåäö"
_CODE = re.compile(rf"[{_LETTERS}][{_LETTERS}_-]*")
_USERNAME = re.compile(rf"[{_LETTERS}][{_LETTERS}._@-]*")
# Control, format (zero-width, bidirectional overrides), surrogate, private-use and unassigned
# characters, and the line and paragraph separators.
_UNPRINTABLE = frozenset(("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))

EMPTY = "empty"
TOO_LONG = "too_long"
IDENTITY_NUMBER = "identity_number"
CONTROL_CHARACTERS = "control_characters"
FORMULA_START = "formula_start"
CODE_CHARACTERS = "code_characters"
USERNAME_CHARACTERS = "username_characters"

ENGLISH_MESSAGES = {
    EMPTY: "is required",
    TOO_LONG: "is longer than {max} characters",
    IDENTITY_NUMBER: "looks like a personal identity number (personnummer or samordningsnummer)",
    CONTROL_CHARACTERS: "contains control characters (line breaks, tabs or invisible formatting)",
    FORMULA_START: "must not start with =, +, - or @ (a spreadsheet would read it as a formula)",
    CODE_CHARACTERS: "may contain only letters (a-z, å, ä, ö), digits, - and _, and must start with a letter "
                     "or digit",
    USERNAME_CHARACTERS: "may contain only letters (a-z, å, ä, ö), digits, ., -, _ and @, no spaces, and must "
                         "start with a letter or digit",
}


def english(problem: str, max_length: int) -> str:
    """``problem`` as a phrase that follows the value's name ("the code ... is required")."""
    return ENGLISH_MESSAGES[problem].format(max=max_length)


def has_unprintable(text: str) -> bool:
    return any(unicodedata.category(ch) in _UNPRINTABLE for ch in text)


def _common_problem(text: str, max_length: int) -> str | None:
    if not text:
        return EMPTY
    # Before the length and the characters: the real reason, and the one that keeps it off the page.
    if looks_like_identity_number(text):
        return IDENTITY_NUMBER
    if has_unprintable(text):
        return CONTROL_CHARACTERS
    if len(text) > max_length:
        return TOO_LONG
    return None


def code_problem(code: str) -> str | None:
    """Why ``code`` cannot be a district, unit or intervention code, or None (give it stripped)."""
    problem = _common_problem(code, CODE_MAX)
    if problem is None and not _CODE.fullmatch(code):
        return FORMULA_START if code.startswith(FORMULA_STARTS) else CODE_CHARACTERS
    return problem


def username_problem(username: str) -> str | None:
    """Why ``username`` cannot be a login name, or None (give it stripped)."""
    problem = _common_problem(username, USERNAME_MAX)
    if problem is None and not _USERNAME.fullmatch(username):
        return FORMULA_START if username.startswith(FORMULA_STARTS) else USERNAME_CHARACTERS
    return problem


def name_problem(name: str, max_length: int = NAME_MAX) -> str | None:
    """Why ``name`` cannot be the name of a district, unit, team or intervention, or None (give it stripped)."""
    problem = _common_problem(name, max_length)
    if problem is None and name.startswith(FORMULA_STARTS):
        return FORMULA_START
    return problem
