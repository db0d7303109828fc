"""The caseload benchmark (benchmarks/caseload.py) at a tiny size on both backends, so it cannot rot."""
from benchmarks.caseload import measure, percentile


def test_benchmark_runs_at_a_tiny_size(app):
    result = measure(app, episodes=40, requests=3)
    assert result.episodes == 40 and result.ratings > 0 and result.caseload[0] >= 1
    assert list(result.figures) == ["baseline", "caseload", "case page", "session save"]
    assert all(0 < f.p50_ms <= f.p95_ms for f in result.figures.values())
    assert len(result.lines()) == 5 and "p95/baseline" in result.lines()[1]


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 95) == 95.0 and percentile(values, 50) == 50.0 and percentile([3.0], 95) == 3.0
