"""How sure the figures are, on the report pages (issue 15 items 2 and 3).

Every interval and verdict on a page must follow from the figures shown
beside it (protected figures when protected: an interval must never tell an
exact count), by the textbook formulas of tests/scoring/hand_stats.py.
Dataset: tests/reports/dataset.py (2025-T2 of UA), plus for the comparison
over time ten FFT families (archetype C) closed in 2024-T2.
"""
from html.parser import HTMLParser

import pytest

from fitapp.extensions import db
from fitapp.reports.series_store import refresh_series
from fitapp.scoring.uncertainty import expected_cells
from tests import factories as f
from tests.reports.dataset import build_city, family_c
from tests.reports.html import figure_cells, keyed_cells
from tests.scoring.hand_stats import hand_fisher, hand_wilson, hand_z_p
from tests.web.conftest import sign_in

T2 = "year=2025&tertial=2&span=tertial&as_of=2026-08-31"
LAST_YEAR_FAMILIES = 10


@pytest.fixture
def city(app):
    built = build_city()
    for _ in range(LAST_YEAR_FAMILIES):
        family_c(built)
    for episode in built.episodes["C"][-LAST_YEAR_FAMILIES:]:
        episode.start_date = episode.start_date.replace(year=2024)
        episode.end_date = episode.end_date.replace(year=2024)
        for session in episode.sessions:
            session.date = session.date.replace(year=2024)
    db.session.flush()
    f.commit()
    refresh_series()
    return built


@pytest.fixture
def head(city):
    staff = f.staff("head_a", "unit_head", [city.units["UA"]])
    f.commit()
    return staff


def percent(value: float) -> str:
    return f"{value * 100:.1f}".replace(".", ",")


def shown_interval(cell) -> tuple[str, str] | None:
    return (cell["fig-low"], cell["fig-high"]) if "fig-low" in cell else None


def hand_interval(numerator: int, denominator: int) -> tuple[str, str]:
    low, high = hand_wilson(numerator, denominator)
    return percent(max(0.0, low)), percent(min(1.0, high))


def assert_every_share_has_its_own_wilson_interval(cells: dict) -> int:
    """Each shown share's interval is Wilson's of the numerator and denominator shown beside it."""
    checked = 0
    for key, cell in cells.items():
        if cell["kind"] == "share" and "fig-value" in cell and int(cell["fig-den"]) > 0:
            assert shown_interval(cell) == hand_interval(int(cell["fig-num"]), int(cell["fig-den"])), key
            checked += 1
        elif cell["suppressed"] or cell["kind"] == "count":
            assert shown_interval(cell) is None and "KI" not in cell["text"], key
    return checked


@pytest.mark.parametrize("exact", [False, True])
def test_the_report_page_shows_a_wilson_interval_for_every_shown_share(client, head, exact):
    sign_in(client, head)
    html = client.get(f"/reports/?{T2}&unit=UA" + ("&exact=1" if exact else "")).get_data(as_text=True)
    cells = keyed_cells(html)
    assert assert_every_share_has_its_own_wilson_interval(cells) > 20  # the all table, breakdowns, parents
    if exact:
        # The worked example on the exact figures: coverage 20/25.
        coverage = cells["index/UA/all/all/coverage"]
        assert (coverage["fig-num"], coverage["fig-den"]) == ("20", "25")
        assert shown_interval(coverage) == ("60,9", "91,1")


def test_a_protected_interval_is_made_of_the_protected_figures_never_the_exact_ones(client, head):
    sign_in(client, head)
    cells = keyed_cells(client.get(f"/reports/?{T2}&unit=UA").get_data(as_text=True))
    coverage = cells["index/UA/all/all/coverage"]
    shown = (int(coverage["fig-num"]), int(coverage["fig-den"]))
    assert shown != (20, 25), "the dataset's protected coverage must differ from the exact 20/25"
    assert shown_interval(coverage) == hand_interval(*shown)
    assert shown_interval(coverage) != hand_interval(20, 25)


