"""Detection of Swedish personal identity numbers (personnummer) and coordination
numbers (samordningsnummer) in free input, so that none is ever stored.

Pure module. We refuse anything that *looks like* one (a plausible date followed
by four digits), without the Luhn check: a false alarm costs the user a retyped
reference, a miss leaks an identity.
"""
import re

# YYMMDD or YYYYMMDD, optional separator (-, +, space), then NNNN; not inside a longer digit run.
_CANDIDATE = re.compile(r"(?<!\d)(\d{2})?(\d{2})(\d{2})(\d{2})[-+ ]?(\d{4})(?!\d)")


def _plausible_date(month: str, day: str) -> bool:
    m, d = int(month), int(day)
    if not 1 <= m <= 12:
        return False
    # Coordination numbers add 60 to the day.
    return 1 <= d <= 31 or 61 <= d <= 91


def looks_like_identity_number(value: str | None) -> bool:
    """True when the value contains something shaped like a personnummer or samordningsnummer."""
    if not value:
        return False
    for match in _CANDIDATE.finditer(value):
        century, _, month, day, _ = match.groups()
        if century is not None and century not in ("18", "19", "20"):
            continue
        if _plausible_date(month, day):
            return True
    return False
