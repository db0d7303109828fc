"""The case page: who may see it, what it shows, and that every read is audited."""
import re
from datetime import date

import pytest
from sqlalchemy import select

from fitapp.cases.services import episode_view
from fitapp.extensions import db
from fitapp.models import AuditEvent
from tests import factories
from tests.web.conftest import counted_queries, sign_in


@pytest.fixture
def family(org):
    """A family case in unit A, therapist anna, started 2025.

    Child born 2015 (10 at intake): CORS 25.0 -> 28.0 -> 31.5, d = 6.5 >= RC 6.0 but
    L < cutoff 32.0: improved. Sibling born 2010 (15): ORS 20.0 -> 28.0, d = 8.0 >= 5.0,
    F < 28.0 <= L: recovered. The mother rates the child too (a collateral series).
    """
    episode = factories.episode(org["units"]["A"], org["anna"], ref="FAM-1", start_date=date(2025, 1, 13))
    child = factories.participant(episode, "index", birth_year=2015, gender="female", ref="P-CHILD")
    sibling = factories.participant(episode, "index", birth_year=2010, gender="male", ref="P-SIB")
    mother = factories.participant(episode, "parent", birth_year=1985, gender="female", ref="P-MUM")
    factories.series(episode, child, "CORS", ["25.0", "28.0", "31.5"])
    factories.series(episode, child, "CSRS", ["35.0", "37.0", "38.0"])
    factories.series(episode, sibling, "ORS", ["20.0", "28.0"])
    factories.series(episode, child, "ORS", ["18.0", "20.0"], rater=mother)
    factories.commit()
    return {"episode": episode, "child": child, "sibling": sibling, "mother": mother}


def section_of(html: str, person_ref: str) -> str:
    start = html.index(f">{person_ref}\n")
    end = html.find('<section class="participant"', start)
    return html[start:end if end != -1 else len(html)]


def main_of(html: str) -> str:
    return html[html.index("<main"):html.index("</main>")]


def view_events():
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == "view_episode")).all()


# ---------------------------------------------------------------- access


@pytest.mark.parametrize("who, status", [
    ("anna", 200),      # the responsible therapist
    ("chef_a", 200),    # head of the episode's unit
    ("arvid", 404),     # therapist in the same unit, not responsible
    ("bert", 404),      # therapist of another unit in the same district
    ("cecilia", 404),   # therapist in another district
    ("kvalitet", 403),  # quality group: never person-level data
    ("admin", 403),
])
def test_who_may_open_the_case_page(client, org, family, who, status):
    sign_in(client, org[who])
    response = client.get(f"/cases/{family['episode'].id}")
    assert response.status_code == status
    if status == 200:
        assert "<h1>Ärende FAM-1</h1>" in response.get_data(as_text=True)
    else:
        assert "FAM-1" not in response.get_data(as_text=True)
        assert view_events() == []


def test_the_head_of_another_unit_gets_404(client, org, family):
    head_b = factories.staff("chef_b", "unit_head", [org["units"]["B"]])
    factories.commit()
    sign_in(client, head_b)
    assert client.get(f"/cases/{family['episode'].id}").status_code == 404


def test_a_missing_case_looks_like_a_refused_one(client, org, family):
    sign_in(client, org["anna"])
    missing = client.get("/cases/999999")
    sign_in(client, org["bert"])
    refused = client.get(f"/cases/{family['episode'].id}")
    assert missing.status_code == refused.status_code == 404
    assert main_of(missing.get_data(as_text=True)) == main_of(refused.get_data(as_text=True))


def test_anonymous_visitors_are_sent_to_login(client, family):
    response = client.get(f"/cases/{family['episode'].id}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


# ---------------------------------------------------------------- content


def test_each_series_shows_its_category_so_far(client, org, family):
    sign_in(client, org["anna"])
    html = client.get(f"/cases/{family['episode'].id}").get_data(as_text=True)
    child, sibling = section_of(html, "P-CHILD"), section_of(html, "P-SIB")
    assert "CORS, självskattning" in child
    assert re.search(r"Kategori hittills:\s*<strong>förbättrad</strong>", child)
    assert "ORS, självskattning" in sibling
    assert re.search(r"Kategori hittills:\s*<strong>återhämtad</strong>", sibling)
    # The mother's rating of the child is a series of its own (metrics.md §3).
    assert "ORS, skattad av P-MUM (förälder)" in child
    assert re.search(r"Kategori hittills:\s*<strong>oförändrad</strong>", child)
    assert "Inga utfallsskattningar ännu." in section_of(html, "P-MUM")


def test_the_chart_draws_the_totals_and_the_cutoff(client, org, family):
    sign_in(client, org["anna"])
    html = client.get(f"/cases/{family['episode'].id}").get_data(as_text=True)
    child = section_of(html, "P-CHILD")
    svg = child[child.index("<svg"):child.index("</svg>")]
    assert 'role="img"' in svg and "aria-labelledby=" in svg
    assert "<title id=" in svg and "<desc id=" in svg
    assert "Gränsvärde 32,0" in svg
    assert 'class="chart__cutoff"' in svg and "stroke-dasharray" in svg
    assert svg.count('class="chart__point"') == 3
    # 25.0, 28.0, 31.5 at sessions 1-3: y = 216 - total * 5 (see tests/test_charts.py).
    assert 'points="97.6,91 196.8,76 296,58.5"' in svg
    assert "Samtal 3, 2025-01-27: 31,5." in svg


def test_after_a_date_correction_the_chart_runs_in_time_order_and_is_labelled_by_date(client, org, family):
    # Session 2 (CORS 28.0) moved after session 3: the figures and the chart both read
    # 25.0 -> 31.5 -> 28.0 (metrics.md §3 orders a series by date, then number).
    sign_in(client, org["anna"])
    session_2 = next(s for s in family["episode"].sessions if s.number == 2)
    response = client.post(f"/cases/{family['episode'].id}/sessions/{session_2.id}/correct",
                           data={"date": "2025-02-24", "reason": "wrong_date"})
    assert response.status_code == 302
    child = section_of(client.get(f"/cases/{family['episode'].id}").get_data(as_text=True), "P-CHILD")
    svg = child[child.index("<svg"):child.index("</svg>")]
    assert 'points="97.6,91 196.8,58.5 296,76"' in svg
    assert svg.index("Samtal 3, 2025-01-27: 31,5.") < svg.index("Samtal 2, 2025-02-24: 28,0.")
    labels = re.findall(r'class="chart__tick-label" x="[\d.]+" y="[\d.]+" text-anchor="middle">([^<]*)<', svg)
    assert labels == ["13/1", "27/1", "24/2", "", ""]
    assert "Samtalsdatum" in svg


def test_the_ratings_table_lists_items_totals_and_raters(client, org, family):
    sign_in(client, org["anna"])
    html = client.get(f"/cases/{family['episode'].id}").get_data(as_text=True)
    child = section_of(html, "P-CHILD")
    table = child[child.index("Alla skattningar om P-CHILD"):]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)[1:]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows]
    assert len(cells) == 8  # CORS x3, CSRS x3, the mother's ORS x2
    assert cells[0][:9] == ["1", "2025-01-13", "CORS", "själv", "6,3", "6,3", "6,2", "6,2", "25,0"]
    assert cells[1][2:4] == ["ORS", "P-MUM (förälder)"]
    assert cells[2][2:4] == ["CSRS", "själv"]


