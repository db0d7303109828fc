"""Benchmark: import a realistic ratings file into fresh SQLite and PostgreSQL databases.

    .venv/bin/python benchmarks/import_ratings.py [--ratings 100000] [--backends sqlite,postgresql]

Generates a multi-unit file of families, sessions and ratings, then times
``import_ratings_file`` with --create-missing semantics (everything is new),
a second import of the same file (nothing new), and ``write_outcomes``. The
parse-only time (reading the CSV) is printed as the baseline every other
figure is compared with. Not part of the test suite; a test runs it tiny.
"""
from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

# Run as a script from anywhere: the project root must be importable.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fitapp.interchange.csvio import parse_table, write_table  # noqa: E402
from fitapp.interchange.rows import COLUMNS  # noqa: E402

UNITS = {"FAM-N": "NORR", "FAM-S": "SODER", "FAM-V": "VAST", "FAM-O": "OST", "FAM-C": "CITY", "FFT-1": "CITY",
         "MST-1": "SODER", "ART-1": "VAST"}
INTERVENTIONS = ("FAMBEH", "FFT", "MST", "IHF", "ART", "KOMET", "BSFT", "NYTT-PROGRAM")
END_REASONS = ("planned", "planned", "planned", "client_dropout", "moved", "other")


def outcome_and_alliance(age: int) -> tuple[str, str]:
    if age <= 5:
        return "YCORS", "YCSRS"
    return ("CORS", "CSRS") if age <= 12 else ("ORS", "SRS")


def items(rng: random.Random, level: float) -> list[str]:
    return [f"{min(100, max(0, round(rng.gauss(level, 1.5) * 10))) / 10:.1f}" for _ in range(4)]


class FileGenerator:
    """Families in episodes, weekly sessions, self, collateral and alliance ratings."""

    def __init__(self, ratings: int, seed: int) -> None:
        self.target = ratings
        self.rng = random.Random(seed)
        self.rows: list[list[str]] = []
        self.ratings = 0
        self.person_no = 0

    def generate(self) -> list[list[str]]:
        episode_no = 0
        while self.ratings < self.target:
            episode_no += 1
            self._episode(episode_no)
        return self.rows

    def _person(self) -> str:
        self.person_no += 1
        return f"PX{self.person_no:06d}"

    def _episode(self, number: int) -> None:
        rng = self.rng
        unit = rng.choice(list(UNITS))
        start = date(2022, 1, 3) + timedelta(days=rng.randrange(0, 900))
        sessions = rng.randint(3, 14)
        last_session = start + timedelta(days=7 * (sessions - 1))
        closed = rng.random() < 0.8
        episode = {
            "district": UNITS[unit], "unit": unit, "episode_ref": f"EP{number:06d}",
            "therapist": f"{unit.lower()}-t{rng.randint(1, 5)}", "intervention": rng.choice(INTERVENTIONS),
            "referral_date": (start - timedelta(days=rng.randint(0, 60))).isoformat(),
            "episode_start": start.isoformat(),
            "episode_end": (last_session + timedelta(days=rng.randint(0, 21))).isoformat() if closed else "",
            "end_reason": rng.choice(END_REASONS) if closed else "",
        }
        child_age = rng.randint(3, 17)
        family = [(self._person(), "index", start.year - child_age)]
        family += [(self._person(), "parent", start.year - rng.randint(28, 50)) for _ in range(rng.randint(1, 2))]
        genders = {ref: rng.choice(("female", "male", "other", "")) for ref, _, _ in family}
        for session_no in range(1, sessions + 1):
            day = start + timedelta(days=7 * (session_no - 1))
            for ref, role, birth_year in family:
                person = {"person_ref": ref, "role": role, "birth_year": str(birth_year), "gender": genders[ref],
                          "session_date": day.isoformat(), "session_no": str(session_no)}
                self._ratings_of(episode, person, family, session_no, day.year - birth_year)

    def _ratings_of(self, episode: dict, person: dict, family: list, session_no: int, age: int) -> None:
        rng = self.rng
        if rng.random() < 0.1 or self.ratings >= self.target:
            self._add(episode, person, "", "", [""] * 4)  # attended, did not rate
            return
        outcome, alliance = outcome_and_alliance(age)
        level = 4.5 + 0.25 * session_no
        self._add(episode, person, outcome, "", items(rng, level))
        if rng.random() < 0.8:
            self._add(episode, person, alliance, "", items(rng, 9.0))
        if person["role"] == "index" and rng.random() < 0.3:
            parent = family[1][0]  # a parent's view of the child (collateral rating)
            self._add(episode, person, outcome, parent, items(rng, level - 0.5))

    def _add(self, episode: dict, person: dict, instrument: str, rater: str, values: list[str]) -> None:
        if instrument and self.ratings >= self.target:
            return
        total = "" if not instrument else f"{sum(float(v) for v in values):.1f}"
        row = {**episode, **person, "instrument": instrument, "rater_ref": rater,
               "item1": values[0], "item2": values[1], "item3": values[2], "item4": values[3], "total": total}
        self.rows.append([row[c] for c in COLUMNS])
        self.ratings += bool(instrument)


