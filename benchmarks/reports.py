"""Benchmark: unit reports on a city-sized PostgreSQL database (issue 5, "Performance and scale").

Run from the repository root:

    .venv/bin/python -m benchmarks.reports            # 10k, 100k and 1M ratings
    .venv/bin/python -m benchmarks.reports --sizes 10000

For each size it builds a fresh database in a throwaway PostgreSQL server
(14 districts, 70 units; episodes and persons scaled so that 1M ratings come
with ~60,000 episodes), refreshes the series table, and prints the median
time of: the city-wide report with all breakdowns (every unit + ALL, written
to a file and audited, as ``flask report`` does), one unit's report, and
hand-written SQL baselines, with ratios; then the quality group's city report
page (GET /reports/) with its 95 % intervals against the same page with the
intervals left out (issue 15: within 1.2×), and the page over time. The four are timed taking turns, so
that load drifting on a shared machine does not skew their ratios.

Data are written with COPY from temporary files, so generation takes seconds
rather than minutes and memory stays flat.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select, text

DISTRICTS = 14
UNITS_PER_DISTRICT = 5
RATINGS_PER_EPISODE = 16.7  # 1,000,000 ratings ≈ 60,000 episodes
FIRST_DAY = date(2020, 1, 1)
LAST_DAY = date(2025, 12, 31)
CREATED = "2026-01-01 00:00:00+00"
REPORT_YEAR, REPORT_TERTIAL, AS_OF = 2024, 2, date(2025, 12, 31)
END_REASONS = ("planned",) * 6 + ("client_dropout",) * 2 + ("moved", "other")
GENDERS = ("female", "female", "male", "male", "other", None)

TABLES = {
    "district": ("id", "code", "name"),
    "unit": ("id", "district_id", "code", "name"),
    "staff": ("id", "username", "password_hash", "role", "is_enabled", "created_at"),
    "person": ("id", "ref", "birth_year", "gender", "retention_exempt", "created_at"),
    "episode": ("id", "unit_id", "ref", "therapist_id", "intervention_id", "referral_date", "start_date",
                "end_date", "end_reason", "child_no_rating_reason", "created_at", "record_key"),
    "participant": ("id", "episode_id", "person_id", "role", "record_key"),
    "session": ("id", "episode_id", "number", "date", "created_at"),
    "rating": ("id", "session_id", "instrument", "subject_id", "rater_id", "item1_x10", "item2_x10", "item3_x10",
               "item4_x10", "total_x10", "created_by_id", "created_at", "record_key"),
}
# metrics.md §7.2: record keys are integers below 10^9 (the app draws them from `secrets`; these are synthetic).
RECORD_KEY_MODULUS = 10**9


# --------------------------------------------------------------------------- data


class CopyFiles:
    """One temporary tab-separated file per table, in COPY's text format (NULL = \\N)."""

    def __init__(self, directory: str) -> None:
        self.paths = {table: os.path.join(directory, f"{table}.tsv") for table in TABLES}
        self.files = {table: open(path, "w", encoding="utf-8") for table, path in self.paths.items()}
        self.counts = dict.fromkeys(TABLES, 0)

    def row(self, table: str, *values) -> int:
        """Append a row whose id is the next number of the table; returns that id."""
        self.counts[table] += 1
        fields = (self.counts[table], *values)
        self.files[table].write("\t".join("\\N" if v is None else str(v) for v in fields) + "\n")
        return self.counts[table]

    def close(self) -> None:
        for f in self.files.values():
            f.close()


