"""Dependency and code scanning as part of the test command (issue 6 §8).

- bandit: static security lint of fitapp/; any high-severity finding fails.
- pip-audit runs in scripts/run-tests before pytest (scripts/audit-dependencies):
  it needs PyPI's JSON API or OSV, which a machine may not reach; it fails the
  command on any finding and says loudly when the audit could not happen.
"""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def test_bandit_finds_no_high_severity_issue():
    result = _run([sys.executable, "-m", "bandit", "-r", "fitapp", "-lll", "-f", "json", "-q"])
    assert result.stdout, result.stderr
    report = json.loads(result.stdout)
    assert report["errors"] == [], report["errors"]
    high = [(r["filename"], r["line_number"], r["test_id"], r["issue_text"]) for r in report["results"]
            if r["issue_severity"] == "HIGH"]
    assert high == []
    assert report["metrics"]["_totals"]["loc"] > 1000  # it really scanned the package
