"""Dates out of range on every report route are refused with a message, never a 500 (issue 12, item 9)."""
import pytest

from tests import factories as f
from tests.web.conftest import sign_in

# Every report route that reads the year, period and "figures as of" date.
PAGES = ("/reports/", "/reports/over-time", "/reports/follow-up")
DOWNLOADS = ("/reports/export.csv", "/reports/export.xlsx", "/reports/print")
OUT_OF_RANGE = ("as_of=0001-01-01", "as_of=9999-12-31", "as_of=1999-12-31", "as_of=2101-01-01",
                "year=9999", "year=0001")


@pytest.fixture
def heads(city):
    people = {"head": f.staff("head_a", "unit_head", [city.units["UA"]]), "quality": f.staff("quality", "quality", [])}
    f.commit()
    return people


@pytest.mark.parametrize("query", OUT_OF_RANGE)
def test_pages_explain_a_date_out_of_range(client, heads, query):
    sign_in(client, heads["head"])
    for url in PAGES:
        response = client.get(f"{url}?{query}")
        assert response.status_code == 422, (url, response.status_code)
        html = response.get_data(as_text=True)
        assert 'aria-invalid="true"' in html and "data-figure" not in html, url
    sign_in(client, heads["quality"])
    assert client.get(f"/reports/units?{query}").status_code == 422


@pytest.mark.parametrize("query", OUT_OF_RANGE)
def test_downloads_refuse_a_date_out_of_range(client, heads, query):
    sign_in(client, heads["head"])
    for url in DOWNLOADS:
        assert client.get(f"{url}?{query}").status_code == 400, url


def test_the_message_names_the_dates_that_can_be_given(client, heads):
    sign_in(client, heads["head"])
    html = client.get("/reports/?as_of=0001-01-01").get_data(as_text=True)
    assert "Uppgifter per: ange ett datum från 2000-01-01 till 2100-12-31." in html


def test_the_edges_of_the_range_are_accepted(client, heads):
    sign_in(client, heads["head"])
    for as_of in ("2000-01-01", "2100-12-31"):
        assert client.get(f"/reports/?year=2025&tertial=2&as_of={as_of}").status_code in (200, 409), as_of
