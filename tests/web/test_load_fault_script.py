"""The load-and-fault script (benchmarks/load_fault.py): its database check can tell a lost,
duplicated or half-saved session, and a short real run (gunicorn, a killed worker) ends clean."""
import re
import subprocess
import sys
from pathlib import Path

from benchmarks.load_fault import Submission, check
from tests import factories

ROOT = Path(__file__).resolve().parents[2]


def test_the_check_finds_lost_duplicated_and_half_saved_sessions(app, org):
    episode = factories.episode(org["units"]["A"], org["anna"])
    child = factories.participant(episode, "index", birth_year=2015)
    expected = frozenset({(child.id, "CORS", 200)})
    submissions = {}
    for n, (key, ratings, acknowledged) in enumerate([
        ("whole", 1, True),          # stored once with its rating
        ("unacknowledged", 1, False),  # stored although the answer never came: fine
        ("doubled", 2, True),        # a rating more than was sent
        ("half", 0, True),           # the session without its rating
    ], start=1):
        session = factories.session(episode, n)
        session.submission_key = key
        for instrument in ("CORS", "ORS")[:ratings]:
            factories.rating(session, instrument, child, "20.0")
        submissions[key] = Submission(episode.id, expected, acknowledged)
    submissions["lost"] = Submission(episode.id, expected, acknowledged=True)
    submissions["never answered"] = Submission(episode.id, expected, acknowledged=False)
    stray = factories.session(episode, 9)
    factories.commit()
    result = check(app.config["SQLALCHEMY_DATABASE_URI"], submissions)
    assert (result.stored, result.lost, result.duplicated, result.half_saved) == (4, 1, 1, 1)
    assert (result.unknown, result.stored_unacknowledged) == (1, 1) and stray.submission_key is None


def test_a_short_run_loses_and_duplicates_nothing():
    run = subprocess.run([sys.executable, "-m", "benchmarks.load_fault", "--seconds", "5", "--users", "4",
                          "--workers", "2"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    out = run.stdout
    assert run.returncode == 0, out + run.stderr
    assert re.search(r"^load and faults: 4 therapists for 5 s, gunicorn with 2 workers on PostgreSQL; "
                     r"workers: one killed with SIGKILL at \d+\.\d s, 2 running afterwards$", out, re.M), out
    assert re.search(r"^  saves: p50 \d+\.\d ms, p95 \d+\.\d ms \(n=[1-9]\d*\) ", out, re.M), out
    sent = re.search(r"^  sent (\d+) \(requests \d+\), acknowledged (\d+), duplicates sent \d+", out, re.M)
    assert sent and int(sent.group(1)) > 0 and int(sent.group(2)) > 0, out
    assert re.search(r"^  stored \d+, lost 0, duplicated 0, half-saved 0, unknown sessions 0,", out, re.M), out
    assert "login throttling shared by the workers: yes" in out and out.rstrip().endswith("result: ok")
