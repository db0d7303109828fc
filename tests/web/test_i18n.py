"""Swedish by default, English on request, and a Swedish catalogue that is complete and compiled."""
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask_babel import force_locale

from fitapp import labels
from fitapp.models.staff import ROLE_LABELS_SV
from fitapp.scoring import CATEGORY_LABELS_SV

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "fitapp" / "translations" / "sv" / "LC_MESSAGES"
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}
# Same sources as babel.cfg.
METHOD_MAP = [("fitapp/**.py", "python"), ("templates/**.html", "jinja2")]


def read_catalogue():
    with (CATALOGUE / "messages.po").open("rb") as f:
        return read_po(f, locale="sv")


def extracted_msgids() -> set[str]:
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), METHOD_MAP, keywords=KEYWORDS, options_map={"templates/**.html": {}},
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_the_ui_is_swedish_by_default(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="sv">' in html and "Logga in" in html and "Användarnamn" in html


def test_english_after_choosing_it_and_back(client):
    response = client.post("/language", data={"lang": "en", "next": "/login"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in html and "<h1>Log in</h1>" in html and "Username" in html
    client.post("/language", data={"lang": "sv"})
    assert "<h1>Logga in</h1>" in client.get("/login").get_data(as_text=True)


@pytest.mark.parametrize("lang", ["de", "", "../en"])
def test_an_unknown_language_changes_nothing(client, lang):
    client.post("/language", data={"lang": lang})
    assert "<h1>Logga in</h1>" in client.get("/login").get_data(as_text=True)


def test_the_language_switch_only_returns_to_this_site(client):
    response = client.post("/language", data={"lang": "en", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


def test_every_message_has_a_swedish_translation():
    catalogue = read_catalogue()
    translated = {m.id for m in catalogue if m.id and m.string and not m.fuzzy}
    missing = extracted_msgids() - translated
    assert extracted_msgids(), "extraction found nothing: check METHOD_MAP"
    assert missing == set(), f"msgids without Swedish translation (run pybabel extract/update): {sorted(missing)}"


def test_the_compiled_catalogue_matches_the_po_file():
    expected = BytesIO()
    write_mo(expected, read_catalogue())
    expected.seek(0)
    with (CATALOGUE / "messages.mo").open("rb") as f:
        committed = read_mo(f)
    compiled = read_mo(expected)
    as_dict = lambda catalog: {m.id: m.string for m in catalog if m.id}  # noqa: E731
    assert as_dict(committed) == as_dict(compiled), "messages.mo is stale: run pybabel compile -d fitapp/translations"


def test_swedish_ui_words_follow_the_domain():
    strings = " ".join(m.string.lower() for m in read_catalogue() if m.id)
    for avoided in ("brukare", "klient"):
        assert avoided not in strings
    for word in ("ärende", "behandlare", "enhetschef", "samtal", "skattning", "barn", "förälder"):
        assert word in strings


def test_labels_translate_to_the_swedish_source_of_truth(app):
    with app.test_request_context(), force_locale("sv"):
        assert {k: str(v) for k, v in labels.CATEGORY_LABELS.items()} == CATEGORY_LABELS_SV
        assert {k: str(v) for k, v in labels.ROLE_LABELS.items()} == ROLE_LABELS_SV
