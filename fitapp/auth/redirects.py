"""Where it is safe to send the browser back to after login or a language switch."""
from urllib.parse import urlsplit


def safe_local_path(target: str | None) -> str | None:
    """``target`` if it is a path on this site ("/cases/7?x=1"), otherwise None.

    Refuses absolute URLs, scheme-relative ones ("//evil.example") and
    backslash tricks that some browsers read as "//".
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
