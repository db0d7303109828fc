"""The README's run path, end to end: migrate, demo data, serve on a port, answer the login page."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

FLASK = [sys.executable, "-m", "flask", "--app", "fitapp"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(tmp_path: Path) -> dict:
    env = dict(os.environ)
    env.update(FITAPP_ENV="development", DATABASE_URL="sqlite:///" + str(tmp_path / "demo.sqlite"))
    env.pop("SECRET_KEY", None)
    return env


def test_upgrade_demo_and_serve(tmp_path):
    env = _env(tmp_path)
    subprocess.run(FLASK + ["db", "upgrade"], env=env, check=True, capture_output=True)
    first = subprocess.run(FLASK + ["demo", "--if-empty"], env=env, check=True, capture_output=True, text=True)
    assert "Demo logins" in first.stdout
    # A second start keeps the data and prints the logins again.
    second = subprocess.run(FLASK + ["demo", "--if-empty"], env=env, check=True, capture_output=True, text=True)
    assert "Demo logins" in second.stdout
    refused = subprocess.run(FLASK + ["demo"], env=env, capture_output=True, text=True)
    assert refused.returncode != 0 and refused.stderr.strip()

    port = _free_port()
    server = subprocess.Popen(FLASK + ["run", "--host", "127.0.0.1", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        body = _get_when_up(f"http://127.0.0.1:{port}/login")
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert "<form" in body


def _get_when_up(url: str) -> str:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _without_settings(tmp_path: Path, **settings) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("FITAPP_ENV", "SECRET_KEY")}
    env.update(DATABASE_URL="sqlite:///" + str(tmp_path / "none.sqlite"), **settings)
    return env


def test_a_command_with_a_missing_or_refused_setting_prints_one_line(tmp_path):
    """A newcomer who forgot FITAPP_ENV or SECRET_KEY gets the one sentence that says what to set,
    for an app command, a built-in one (db) and the help, and a failing exit status."""
    cases = [(_without_settings(tmp_path), "SECRET_KEY is not set"),
             (_without_settings(tmp_path, FITAPP_ENV="production", SECRET_KEY="a"), "SECRET_KEY is too short")]
    for env, sentence in cases:
        for command in (["ptable", "show"], ["db", "upgrade"], ["--help"]):
            result = subprocess.run(FLASK + command, env=env, capture_output=True, text=True, cwd=tmp_path)
            assert result.returncode == 1, (command, result.stderr)
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("fitapp: " + sentence), (command, result.stderr)
            assert "Traceback" not in result.stdout + result.stderr