def test_a_mean_without_a_protected_standard_deviation_says_it_cannot_be_tested(client, head):
    sign_in(client, head)
    for extra in ("", "&exact=1"):
        cells = keyed_cells(client.get(f"/reports/?{T2}&unit=UA{extra}").get_data(as_text=True))
        for indicator in ("mean_intake", "mean_change", "effect_size", "mean_sessions", "mean_days", "srs_mean"):
            cell = cells[f"index/UA/all/all/{indicator}"]
            assert "fig-value" in cell and "kan inte prövas" in cell["text"], indicator
            assert shown_interval(cell) is None


def test_the_report_page_explains_how_sure_the_figures_are(client, head):
    sign_in(client, head)
    html = client.get(f"/reports/?{T2}&unit=UA").get_data(as_text=True)
    section = html[html.index('id="uncertainty-heading"'):]
    for words in ("Hur säkra siffrorna är", "Wilsons intervall", "t-intervallet", "verklig förändring",
                  "inom slumpens ram", "Fishers exakta test", "Welchs t-test", "procentenheter",
                  "Skyddet lägger till lite egen osäkerhet", "kan inte prövas"):
        assert words in section, words
    definitions = client.get("/reports/definitions").get_data(as_text=True)
    assert 'id="uncertainty"' in definitions and "Hur säkra siffrorna är" in definitions
    printed = client.get(f"/reports/print?{T2}&unit=UA").get_data(as_text=True)
    assert "Hur säkra siffrorna är" in printed and "95 % KI" in printed


# ---------------------------------------------------------------- over time


def change_cells(html: str) -> dict[str, tuple[str, str]]:
    """indicator -> (verdict, text) of the change column of the table by year."""

    class Parser(HTMLParser):
        def __init__(self):
            super().__init__()
            self.found, self.row, self.cell, self.in_years = {}, None, None, False

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "table":
                self.in_years = attrs.get("id") == "years-table"
            elif self.in_years and tag == "a" and self.row is None and "href" in attrs and "#" in attrs["href"]:
                self.row = attrs["href"].split("#")[1]
            elif self.in_years and tag == "td" and "change" in (attrs.get("class") or "").split():
                self.cell = [attrs.get("data-verdict"), ""]

        def handle_endtag(self, tag):
            if tag == "td" and self.cell is not None:
                self.found[self.row] = (self.cell[0], " ".join(self.cell[1].split()))
                self.cell = None
            elif tag == "tr":
                self.row = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell[1] += data

    parser = Parser()
    parser.feed(html)
    return parser.found


def hand_verdict(x1: int, n1: int, x2: int, n2: int) -> tuple[str, str]:
    """(test name on the page, verdict) by Cochran's rule and the textbook p-values."""
    if min(expected_cells(x1, n1, x2, n2)) < 5:
        name, p = "Fishers exakta test", hand_fisher(x1, n1, x2, n2)
    else:
        name, p = "z-test för två andelar", hand_z_p(x1, n1, x2, n2)
    return name, "real_change" if p < 0.05 else "within_chance"


