"""Time-based one-time codes (RFC 6238) as the second factor; each code is accepted once."""
import hmac
import time

import pyotp

STEP_SECONDS = 30
DIGITS = 6
# One step either side allows for a phone clock that is up to 30 s off.
ACCEPTED_OFFSETS = (0, -1, 1)


def new_secret() -> str:
    """160 random bits in base32, as authenticator apps expect (RFC 4226 recommends >= 128)."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def clean_code(code: str | None) -> str | None:
    """The six digits typed (spaces allowed between them), or None."""
    digits = "".join((code or "").split())
    return digits if len(digits) == DIGITS and digits.isascii() and digits.isdigit() else None


def matching_step(secret: str, code: str | None, now: float | None = None) -> int | None:
    """The time step whose code is ``code``, or None; compared in constant time."""
    code = clean_code(code)
    if code is None:
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    for offset in ACCEPTED_OFFSETS:
        if hmac.compare_digest(totp.generate_otp(current + offset), code):
            return current + offset
    return None


def verify_and_consume(staff, code: str | None, now: float | None = None) -> bool:
    """True once for a valid code of ``staff``'s secret; a replayed or older code is refused."""
    if not staff.totp_secret:
        return False
    step = matching_step(staff.totp_secret, code, now)
    if step is None or (staff.totp_last_step is not None and step <= staff.totp_last_step):
        return False
    staff.totp_last_step = step
    return True


def code_at(secret: str, when: float) -> str:
    """The code an authenticator shows at ``when`` (for tests and the enrolment check)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).at(int(when))
