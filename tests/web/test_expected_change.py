"""Expected change on the case page (metrics.md §8): the line, its source text and the alert.

Reference series are closed episodes' paired self-rated series of the same
instrument and 5-point intake band (fitapp/cases/expected.py). The hand-built
reference here is ORS 22.0 -> 26.0 -> 28.0 (band 20–24.9), so the mean line
is 22, 26, 28 and so is the lower quartile.
"""
from datetime import date, timedelta
from decimal import Decimal as D

from fitapp.cases.expected import reference_totals
from fitapp.cases.services import episode_view
from fitapp.extensions import db
from fitapp.models import Episode
from fitapp.reports.series_store import refresh_series
from tests import factories
from tests.web.conftest import counted_queries, sign_in


SOURCE_30 = ("Förväntad förändring: medelvärde (streckad linje) och nedre kvartil (prickad linje) för "
             "30 avslutade serier (ORS, startvärde 20–24,9) i organisationen.")


def closed_series(org, count: int, totals=("22.0", "26.0", "28.0"), *, instrument: str = "ORS",
                  collateral: bool = False, unit: str = "A", first_end: date = date(2025, 6, 2)) -> None:
    """``count`` closed episodes, each with one self-rated series (or a parent's rating of the child)."""
    for i in range(count):
        episode = factories.episode(org["units"][unit], org["anna"], start_date=date(2025, 1, 6),
                                    end_date=first_end + timedelta(days=i))
        child = factories.participant(episode, "index", birth_year=2008)
        rater = factories.participant(episode, "parent", birth_year=1980) if collateral else None
        factories.series(episode, child, instrument, list(totals), rater=rater)


def open_case(org, totals) -> int:
    episode = factories.episode(org["units"]["A"], org["anna"], ref="NOW-1", start_date=date(2025, 9, 1))
    child = factories.participant(episode, "index", birth_year=2008, ref="P-NOW")
    factories.series(episode, child, "ORS", list(totals))
    return episode.id


