"""What a new password must be: long enough, not a common password, not the login name.

The list of common passwords ships with the package (fitapp/data/common-passwords.txt,
one lower-case password a line). The check is offline: nothing leaves the server.
"""
import re
import unicodedata
from functools import lru_cache
from importlib import resources

MIN_LENGTH = 12
# argon2 hashes any length, but a megabyte-long "password" is an attack on the CPU.
MAX_LENGTH = 1024

TOO_SHORT = "too_short"
TOO_LONG = "too_long"
COMMON = "common"
CONTAINS_USERNAME = "contains_username"

# Digits and punctuation people append to a common word ("sommar2024!", "password12345").
_TRAILING_DECORATION = re.compile(r"[\d\W_]+$")
_LEADING_DECORATION = re.compile(r"^[\d\W_]+")


def normalise(text: str) -> str:
    """Case- and Unicode-insensitive form ("Lösenord" typed either way compares equal)."""
    return unicodedata.normalize("NFC", text).casefold()


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = resources.files("fitapp").joinpath("data/common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(
        normalise(line.strip()) for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def is_common(password: str) -> bool:
    """A listed password, also with digits or punctuation added before or after it."""
    listed = common_passwords()
    candidate = normalise(password).strip()
    stripped = _LEADING_DECORATION.sub("", _TRAILING_DECORATION.sub("", candidate))
    return candidate in listed or (len(stripped) >= 4 and stripped in listed)


def password_problems(password: str, username: str | None = None) -> list[str]:
    """The reasons (codes above) ``password`` is refused; empty when it is acceptable."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(TOO_SHORT)
    if len(password) > MAX_LENGTH:
        problems.append(TOO_LONG)
    if is_common(password):
        problems.append(COMMON)
    name = normalise(username or "").strip()
    if len(name) >= 3 and name in normalise(password):
        problems.append(CONTAINS_USERNAME)
    return problems


ENGLISH_MESSAGES = {
    TOO_SHORT: f"The password must have at least {MIN_LENGTH} characters.",
    TOO_LONG: f"The password must have at most {MAX_LENGTH} characters.",
    COMMON: "The password is too common: choose one that is harder to guess.",
    CONTAINS_USERNAME: "The password must not contain the login name.",
}
