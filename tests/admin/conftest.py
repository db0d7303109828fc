"""Administration tests reuse the web tests' organisation (two districts, units A/B/C) and sign-in."""
from tests.web.conftest import org, sign_in  # noqa: F401  (fixture and helper re-exported)