def page(client, org, episode_id: int) -> str:
    factories.commit()
    refresh_series()
    sign_in(client, org["anna"])
    response = client.get(f"/cases/{episode_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def alerts_of(html: str) -> str:
    return html[html.index('id="alerts-heading"'):html.index("</section>", html.index('id="alerts-heading"'))]


def test_thirty_closed_series_in_the_band_give_the_line_and_its_source(client, org):
    closed_series(org, 30)
    # A single rating is not a paired series and does not count.
    closed_series(org, 3, ("22.0",))
    html = page(client, org, open_case(org, ["21.0", "27.0"]))
    assert SOURCE_30 in html
    svg = html[html.index("<svg"):html.index("</svg>")]
    # Sessions 1–3 of a five-session chart: x 97.6, 196.8, 296; totals 22, 26, 28.
    assert 'class="chart__expected" points="97.6,106 196.8,86 296,76"' in svg
    assert 'class="chart__expected chart__expected--lower" points="97.6,106 196.8,86 296,76"' in svg
    assert "under förväntat" not in alerts_of(html)


def test_twenty_nine_series_show_nothing(client, org):
    closed_series(org, 29)
    html = page(client, org, open_case(org, ["21.0", "20.0"]))
    assert "chart__expected" not in html and "Förväntad förändring" not in html
    assert "under förväntat" not in alerts_of(html)


def test_a_series_below_the_lower_quartile_gets_the_alert(client, org):
    closed_series(org, 30)
    html = page(client, org, open_case(org, ["21.0", "25.0"]))
    alerts = alerts_of(html)
    assert "alert-item--below_expected" in alerts
    assert "under förväntat" in alerts and "P-NOW (barn/ung, född 2008), ORS" in alerts


def test_another_bands_series_are_not_used(client, org):
    closed_series(org, 29)
    closed_series(org, 30, ("25.0", "30.0", "32.0"))  # band 25–29.9
    closed_series(org, 30, ("22.0", "26.0"), instrument="CORS")  # same band, another instrument
    html = page(client, org, open_case(org, ["21.0", "20.0"]))
    assert "Förväntad förändring" not in html and "chart__expected" not in html


def test_parents_collateral_series_are_not_used(client, org):
    closed_series(org, 29)
    closed_series(org, 30, collateral=True)
    html = page(client, org, open_case(org, ["21.0", "20.0"]))
    assert "Förväntad förändring" not in html and "chart__expected" not in html


def test_reference_series_come_from_the_whole_organisation(client, org):
    closed_series(org, 15)
    closed_series(org, 15, unit="C")  # another district of the same organisation
    html = page(client, org, open_case(org, ["21.0", "27.0"]))
    assert SOURCE_30 in html


def test_a_closed_case_shows_no_expected_line(client, org):
    closed_series(org, 30)
    episode = factories.episode(org["units"]["A"], org["anna"], start_date=date(2025, 1, 6), end_date=date(2025, 3, 3))
    child = factories.participant(episode, "index", birth_year=2008)
    factories.series(episode, child, "ORS", ["21.0", "20.0"])
    html = page(client, org, episode.id)
    assert "Förväntad förändring" not in html and "chart__expected" not in html


def test_the_reference_is_the_most_recently_closed_series_in_session_order(app, org):
    closed_series(org, 2, ("22.0", "26.0"), first_end=date(2025, 5, 1))
    closed_series(org, 2, ("23.0", "24.0", "30.0"), first_end=date(2025, 8, 1))
    factories.commit()
    refresh_series()
    totals = reference_totals("ORS", D("20"), D("24.9"), limit=2)
    assert totals == [[D("23.0"), D("24.0"), D("30.0")]] * 2
    assert len(reference_totals("ORS", D("20"), D("24.9"))) == 4
    assert reference_totals("ORS", D("25"), D("29.9")) == []


def test_one_query_loads_the_lines_of_every_band_on_the_page(app, org):
    closed_series(org, 30)
    closed_series(org, 30, ("31.0", "33.0"))
    episode = factories.episode(org["units"]["A"], org["anna"], start_date=date(2025, 9, 1))
    child = factories.participant(episode, "index", birth_year=2008)
    factories.series(episode, child, "ORS", ["21.0", "27.0"])
    factories.commit()
    refresh_series()
    db.session.expire_all()
    with counted_queries() as one_band:
        episode_view(episode)
    mother = factories.participant(episode, "parent", birth_year=1980)
    factories.series(episode, mother, "ORS", ["31.0", "30.0"])
    factories.commit()
    db.session.expire_all()
    with counted_queries() as two_bands:
        view = episode_view(episode)
    assert len(two_bands) == len(one_band)
    lines = {p.role: p.outcome_series[0].expected for p in view.participants}
    assert (lines["index"].band_low, lines["parent"].band_low) == (D("20"), D("30"))
    assert lines["index"].n_series == lines["parent"].n_series == 30
    assert [p.mean for p in lines["parent"].trajectory.points] == [D("31.0000"), D("33.0000")]


def test_the_caseload_shows_the_alerts_the_case_page_shows(client, org):
    from fitapp.cases.services import caseload_for

    closed_series(org, 30)
    episode_id = open_case(org, ["21.0", "25.0"])  # below the reference's lower quartile
    html = page(client, org, episode_id)
    caseload = caseload_for(org["anna"], date.today())
    [row] = [r for r in caseload.rows if r.episode_id == episode_id]
    assert row.alerts == episode_view(db.session.get(Episode, episode_id)).alerts
    assert [a.kind for a in row.alerts] == ["below_expected"]
    listed = client.get("/").get_data(as_text=True)
    assert "under förväntat: P-NOW (barn/ung, född 2008), ORS" in listed
    assert "under förväntat" in alerts_of(html)