@dataclass
class Generator:
    """Synthetic but plausible families: children re-referred within their district, parents rating too."""

    episodes: int
    intervention_ids: list[int]
    seed: int = 1

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        # Record keys from a generator of their own: the rest of the data stays what it was before they came.
        self.keys = random.Random(f"record keys {self.seed}")
        self.children_by_district: dict[int, list[tuple[int, int, str | None]]] = {}

    def write(self, out: CopyFiles) -> None:
        for d in range(1, DISTRICTS + 1):
            out.row("district", f"D{d:02d}", f"Förvaltning {d}")
        for u in range(DISTRICTS * UNITS_PER_DISTRICT):
            out.row("unit", u // UNITS_PER_DISTRICT + 1, f"U{u + 1:02d}", f"Enhet {u + 1}")
        for s in range(2 * DISTRICTS * UNITS_PER_DISTRICT):
            out.row("staff", f"bench{s + 1}", None, "therapist", "t", CREATED)
        for number in range(1, self.episodes + 1):
            self._episode(out, number)

    def _episode(self, out: CopyFiles, number: int) -> None:
        rng = self.rng
        unit_id = rng.randrange(DISTRICTS * UNITS_PER_DISTRICT) + 1
        district = (unit_id - 1) // UNITS_PER_DISTRICT + 1
        start = FIRST_DAY + timedelta(days=rng.randrange((LAST_DAY - FIRST_DAY).days))
        end = start + timedelta(days=rng.randint(20, 300))
        closed = end <= LAST_DAY
        referral = start - timedelta(days=rng.randint(0, 60)) if rng.random() < 0.8 else None
        therapist = 2 * (unit_id - 1) + rng.randint(1, 2)
        episode_id = out.row(
            "episode", unit_id, f"E{number}", therapist, rng.choice(self.intervention_ids), referral, start,
            end if closed else None, rng.choice(END_REASONS) if closed else None, None, CREATED, self._key(),
        )
        children = [self._child(out, district, start) for _ in range(1 if rng.random() < 0.9 else 2)]
        children = list(dict.fromkeys(children))  # a re-referred child is drawn at most once per episode
        child_parts = [(out.row("participant", episode_id, pid, "index", self._key()), by) for pid, by in children]
        parents = [out.row("person", f"B{out.counts['person'] + 1}", rng.randint(1970, 1992),
                           rng.choice(GENDERS), "f", CREATED) for _ in range(rng.randint(1, 2))]
        parent_parts = [out.row("participant", episode_id, pid, "parent", self._key()) for pid in parents]
        sessions = min(rng.randint(2, 10), ((end - start).days // 7) + 1)
        self._sessions(out, episode_id, start, sessions, child_parts, parent_parts)

    def _child(self, out: CopyFiles, district: int, start: date) -> tuple[int, int]:
        pool = self.children_by_district.setdefault(district, [])
        if pool and self.rng.random() < 0.12:
            return self.rng.choice(pool)[:2]
        birth_year = start.year - self.rng.randint(3, 17)
        pid = out.row("person", f"C{out.counts['person'] + 1}", birth_year, self.rng.choice(GENDERS), "f", CREATED)
        pool.append((pid, birth_year, None))
        return pid, birth_year

    def _sessions(self, out, episode_id, start, count, child_parts, parent_parts) -> None:
        rng = self.rng
        levels = {part: rng.randint(100, 350) for part, _ in child_parts}
        levels.update({part: rng.randint(150, 380) for part in parent_parts})
        for n in range(1, count + 1):
            session_id = out.row("session", episode_id, n, start + timedelta(days=7 * (n - 1)), CREATED)
            for part, birth_year in child_parts:
                age = start.year - birth_year
                outcome, alliance = ("YCORS", "YCSRS") if age <= 5 else ("CORS", "CSRS") if age <= 12 else \
                    ("ORS", "SRS")
                levels[part] = _drift(rng, levels[part])
                if rng.random() < 0.9:
                    self._rating(out, session_id, outcome, part, part, levels[part])
                if rng.random() < 0.8:
                    self._rating(out, session_id, alliance, part, part, rng.randint(280, 400))
                if parent_parts and rng.random() < 0.2:
                    self._rating(out, session_id, outcome, part, parent_parts[0], _drift(rng, levels[part]))
            for part in parent_parts[:1]:
                levels[part] = _drift(rng, levels[part])
                if rng.random() < 0.6:
                    self._rating(out, session_id, "ORS", part, part, levels[part])

    def _rating(self, out: CopyFiles, session_id: int, instrument: str, subject: int, rater: int,
                total_x10: int) -> None:
        base, extra = divmod(total_x10, 4)
        items = [base + (1 if i < extra else 0) for i in range(4)]
        out.row("rating", session_id, instrument, subject, rater, *items, total_x10, None, CREATED, self._key())

    def _key(self) -> int:
        return self.keys.randrange(RECORD_KEY_MODULUS)


def _drift(rng: random.Random, level: int) -> int:
    return max(0, min(400, level + rng.randint(-25, 45)))


def load(session, episodes: int, seed: int = 1) -> dict[str, int]:
    """Fill empty organisation/case tables of a migrated PostgreSQL database; returns row counts.

    ``session`` is a SQLAlchemy session on PostgreSQL (psycopg 3); it is committed.
    """
    connection = session.connection()
    intervention_ids = [row[0] for row in connection.execute(text("SELECT id FROM intervention ORDER BY id"))]
    with tempfile.TemporaryDirectory(prefix="fitapp-bench-") as directory:
        out = CopyFiles(directory)
        Generator(episodes, intervention_ids, seed).write(out)
        out.close()
        cursor = connection.connection.driver_connection.cursor()
        for table, columns in TABLES.items():
            with open(out.paths[table], encoding="utf-8") as source, \
                    cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                while chunk := source.read(1 << 20):
                    copy.write(chunk)
            connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                    f"(SELECT coalesce(max(id), 1) FROM {table}))"))
    session.commit()
    for table in TABLES:
        session.execute(text(f"ANALYZE {table}"))
    session.commit()
    return out.counts


# --------------------------------------------------------------------------- timings

BASELINE_EPISODES_SQL = """
SELECT unit_id, count(*) FROM episode
WHERE end_date BETWEEN :start AND :end
GROUP BY unit_id
"""

# The report's first-level counts per unit straight from the raw tables, without the
# series table: closed episodes, index persons, index persons with a self-rated outcome
# rating (coverage) and those whose index series (metrics.md §5: most ratings, then the
# later first rating, ...) is ORS/CORS with n >= 2 (paired). Live ratings in live
# sessions only, as the series table holds. One row per index person before the
# GROUP BY: an earlier version joined every closed episode of a unit with every index
# person of it, which grew with the square of the data and flattered the ratio.
# measure() checks that these counts equal the report's.
BASELINE_FIRST_LEVEL_SQL = """
SELECT e.unit_id,
       count(DISTINCT e.id) AS episodes_closed,
       count(p.id) AS index_persons,
       count(ix.n) AS covered,
       count(*) FILTER (WHERE ix.n >= 2 AND ix.instrument IN ('ORS', 'CORS')) AS paired
FROM episode e
LEFT JOIN participant p ON p.episode_id = e.id AND p.role = 'index'
LEFT JOIN LATERAL (
    SELECT r.instrument, count(*) AS n
    FROM rating r JOIN session s ON s.id = r.session_id
    WHERE r.subject_id = p.id AND r.rater_id = p.id AND r.instrument IN ('ORS', 'CORS', 'YCORS')
      AND r.deleted_at IS NULL AND s.deleted_at IS NULL
    GROUP BY r.instrument
    ORDER BY count(*) DESC, min(s.date) DESC, max(s.date) DESC,
             array_position(ARRAY['ORS', 'CORS', 'YCORS']::varchar[], r.instrument)
    LIMIT 1
) ix ON true
WHERE e.end_date BETWEEN :start AND :end
GROUP BY e.unit_id
"""
FIRST_LEVEL = ("episodes_closed", "index_persons", "coverage", "paired")


def interleaved_medians(actions: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median seconds of each action, the actions taking turns round by round.

    Taking turns rather than timing one action ``repeat`` times and then the
    next: on a shared machine the load drifts over a run, and a ratio of two
    medians measured minutes apart would mostly measure that drift.
    """
    for action in actions.values():
        action()  # warm caches and plans once, as a server that has been running would have
    runs: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(repeat):
        for name, action in actions.items():
            began = time.perf_counter()
            action()
            runs[name].append(time.perf_counter() - began)
    return {name: statistics.median(times) for name, times in runs.items()}


@dataclass(frozen=True)
class Timings:
    ratings: int
    episodes: int
    series: int
    load_s: float
    refresh_s: float
    city_s: float
    city_cells: int
    exact_city_s: float
    unit_s: float
    baseline_s: float
    first_level_s: float
    page_s: float
    page_plain_s: float
    over_time_s: float
    page_intervals: int

    @property
    def interval_ratio(self) -> float:
        """The city report page with its intervals over the same page without them (issue 15: ≤ 1.2)."""
        return self.page_s / self.page_plain_s

    def lines(self) -> list[str]:
        return [
            f"ratings {self.ratings:>9,}  episodes {self.episodes:>6,}  series {self.series:>7,}  "
            f"(load {self.load_s:.1f} s, refresh-series {self.refresh_s:.1f} s)",
            f"  city report, all units + ALL, all breakdowns ({self.city_cells:,} cells): {_ms(self.city_s)}",
            f"  the same with exact figures (report --exact):  {_ms(self.exact_city_s)}"
            f"   protected/exact = {self.city_s / self.exact_city_s:.2f}x",
            f"  one unit's report:                             {_ms(self.unit_s)}",
            f"  SQL baseline, episodes_closed per unit:        {_ms(self.baseline_s)}"
            f"   city/baseline = {self.city_s / self.baseline_s:.1f}x",
            f"  SQL first-level counts from the raw ratings:   {_ms(self.first_level_s)}"
            f"   city/first-level = {self.city_s / self.first_level_s:.2f}x",
            "    (one GROUP BY by unit: episodes closed, index persons, covered, paired by the §5 index series;"
            " live ratings only; checked equal to the report's cells)",
            f"  city report page (quality group, GET /reports/) with {self.page_intervals} intervals: {_ms(self.page_s)}",
            f"  the same page without the intervals:             {_ms(self.page_plain_s)}"
            f"   with/without = {self.interval_ratio:.2f}x",
            f"  city page over time (T1, T2, T3, year; 4 years):  {_ms(self.over_time_s)}",
        ]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def measure(app, ratings: int, repeat: int = 5, out_dir: str | None = None) -> Timings:
    """Load ``ratings``-sized data into the app's (empty, migrated) PostgreSQL database and time the reports."""
    from fitapp.extensions import db
    from fitapp.models import Unit
    from fitapp.reports.export import export_report
    from fitapp.reports.series_store import refresh_series
    from fitapp.reports.services import build_report

    episodes = max(10, round(ratings / RATINGS_PER_EPISODE))
    began = time.perf_counter()
    counts = load(db.session, episodes)
    load_s = time.perf_counter() - began
    began = time.perf_counter()
    refreshed = refresh_series()
    refresh_s = time.perf_counter() - began
    db.session.execute(text("ANALYZE series_summary"))
    db.session.commit()

    out_dir = out_dir or tempfile.mkdtemp(prefix="fitapp-bench-out-")
    one_unit = db.session.scalar(select(Unit.code).order_by(Unit.code).limit(1))
    cells: list[int] = []

    # What `flask report` does: build, write the file, audit the export and commit.
    def city() -> None:
        cells.append(export_report(os.path.join(out_dir, "city.csv"), year=REPORT_YEAR, tertial=REPORT_TERTIAL,
                                   ytd=False, unit_codes=[], as_of=AS_OF))

    def exact_city() -> None:
        export_report(os.path.join(out_dir, "city-exact.csv"), year=REPORT_YEAR, tertial=REPORT_TERTIAL,
                      ytd=False, unit_codes=[], as_of=AS_OF, exact=True)

    def unit() -> None:
        export_report(os.path.join(out_dir, "unit.csv"), year=REPORT_YEAR, tertial=REPORT_TERTIAL, ytd=False,
                      unit_codes=[one_unit], as_of=AS_OF)

    period = {"start": date(REPORT_YEAR, 5, 1), "end": date(REPORT_YEAR, 8, 31)}

    def sql(statement: str) -> Callable[[], None]:
        def run() -> None:
            db.session.execute(text(statement), period).all()
            db.session.rollback()
        return run

    medians = interleaved_medians({
        "city": city, "exact_city": exact_city, "unit": unit, "baseline": sql(BASELINE_EPISODES_SQL),
        "first_level": sql(BASELINE_FIRST_LEVEL_SQL),
    }, repeat)
    pages = page_medians(app, repeat)
    timings = Timings(
        ratings=counts["rating"], episodes=counts["episode"], series=refreshed.series,
        load_s=load_s, refresh_s=refresh_s,
        city_s=medians["city"], city_cells=cells[-1], exact_city_s=medians["exact_city"], unit_s=medians["unit"],
        baseline_s=medians["baseline"], first_level_s=medians["first_level"],
        page_s=pages["page"], page_plain_s=pages["page_plain"], over_time_s=pages["over_time"],
        page_intervals=int(pages["intervals"]),
    )
    check_first_level(db.session.execute(text(BASELINE_FIRST_LEVEL_SQL), period).all(),
                      build_report(REPORT_YEAR, REPORT_TERTIAL, False, [], AS_OF, exact=True))
    db.session.rollback()
    return timings


def page_medians(app, repeat: int) -> dict[str, float]:
    """Median seconds of the quality group's city report page with and without its intervals, and over time.

    "Without" is the same request with the page's interval lookup
    (fitapp.reports.intervals.figure_interval, handed to the templates by
    the reports blueprint) answering None for every figure, as the page was
    before the intervals came; everything else, the uncertainty section's
    text included, is the same.
    """
    from unittest import mock

    from fitapp.extensions import db
    from tests import factories
    from tests.web.conftest import sign_in

    quality = factories.staff("bench-quality", "quality", [])
    factories.commit()
    client = app.test_client()
    sign_in(client, quality)
    query = f"year={REPORT_YEAR}&tertial={REPORT_TERTIAL}&span=tertial&as_of={AS_OF.isoformat()}"

    def get(path: str) -> Callable[[], None]:
        def run() -> None:
            response = client.get(path)
            if response.status_code != 200:
                raise AssertionError(f"{path}: {response.status_code}")
            db.session.rollback()
        return run

    page = get(f"/reports/?{query}")
    no_intervals = mock.patch("fitapp.reports.routes.figure_interval", lambda cell, sd=None: None)

    def page_plain() -> None:
        with no_intervals:
            page()

    # The two differ in their intervals (none at all without them; at a tiny size every figure may be hidden).
    with_html = client.get(f"/reports/?{query}").get_data(as_text=True)
    with no_intervals:
        plain_html = client.get(f"/reports/?{query}").get_data(as_text=True)
    db.session.rollback()
    if 'class="fig-interval"' in plain_html:
        raise AssertionError("the page without intervals still shows intervals")

    medians = interleaved_medians({"page": page, "page_plain": page_plain}, repeat)
    medians.update(interleaved_medians({"over_time": get(f"/reports/over-time?{query}")}, max(1, repeat // 2)))
    medians["intervals"] = with_html.count('class="fig-interval"')
    return medians


def check_first_level(baseline_rows, report_rows) -> None:
    """The baseline must compute the report's exact figures: compare every first-level cell of each unit."""
    from fitapp.extensions import db
    from fitapp.models import Unit

    code_of = dict(db.session.execute(select(Unit.id, Unit.code)).all())
    report = {(row.unit, row.indicator): row.numerator for row in report_rows
              if row.breakdown == "all" and row.indicator in FIRST_LEVEL and not row.suppressed}
    for unit_id, *counts in baseline_rows:
        for indicator, count in zip(FIRST_LEVEL, counts):
            shown = report.get((code_of[unit_id], indicator), count)
            if shown != count:
                raise AssertionError(f"baseline {indicator} of {code_of[unit_id]} is {count}, the report says {shown}")


def run(sizes: list[int], repeat: int) -> None:
    from fitapp import create_app
    from fitapp.extensions import db
    from flask_migrate import upgrade
    from tests.pg_server import ThrowawayPostgres

    server = ThrowawayPostgres()
    server.start()
    try:
        for size in sizes:
            url = server.create_database(f"bench_{size}")
            app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": url})
            with app.app_context():
                upgrade()
                timings = measure(app, size, repeat)
                db.session.remove()
                db.engine.dispose()
            print("\n".join(timings.lines()), flush=True)
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000],
                        help="target numbers of ratings")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per figure (median is printed)")
    args = parser.parse_args()
    run(args.sizes, args.repeat)


if __name__ == "__main__":
    main()
