"""The kinds of test that `scripts/run-tests --fast` leaves out, marked from where a test is and what
it runs on, so that a new test gets its marker without anyone writing it (pyproject.toml registers them):

- ``browser``: under tests/browser/ (headless Chromium);
- ``script``: in a module that imports subprocess (it runs a command, a benchmark or a server);
- ``postgresql``: on the PostgreSQL backend (the ``backend`` parameter, or a ``backend`` fixture that
  a module or class overrides), or asking for the server itself (``postgresql_url``).

Under pytest-xdist (``--dist loadgroup``) the tests of a module that uses a module- or class-wide
fixture (a browser and server per module, say) are one ``xdist_group``: one worker sets it up once.
"""
import inspect
import re
from pathlib import Path

import pytest

BROWSER_FOLDER = Path(__file__).resolve().parent / "browser"
_IMPORTS_SUBPROCESS = re.compile(r"^\s*(import subprocess\b|from subprocess import\b)", re.M)


def mark_by_kind(config: pytest.Config, items: list[pytest.Item]) -> None:
    kinds_of_module: dict[Path, list[pytest.MarkDecorator]] = {}
    grouping = config.pluginmanager.hasplugin("xdist")
    for item in items:
        path = Path(item.path)
        if path not in kinds_of_module:
            kinds_of_module[path] = _kinds_of_module(path)
        for marker in kinds_of_module[path]:
            item.add_marker(marker)
        if backend_of(item) == "postgresql" or "postgresql_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgresql)
        if grouping and _uses_a_wide_fixture(item):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))


def _kinds_of_module(path: Path) -> list[pytest.MarkDecorator]:
    kinds = []
    if path.is_relative_to(BROWSER_FOLDER):
        kinds.append(pytest.mark.browser)
    if _IMPORTS_SUBPROCESS.search(path.read_text(encoding="utf-8")):
        kinds.append(pytest.mark.script)
    return kinds


def _uses_a_wide_fixture(item: pytest.Item) -> bool:
    definitions = getattr(item, "_fixtureinfo", None)
    if definitions is None:
        return False
    return any(d.scope in ("module", "class", "package") for ds in definitions.name2fixturedefs.values() for d in ds)


def backend_of(item: pytest.Item) -> str | None:
    """The database the test runs on: its ``backend`` parameter, or what an overriding fixture without
    parameters returns (``def backend(): return "sqlite"``); None for a test without a database or
    whose fixture needs arguments (give those ``params=["postgresql"]``, as tests/security/ does)."""
    callspec = getattr(item, "callspec", None)
    if callspec is not None and "backend" in callspec.params:
        return callspec.params["backend"]
    if "backend" not in getattr(item, "fixturenames", ()):
        return None
    definition = item._fixtureinfo.name2fixturedefs["backend"][-1]
    if inspect.signature(definition.func).parameters:
        return None  # not readable without running it
    return definition.func()