@pytest.mark.parametrize("exact", [False, True])
def test_a_change_from_last_year_is_called_real_only_when_its_test_says_so(client, head, exact):
    sign_in(client, head)
    html = client.get(f"/reports/over-time?{T2}&indicator=coverage" + ("&exact=1" if exact else "")
                      ).get_data(as_text=True)
    changes = change_cells(html)
    table = html[html.index('id="years-table"'):html.index("</table>", html.index('id="years-table"'))]
    now, before = _column(table, -1), _column(table, -2)
    checked = 0
    for indicator, (verdict, text) in changes.items():
        a, b = now.get(indicator), before.get(indicator)
        if a is None or b is None or a["kind"] == "count":
            continue
        if a["suppressed"] or b["suppressed"] or "fig-value" not in a or "fig-value" not in b:
            assert verdict == "not_testable" and "kan inte prövas" in text, indicator
            continue
        if a["kind"] == "mean":
            assert verdict == "not_testable" and "kan inte prövas" in text, indicator
            continue
        x1, n1, x2, n2 = int(a["fig-num"]), int(a["fig-den"]), int(b["fig-num"]), int(b["fig-den"])
        name, expected = hand_verdict(x1, n1, x2, n2)
        assert verdict == expected, indicator
        assert name in text, indicator
        assert ("verklig förändring" if expected == "real_change" else "inom slumpens ram") in text
        points = round((x1 / n1 - x2 / n2) * 100, 1)
        assert f"{abs(points):.1f}".replace(".", ",") + " procentenheter" in text, (indicator, text)
        checked += 1
    assert checked >= 4
    if exact:
        # Coverage 20/25 against 10/20: every expected cell ≥ 5 -> the z test, p = 0.036: a real change.
        assert changes["coverage"][0] == "real_change" and "+30,0 procentenheter" in changes["coverage"][1]
        assert "z-test för två andelar" in changes["coverage"][1]
        # Dropout 5/20 against 0/10: small groups -> Fisher, p = 0.14: within the bounds of chance.
        assert changes["dropout"][0] == "within_chance" and "Fishers exakta test" in changes["dropout"][1]
        assert "+25,0 procentenheter" in changes["dropout"][1]


def _column(table: str, position: int) -> dict:
    """indicator -> the figure cell of one year column (a column without data has none)."""
    rows = table.split("<tr")[2:]  # after the header row
    result = {}
    for row in rows:
        indicator = row.split("#", 1)[1].split('"', 1)[0]
        tds = row.split("<td")[1:]
        year_tds = tds[:-1]  # the last is the change column
        cell_html = "<td" + year_tds[position]
        found = figure_cells(cell_html)
        result[indicator] = found[0] if found else None
    return result


def test_over_time_sets_the_years_tertials_side_by_side_with_whole_year_labels(client, head):
    sign_in(client, head)
    html = client.get(f"/reports/over-time?{T2}&indicator=coverage&exact=1").get_data(as_text=True)
    table = html[html.index('id="tertials-table"'):html.index("</table>", html.index('id="tertials-table"'))]
    header = table[:table.index("</thead>")]
    assert [p.split('"')[1] for p in header.split("data-period=")[1:]] == \
        ["2025-T1", "2025-T2", "2025-T3", "2025-T1..T3"]
    for title in ("2025 T1", "2025 T2", "2025 T3", "2025 T1–T3 (helår)"):
        assert f">{title}</th>" in header, title
    # Exact closed cases of UA: 5 in T1, 20 in T2, 5 in T3 (dataset), 30 in the year.
    closed = [c for c in figure_cells(table) if (c["key"] or "").endswith("/episodes_closed")]
    assert [c["fig-count"] for c in closed] == ["5", "20", "5", "30"]
    years = html[html.index('id="years-table"'):]
    assert ">2022 T2</th>" in years and ">2025 T2</th>" in years
    assert "Förändring 2024 → 2025" in years
    assert html.count('<svg class="chart"') == 2
    # Coverage is a share: each shown point of both charts has its 95 % interval as a whisker.
    charts = html[html.index('<svg class="chart"'):]
    assert charts.count('class="chart__point"') == 4 + 2  # T1, T2, T3, year; 2024-T2 and 2025-T2
    assert charts.count('class="chart__whisker"') == 3 * 6


def test_a_period_without_data_says_no_comparison(client, head):
    sign_in(client, head)
    html = client.get(f"/reports/over-time?year=2024&tertial=2&span=tertial&as_of=2026-08-31").get_data(as_text=True)
    tertials = html[html.index('id="tertials-table"'):html.index("</table>", html.index('id="tertials-table"'))]
    # 2024: only T2 has closed cases; T1 and T3 have none.
    assert tertials.count('class="num no-comparison"') == 2 * 17
    changes = change_cells(html)
    assert changes["coverage"][0] == "no_comparison" and changes["coverage"][1] == "ingen jämförelse"
