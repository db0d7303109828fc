"""Benchmark: the therapist's pages with 10,000 episodes in the database (issue 4, "Performance").

Run from the repository root:

    .venv/bin/python -m benchmarks.caseload                      # PostgreSQL and SQLite, 10,000 episodes
    .venv/bin/python -m benchmarks.caseload --backends postgresql --episodes 10000 --requests 200

The data are the report benchmark's synthetic city (benchmarks/reports.py: 14
districts, 70 units, families with 2–10 sessions and their ratings), loaded
with COPY into a throwaway PostgreSQL server, or with executemany into a
temporary SQLite file. One therapist then gets a heavy caseload (40 open and
20 recently closed cases). Through the Flask test client, logged in as that
therapist the way the web tests do it (tests/web/conftest.sign_in), it times
``requests`` requests each of

- the caseload (GET /),
- a case page (GET /cases/<id>, rotating over the open cases),
- saving a session (POST /cases/<id>/sessions/new for a family, rotating),
- a baseline measured in the same run: an authenticated request for an unknown
  page (login check, user loaded, the 404 page rendered in the site layout),

and prints p50 and p95 in milliseconds with the ratio of each p95 to the
baseline's. The target is p95 < 100 ms for the three pages.
"""
from __future__ import annotations

import argparse
import math
import os
import secrets
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select, text, update

TARGET_P95_MS = 100.0
OPEN_CASES = 40
RECENTLY_CLOSED = 20
BOOLEAN_COLUMNS = {"is_enabled", "retention_exempt"}


# --------------------------------------------------------------------------- data


def load(session, episodes: int, seed: int = 1) -> dict[str, int]:
    """The report benchmark's city in the (migrated, empty) database of ``session``."""
    from benchmarks import reports

    if session.get_bind().dialect.name == "postgresql":
        return reports.load(session, episodes, seed)
    return _load_sqlite(session, episodes, seed)


def _load_sqlite(session, episodes: int, seed: int) -> dict[str, int]:
    from benchmarks.reports import TABLES, CopyFiles, Generator

    connection = session.connection()
    intervention_ids = [row[0] for row in connection.execute(text("SELECT id FROM intervention ORDER BY id"))]
    with tempfile.TemporaryDirectory(prefix="fitapp-bench-") as directory:
        out = CopyFiles(directory)
        Generator(episodes, intervention_ids, seed).write(out)
        out.close()
        cursor = connection.connection.driver_connection.cursor()
        for table, columns in TABLES.items():
            convert = [_sqlite_value_for(column) for column in columns]
            with open(out.paths[table], encoding="utf-8") as source:
                rows = (tuple(c(v) for c, v in zip(convert, line.rstrip("\n").split("\t"))) for line in source)
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", rows)
    session.commit()
    return out.counts


def _sqlite_value_for(column: str):
    def value(text_: str):
        if text_ == "\\N":
            return None
        if column in BOOLEAN_COLUMNS:
            return 1 if text_ == "t" else 0
        if column == "created_at":
            return text_.removesuffix("+00")
        return text_

    return value


def heavy_caseload(session, today: date) -> tuple[int, list[int]]:
    """Give one therapist 40 open and 20 recently closed cases; returns (therapist id, open episode ids)."""
    from fitapp.auth.passwords import hash_password
    from fitapp.models import Episode, Staff, UnitMembership
    from fitapp.models._types import utcnow

    therapist_id = session.scalar(select(Episode.therapist_id).order_by(Episode.id).limit(1))
    unit_id = session.scalar(select(Episode.unit_id).where(Episode.therapist_id == therapist_id).limit(1))
    ids = list(session.scalars(select(Episode.id).where(Episode.unit_id == unit_id)
                               .order_by(Episode.start_date.desc()).limit(OPEN_CASES + RECENTLY_CLOSED)))
    open_ids, closed_ids = ids[:OPEN_CASES], ids[OPEN_CASES:]
    session.execute(update(Episode).where(Episode.id.in_(ids)).values(therapist_id=therapist_id))
    session.execute(update(Episode).where(Episode.id.in_(open_ids)).values(end_date=None, end_reason=None))
    session.execute(update(Episode).where(Episode.id.in_(closed_ids))
                    .values(end_date=today - timedelta(days=10), end_reason="planned"))
    # Access follows membership of the case's unit today (fitapp.cases.access): the generated staff have none.
    # Confirmed, as a membership in force is (fitapp.access_confirmation; by the command line: no confirmer).
    session.add(UnitMembership(staff_id=therapist_id, unit_id=unit_id, valid_from=today - timedelta(days=3 * 365),
                               confirmed_at=utcnow()))
    # The generated staff have no password, so they could not log in (Staff.is_active).
    session.execute(update(Staff).where(Staff.id == therapist_id)
                    .values(password_hash=hash_password(secrets.token_urlsafe(16))))
    session.commit()
    return therapist_id, open_ids


# --------------------------------------------------------------------------- timings


