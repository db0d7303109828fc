"""benchmarks/import_ratings.py is not part of the suite, but must not rot: run it tiny."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_import_benchmark_runs_at_a_tiny_size():
    # With FITAPP_TEST_PG_URL the run uses an existing server and may lack the binaries to start one.
    backends = "sqlite" if os.environ.get("FITAPP_TEST_PG_URL") else "sqlite,postgresql"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "import_ratings.py"), "--ratings", "500", "--backends", backends],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "500 ratings" in done.stdout
    for backend in backends.split(","):
        assert f"{backend}: import" in done.stdout
