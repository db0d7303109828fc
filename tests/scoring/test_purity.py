"""fitapp.scoring stays pure: stdlib and scipy only, no Flask, no SQLAlchemy, no app code."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import fitapp.scoring

PACKAGE_DIR = Path(fitapp.scoring.__file__).resolve().parent
PACKAGE = "fitapp.scoring"


def imported_modules(source: str, module: str) -> list[str]:
    """Absolute names of everything ``source`` (the module named ``module``) imports."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # Resolve "from .. import x" against the importing module's package.
                base = module.split(".")[: -node.level]
                found.append(".".join(base + ([node.module] if node.module else [])))
            else:
                found.append(node.module)
    return found


def forbidden(name: str) -> bool:
    top = name.split(".")[0]
    if top == "fitapp":
        return not (name == PACKAGE or name.startswith(PACKAGE + "."))
    if top == "flask" or top.startswith("flask_") or top == "sqlalchemy":
        return True
    return top not in sys.stdlib_module_names and top != "scipy"


def violations(source: str, module: str) -> list[str]:
    return [name for name in imported_modules(source, module) if forbidden(name)]


def package_modules() -> list[tuple[str, Path]]:
    return [
        (".".join([PACKAGE, *path.relative_to(PACKAGE_DIR).with_suffix("").parts]).removesuffix(".__init__"), path)
        for path in sorted(PACKAGE_DIR.rglob("*.py"))
    ]


def test_the_package_has_the_expected_modules():
    names = {module for module, _ in package_modules()}
    assert {f"{PACKAGE}.{m}" for m in ("instruments", "norms", "series", "periods", "indicators", "protection", "figures", "ckm",
                                            "alerts")} <= names


@pytest.mark.parametrize(("module", "path"), package_modules(), ids=lambda v: str(v).rsplit("/", 1)[-1])
def test_module_imports_only_stdlib_scipy_and_scoring(module, path):
    assert violations(path.read_text(encoding="utf-8"), module) == []


@pytest.mark.parametrize(
    "source",
    [
        "import flask",
        "from flask import current_app",
        "import flask_sqlalchemy",
        "from flask_login import current_user",
        "import sqlalchemy.orm",
        "from sqlalchemy import select",
        "from fitapp import models",
        "from fitapp.models.ratings import Rating",
        "from .. import extensions",
        "from ..models import Rating",
        "import numpy",
        "import requests",
    ],
)
def test_checker_catches_forbidden_imports(source):
    assert violations(source, f"{PACKAGE}.series") != []


@pytest.mark.parametrize(
    "source",
    [
        "import decimal",
        "from datetime import date",
        "from scipy import stats",
        "from fitapp.scoring.norms import NormSet",
        "from . import norms",
        "from .norms import NormSet",
        "from __future__ import annotations",
    ],
)
def test_checker_allows_stdlib_scipy_and_the_package(source):
    assert violations(source, f"{PACKAGE}.series") == []