@dataclass(frozen=True)
class Figure:
    name: str
    p50_ms: float
    p95_ms: float
    requests: int


@dataclass(frozen=True)
class Result:
    backend: str
    episodes: int
    ratings: int
    caseload: tuple[int, int]
    figures: dict[str, Figure]

    def lines(self) -> list[str]:
        base = self.figures["baseline"].p95_ms
        out = [f"{self.backend}: {self.episodes:,} episodes, {self.ratings:,} ratings; "
               f"the therapist's caseload: {self.caseload[0]} open, {self.caseload[1]} recently closed"]
        for figure in self.figures.values():
            verdict = "" if figure.name == "baseline" else (
                "  ok" if figure.p95_ms < TARGET_P95_MS else f"  MISSES the {TARGET_P95_MS:.0f} ms target")
            out.append(f"  {figure.name:<13} p50 {figure.p50_ms:7.1f} ms   p95 {figure.p95_ms:7.1f} ms   "
                       f"p95/baseline {figure.p95_ms / base:5.1f}   (n={figure.requests}){verdict}")
        return out


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def _time(name: str, requests: int, request, expected: int, location: str = "") -> Figure:
    for i in range(min(5, requests)):  # warm the caches, as a running server would have them
        request(i)
    runs = []
    for i in range(requests):
        began = time.perf_counter()
        response = request(i)
        runs.append((time.perf_counter() - began) * 1000)
        if response.status_code != expected or not response.headers.get("Location", "").startswith(location):
            raise AssertionError(f"{name}: HTTP {response.status_code} {response.headers.get('Location', '')}, "
                                 f"expected {expected} {location}")
        response.close()
    return Figure(name, statistics.median(runs), percentile(runs, 95), requests)


def _session_body(episode_id: int, today: date) -> dict[str, str]:
    from fitapp.cases import forms
    from fitapp.cases.services import participants_of

    people = [forms.FormPerson(p.id, p.person.ref, p.role, p.person.birth_year) for p in participants_of(episode_id)]
    body = forms.session_defaults(people, today)
    for person in people:
        for n in forms.ITEMS:
            body[f"outcome-{person.participant_id}-{n}"] = "6,5"
            body[f"alliance-{person.participant_id}-{n}"] = "9"
    return body


def measure(app, episodes: int = 10_000, requests: int = 200, seed: int = 1) -> Result:
    """Load the data into ``app``'s empty database and time the pages (see the module docstring)."""
    from fitapp.extensions import db
    from fitapp.models import Staff
    from tests.web.conftest import sign_in

    today = date.today()
    counts = load(db.session, episodes, seed)
    therapist_id, open_ids = heavy_caseload(db.session, today)
    bodies = {episode_id: _session_body(episode_id, today) for episode_id in open_ids}
    db.session.remove()

    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    with app.app_context():
        sign_in(client, db.session.get(Staff, therapist_id))
        db.session.remove()

    def get(path):
        with app.app_context():  # one context per request, as in production (see tests/conftest.py)
            return client.get(path)

    def post(path, data):
        with app.app_context():
            return client.post(path, data=data)

    figures = {
        "baseline": _time("baseline", requests, lambda i: get("/no-such-page"), 404),
        "caseload": _time("caseload", requests, lambda i: get("/"), 200),
        "case page": _time("case page", requests, lambda i: get(f"/cases/{open_ids[i % len(open_ids)]}"), 200),
        "session save": _time("session save", requests, lambda i: post(
            f"/cases/{open_ids[i % len(open_ids)]}/sessions/new", bodies[open_ids[i % len(open_ids)]]), 302,
            "/cases/"),  # saved: on to the case page (a refused save would go to the login page)
    }
    with app.app_context():
        backend = db.engine.dialect.name
    closed = min(RECENTLY_CLOSED, max(0, counts["episode"] - len(open_ids)))
    return Result(backend, counts["episode"], counts["rating"], (len(open_ids), closed), figures)


def run(backends: list[str], episodes: int, requests: int) -> list[Result]:
    from flask_migrate import upgrade

    from fitapp import create_app
    from fitapp.extensions import db
    from tests.pg_server import ThrowawayPostgres

    results = []
    for backend in backends:
        server = None
        directory = tempfile.mkdtemp(prefix="fitapp-bench-")
        if backend == "postgresql":
            server = ThrowawayPostgres()
            server.start()
            url = server.create_database("bench_caseload")
        else:
            url = "sqlite:///" + os.path.join(directory, "bench.sqlite")
        try:
            app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": url})
            with app.app_context():
                upgrade()
                result = measure(app, episodes, requests)
                db.session.remove()
                db.engine.dispose()
            print("\n".join(result.lines()), flush=True)
            results.append(result)
        finally:
            if server is not None:
                server.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", nargs="+", choices=("postgresql", "sqlite"), default=["postgresql", "sqlite"])
    parser.add_argument("--episodes", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    args = parser.parse_args()
    run(args.backends, args.episodes, args.requests)


if __name__ == "__main__":
    main()