def test_the_source_of_cutoff_and_rc_is_named(client, org, family):
    sign_in(client, org["anna"])
    html = client.get(f"/cases/{family['episode'].id}").get_data(as_text=True)
    assert "enligt normuppsättningen PCOMS 2003 (Miller et al. 2003" in html
    sibling = section_of(html, "P-SIB")
    assert re.search(r"<dt>Gränsvärde</dt><dd>28,0</dd>", sibling)
    assert re.search(r"<dt>Reliabel förändring</dt><dd>5,0</dd>", sibling)


def test_a_closed_case_shows_final_categories(client, org):
    episode = factories.episode(org["units"]["A"], org["anna"], ref="FAM-2", end_date=date(2025, 6, 1))
    child = factories.participant(episode, "index", birth_year=2015)
    factories.series(episode, child, "CORS", ["25.0", "31.5"])
    factories.commit()
    sign_in(client, org["anna"])
    html = client.get(f"/cases/{episode.id}").get_data(as_text=True)
    assert re.search(r"Kategori:\s*<strong>förbättrad</strong>", html)
    assert "hittills" not in html


def test_the_page_in_english(client, org, family):
    sign_in(client, org["anna"])
    client.post("/language", data={"lang": "en"})
    html = client.get(f"/cases/{family['episode'].id}").get_data(as_text=True)
    assert re.search(r"Category so far:\s*<strong>improved</strong>", html)
    assert "Cutoff 32.0" in html


def test_the_view_model(app, org, family):
    view = episode_view(family["episode"])
    child, sibling, mother = view.participants
    assert (child.person_ref, child.role, child.birth_year, child.gender_group) == ("P-CHILD", "index", 2015, "flicka")
    assert [(s.instrument, s.rater_ref, s.summary.category) for s in child.outcome_series] == [
        ("CORS", None, "improved"), ("ORS", "P-MUM", "unchanged"),
    ]
    assert sibling.gender_group == "pojke" and sibling.outcome_series[0].summary.category == "recovered"
    assert mother.gender_group == "kvinna" and mother.ratings == () and mother.outcome_series == ()
    assert view.session_count == 3 and view.is_open and view.norm_set.key == "pcoms-2003"


def test_the_view_model_takes_a_fixed_number_of_queries(app, org, family):
    db.session.expire_all()
    with counted_queries() as few_ratings:
        episode_view(family["episode"])
    factories.series(family["episode"], family["mother"], "ORS", ["20.0"] * 10)
    factories.series(family["episode"], family["sibling"], "ORS", ["20.0"] * 10, rater=family["mother"])
    factories.commit()
    db.session.expire_all()
    with counted_queries() as many_ratings:
        episode_view(family["episode"])
    # 11: one of them loads the expected lines of every band on the page (metrics.md §8).
    assert len(many_ratings) == len(few_ratings) <= 11


# ---------------------------------------------------------------- audit and caching


def test_every_read_is_audited_without_clinical_content(client, org, family):
    sign_in(client, org["anna"])
    client.get(f"/cases/{family['episode'].id}")
    client.get(f"/cases/{family['episode'].id}")
    events = view_events()
    assert len(events) == 2
    event = events[0]
    assert (event.actor_id, event.actor_name) == (org["anna"].id, "anna")
    assert (event.object_type, event.object_id) == ("episode", str(family["episode"].id))
    assert event.unit_id == org["units"]["A"].id
    assert event.hash == event.compute_hash()


def test_the_case_page_is_never_cached(client, org, family):
    sign_in(client, org["anna"])
    response = client.get(f"/cases/{family['episode'].id}")
    assert response.headers["Cache-Control"] == "no-store"