def make_app(url: str):
    from flask_migrate import upgrade

    from fitapp import create_app

    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
    return app


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start


def run_backend(name: str, url: str, path: Path, rows: int, parse_seconds: float, out_dir: Path) -> dict:
    from fitapp.extensions import db
    from fitapp.interchange.exporter import write_outcomes
    from fitapp.interchange.importer import import_ratings_file

    app = make_app(url)
    with app.app_context():
        result, seconds = timed(import_ratings_file, path, create_missing=True, dry_run=False)
        again, again_seconds = timed(import_ratings_file, path, create_missing=True, dry_run=False)
        assert again.nothing_new, "a second import of the same file must change nothing"
        series, export_seconds = timed(write_outcomes, out_dir / f"outcomes-{name}.csv", include_open=True,
                                       unit_codes=[])
        db.engine.dispose()
    print(f"{name:>10}: import {seconds:6.2f} s  {rows / seconds:9,.0f} rows/s  {result.ratings / seconds:9,.0f} "
          f"ratings/s  ({seconds / parse_seconds:5.1f}× parse) | re-import {again_seconds:5.2f} s | "
          f"export {series:,} series {export_seconds:5.2f} s")
    return {"backend": name, "seconds": seconds, "ratings": result.ratings, "reimport": again_seconds,
            "export": export_seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    os.environ.setdefault("FITAPP_ENV", "testing")

    with tempfile.TemporaryDirectory(prefix="fitapp-bench-") as tmp:
        work = Path(tmp)
        rows = FileGenerator(args.ratings, args.seed).generate()
        path = work / "ratings.csv"
        write_table(path, COLUMNS, rows)
        data = path.read_bytes()
        _, parse_seconds = timed(parse_table, data)
        print(f"file: {len(rows):,} rows, {args.ratings:,} ratings, {len(data) / 1e6:.1f} MB")
        print(f"{'parse':>10}: {parse_seconds:6.2f} s  {len(rows) / parse_seconds:9,.0f} rows/s (CSV reading only)")
        for backend in args.backends.split(","):
            if backend == "sqlite":
                run_backend("sqlite", f"sqlite:///{work / 'bench.sqlite'}", path, len(rows), parse_seconds, work)
            elif backend == "postgresql":
                run_postgresql(path, len(rows), parse_seconds, work)
            else:
                parser.error(f"unknown backend {backend!r}")
    return 0


def run_postgresql(path: Path, rows: int, parse_seconds: float, work: Path) -> None:
    from tests.pg_server import ThrowawayPostgres

    server = ThrowawayPostgres()
    server.start()
    try:
        run_backend("postgresql", server.create_database("fitapp_bench"), path, rows, parse_seconds, work)
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
