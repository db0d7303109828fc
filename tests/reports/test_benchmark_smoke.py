"""The report benchmark (benchmarks/reports.py) at a tiny size, so it cannot rot."""
import pytest

from benchmarks.reports import measure


@pytest.fixture
def backend():
    """PostgreSQL only: the benchmark loads its data with COPY, as a city installation would."""
    return "postgresql"


def test_benchmark_runs_at_a_tiny_size(app, tmp_path):
    timings = measure(app, ratings=400, repeat=1, out_dir=str(tmp_path))
    assert 300 < timings.ratings < 600
    assert timings.series > 0 and timings.city_cells > 0
    assert all(t > 0 for t in (timings.city_s, timings.exact_city_s, timings.unit_s, timings.baseline_s, timings.first_level_s))
    assert (tmp_path / "city.csv").read_text(encoding="utf-8-sig").startswith("period;unit;")
    assert all(t > 0 for t in (timings.page_s, timings.page_plain_s, timings.over_time_s))
    assert timings.interval_ratio > 0
    assert len(timings.lines()) == 10 and "with/without" in timings.lines()[-2]
