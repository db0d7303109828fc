"""The one rule for codes, login names and names (fitapp.names), and formula neutralisation (fitapp.spreadsheet_text)."""
import pytest

from fitapp import names
from fitapp.spreadsheet_text import neutralised, neutralised_label

HYPERLINK = '=HYPERLINK("http://x","y")'
FORMULAS = [HYPERLINK, "=1+2", "@SUM(1,2)", "+1", "-1+1", "\t=1+2", "\r=1+2", "\0=1+2"]


@pytest.mark.parametrize("code", ["U1", "NO-FAM", "a", "FAMBEH", "Ö1", "skola_2", "1A", "x" * 40])
def test_good_codes(code):
    assert names.code_problem(code) is None


@pytest.mark.parametrize("code, problem", [
    ("", names.EMPTY),
    (HYPERLINK, names.FORMULA_START),
    ("=1+2", names.FORMULA_START),
    ("@SUM(1,2)", names.FORMULA_START),
    ("+1", names.FORMULA_START),
    ("-1+1", names.FORMULA_START),
    ("_U1", names.CODE_CHARACTERS),
    ("NY KOD", names.CODE_CHARACTERS),
    ("U1;DROP", names.CODE_CHARACTERS),
    ("U/1", names.CODE_CHARACTERS),
    ("U.1", names.CODE_CHARACTERS),
    ("Ü1", names.CODE_CHARACTERS),
    ("U\t1", names.CONTROL_CHARACTERS),
    ("U\u202e1", names.CONTROL_CHARACTERS),  # a bidirectional override
    ("x" * 41, names.TOO_LONG),
    ("19121212-1212", names.IDENTITY_NUMBER),
    ("Enhet 19121212-1212", names.IDENTITY_NUMBER),
    ("U-121212-1212", names.IDENTITY_NUMBER),
])
def test_bad_codes(code, problem):
    assert names.code_problem(code) == problem


@pytest.mark.parametrize("username", ["anna", "anna.b", "chef.no", "head_a", "Åsa-Lena", "anna@kommun.se",
                                      "x" * 80])
def test_good_usernames(username):
    assert names.username_problem(username) is None


@pytest.mark.parametrize("username, problem", [
    ("", names.EMPTY),
    (HYPERLINK, names.FORMULA_START),
    ("@anna", names.FORMULA_START),
    ("-anna", names.FORMULA_START),
    (".anna", names.USERNAME_CHARACTERS),
    ("anna b", names.USERNAME_CHARACTERS),
    ("anna\"b", names.USERNAME_CHARACTERS),
    ("x" * 81, names.TOO_LONG),
    ("Enhet 19121212-1212", names.IDENTITY_NUMBER),
    ("anna121212-1212", names.IDENTITY_NUMBER),
])
def test_bad_usernames(username, problem):
    assert names.username_problem(username) == problem


@pytest.mark.parametrize("name", ["Familjeenheten Norr", "Team 1", "Öster (unga vuxna)", "1:a linjen",
                                  "Barn & unga – 13-17 år", "x" * 200])
def test_good_names(name):
    assert names.name_problem(name) is None


@pytest.mark.parametrize("name, problem", [
    ("", names.EMPTY),
    (HYPERLINK, names.FORMULA_START),
    ("=1+2", names.FORMULA_START),
    ("+46 8 123", names.FORMULA_START),
    ("- Norr", names.FORMULA_START),
    ("@hem", names.FORMULA_START),
    ("Norr\r\n=1+2", names.CONTROL_CHARACTERS),
    ("Norr\tSöder", names.CONTROL_CHARACTERS),
    ("Norr\u200b", names.CONTROL_CHARACTERS),  # zero-width space
    ("x" * 201, names.TOO_LONG),
    ("Enhet 19121212-1212", names.IDENTITY_NUMBER),
])
def test_bad_names(name, problem):
    assert names.name_problem(name) == problem


def test_every_problem_has_an_english_message():
    assert names.english(names.TOO_LONG, 40) == "is longer than 40 characters"
    assert all(names.english(problem, 1) for problem in names.ENGLISH_MESSAGES)


@pytest.mark.parametrize("text", FORMULAS)
def test_formula_text_is_neutralised_with_a_quote(text):
    assert neutralised(text) == "'" + text


@pytest.mark.parametrize("text", ["U1", "", "'=already", "2025-T1..T2", "13-17", "a=b", " =1", "flicka"])
def test_other_text_is_unchanged(text):
    assert neutralised(text) == text


def test_only_text_is_neutralised_never_a_number():
    assert [neutralised_label(v) for v in (-8.0, -1, None, 0, True, "-8.0")] == [-8.0, -1, None, 0, True, "'-8.0"]
