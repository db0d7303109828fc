"""The administration pages end to end in headless Chromium, with axe and screenshots for a reviewer.

One served app and one Chromium for the module; the administrator logs in once
(password and second factor) and keeps the browser context, a therapist uses
another. Each test is one area: it opens that area's pages with realistic data
(three districts, units with teams, staff with memberships and open cases,
closed cases old enough for retention), runs axe on each (no serious or
critical violations) and does one real change through the forms, asserting
what the administrator sees in Swedish. Screenshots: test-artifacts/screenshots/admin-*.png.
"""
from datetime import date, timedelta

import pytest

from tests import factories
from tests.browser import a11y
from tests.browser.support import chromium_browser, log_in, log_in_with_code, new_page, screenshot, serve

pytestmark = pytest.mark.browser

YEAR = date.today().year
# Sample statistics whose Jacobson–Truax values are known (tests/admin/test_norm_sets.py): cutoff 25,00, RC 4,99.
SAMPLE = {"m1": "20", "sd1": "6,8", "m0": "30", "sd0": "6,8", "r": "0,93"}


def build_organisation() -> dict:
    from fitapp.extensions import db
    from fitapp.models import Team
    from tests.test_retention import case

    norr = factories.district("NORR", "Förvaltning Norr")
    soder = factories.district("SODER", "Förvaltning Söder")
    factories.district("VAST", "Förvaltning Väster")  # no units yet: the flow gives it one
    fam_norr = factories.unit(norr, "FAMN", "Familjeenheten Norr")
    ung_norr = factories.unit(norr, "UNGN", "Ungdomsmottagningen Norr")
    fam_soder = factories.unit(soder, "FAMS", "Familjeenheten Söder")
    teams = {name: Team(unit=unit, name=name) for unit, name in (
        (fam_norr, "Team Barn"), (fam_norr, "Team Ungdom"), (fam_soder, "Team Familj"))}
    db.session.add_all(teams.values())
    db.session.flush()

    anna = factories.staff("anna", "therapist", [fam_norr])
    anna.memberships[0].team_id = teams["Team Ungdom"].id
    arvid = factories.staff("arvid", "therapist", [fam_norr])
    arvid.memberships[0].team_id = teams["Team Barn"].id
    bert = factories.staff("bert", "therapist", [fam_soder])
    # Lisa moved from the youth clinic to the family unit last year: an ended membership kept as history.
    lisa = factories.staff("lisa", "therapist", [ung_norr], valid_to=date(YEAR - 1, 8, 31))
    lisa.memberships.append(factories.membership(fam_norr, date(YEAR - 1, 9, 1)))
    factories.staff("chef_norr", "unit_head", [fam_norr, ung_norr])
    factories.staff("chef_soder", "unit_head", [fam_soder])
    factories.staff("kvalitet", "quality", [])
    factories.staff("admin", "admin", [])
    factories.staff("slutat", "therapist", [], enabled=False)

    for n, start in enumerate((date(YEAR, 2, 3), date(YEAR, 5, 12), date(YEAR, 9, 1)), start=1):
        episode = factories.episode(fam_norr, anna, ref=f"FAMN-{YEAR}-{n:03d}", start_date=start)
        factories.participant(episode, "index", birth_year=YEAR - 12 - n)
        factories.participant(episode, "parent", birth_year=1982)
    factories.episode(fam_norr, arvid, ref=f"FAMN-{YEAR}-010", start_date=date(YEAR, 3, 2))
    bert_case = factories.episode(fam_soder, bert, ref=f"FAMS-{YEAR}-004", start_date=date(YEAR, 4, 7))
    factories.participant(bert_case, "index", birth_year=YEAR - 15, ref="P-8101")
    factories.participant(bert_case, "parent", birth_year=1980, ref="P-8102")
    # Closed cases whose retention period ran out (2019): the retention preview has counts.
    for _ in range(2):
        case({"unit": fam_soder, "therapist": bert})
    case({"unit": fam_norr, "therapist": arvid})
    factories.commit()
    return {"bert_case": bert_case.id}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("admin") / "admin.sqlite", build_organisation) as served:
        yield served


@pytest.fixture(scope="module")
def browser():
    with chromium_browser() as browser:
        yield browser


@pytest.fixture(scope="module")
def admin(site, browser):
    """The administrator's page, logged in once for the module (a second-factor code is accepted once)."""
    from playwright.sync_api import expect

    base_url, _ = site
    page = new_page(browser)
    log_in_with_code(page, base_url, "admin")
    expect(page.get_by_role("heading", level=1)).to_have_text("Administration")
    yield page
    page.context.close()


def look(page, name: str) -> None:
    """axe (no serious or critical violations) and a full-page screenshot, for the page as it is now."""
    a11y.check(page, f"admin-{name}")
    screenshot(page, f"admin-{name}")


def flash(page):
    return page.locator(".flash")


def test_start_page_and_organisation_create_a_unit_and_a_team(site, admin):
    from playwright.sync_api import expect

    base_url, _ = site
    page = admin
    page.goto(base_url + "/admin/")
    expect(page.locator("main")).to_contain_text("Du har ingen åtkomst till ärenden eller skattningar")
    look(page, "index")

    page.get_by_role("link", name="Organisation", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Organisation")
    expect(page.get_by_role("table", name="Enheter i Förvaltning Norr")).to_contain_text("Team Barn, Team Ungdom")
    look(page, "organisation")

    new_unit = page.locator("form", has=page.get_by_role("button", name="Skapa enheten"))
    new_unit.get_by_label("Kod").fill("FAMV")
    new_unit.get_by_label("Namn").fill("Familjeenheten Väster")
    new_unit.get_by_label("Förvaltning").select_option(label="Förvaltning Väster")
    new_unit.get_by_role("button", name="Skapa enheten").click()
    expect(flash(page)).to_contain_text("Enheten har skapats.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Familjeenheten Väster")
    page.get_by_label("Det nya teamets namn").fill("Team Småbarn")
    page.get_by_role("button", name="Skapa teamet").click()
    expect(flash(page)).to_contain_text("Teamet har skapats.")
    expect(page.get_by_role("button", name="Ta bort teamet Team Småbarn")).to_be_visible()
    look(page, "unit")

    page.get_by_role("link", name="Organisation").first.click()
    expect(page.get_by_role("table", name="Enheter i Förvaltning Väster")).to_contain_text("Team Småbarn")
    page.get_by_role("link", name="Ändra Förvaltning Norr").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Förvaltning Norr")
    expect(page.locator("main")).to_contain_text("Ungdomsmottagningen Norr")
    look(page, "district")


def test_staff_create_an_account_and_move_a_therapist_with_open_cases(site, admin):
    from playwright.sync_api import expect

    from tests.factories import PASSWORD

    base_url, _ = site
    page = admin
    page.goto(base_url + "/admin/staff")
    expect(page.get_by_role("heading", level=1)).to_have_text("Personal")
    rows = page.locator("main table tbody tr")
    expect(rows.filter(has_text="anna")).to_contain_text("Familjeenheten Norr")
    expect(rows.filter(has_text="slutat")).to_contain_text("avstängt")
    look(page, "staff-list")

    page.get_by_label("Användarnamn").fill("nora")
    page.get_by_label("Roll").select_option(label="behandlare")
    page.get_by_label("Första lösenord", exact=True).fill(PASSWORD)
    page.get_by_label("Första lösenord igen").fill(PASSWORD)
    page.get_by_role("button", name="Skapa kontot").click()
    expect(flash(page)).to_contain_text("Kontot har skapats.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("nora")
    page.get_by_label("Enhet", exact=True).select_option(label="Familjeenheten Söder (FAMS, Förvaltning Söder)")
    page.get_by_label("Team (frivilligt)").select_option(label="Familjeenheten Söder: Team Familj")
    page.get_by_role("button", name="Lägg till medlemskapet").click()
    # An administrator's new membership waits for the unit head's confirmation (separation of duties).
    expect(flash(page)).to_contain_text(
        "Medlemskapet lades till. Det gäller när en enhetschef för enheten har bekräftat det.")
    expect(page.get_by_role("table", name="Medlemskap")).to_contain_text("Team Familj")
    look(page, "staff-new-account")

    # Anna moves to the unit in Söder; her three open cases stay in Norr and go to Arvid.
    page.goto(base_url + "/admin/staff")
    page.get_by_role("link", name="anna", exact=True).click()
    expect(page.locator("main")).to_contain_text("Öppna ärenden: 3")
    look(page, "staff-account")
    page.get_by_role("link", name="Flytta till en annan enhet").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Flytta anna från Familjeenheten Norr")
    expect(page.locator("main")).to_contain_text("3 öppna ärenden")
    page.get_by_label("Ny enhet").select_option(label="Familjeenheten Söder (FAMS, Förvaltning Söder)")
    receiver = page.get_by_label("Behandlare som tar över de öppna ärendena")
    expect(receiver.locator("option")).to_have_text(["Välj …", "arvid", "lisa"])  # the unit's other therapists today
    receiver.select_option(label="arvid")
    look(page, "move")
    page.get_by_role("button", name="Flytta", exact=True).click()
    expect(flash(page)).to_contain_text("Flytten har sparats och de öppna ärendena har lämnats över.")
    memberships = page.get_by_role("table", name="Medlemskap").locator("tbody tr")
    expect(memberships).to_have_count(2)
    expect(memberships.nth(0)).to_contain_text((date.today() - timedelta(days=1)).isoformat())
    expect(memberships.nth(1)).to_contain_text("Familjeenheten Söder")
    expect(page.locator("main")).to_contain_text("Öppna ärenden: 0")
    screenshot(page, "admin-staff-moved")


def test_catalogue_add_an_intervention(site, admin):
    from playwright.sync_api import expect

    base_url, _ = site
    page = admin
    page.goto(base_url + "/admin/catalogue")
    expect(page.get_by_role("heading", level=1)).to_have_text("Insatser")
    look(page, "catalogue")
    page.get_by_label("Kod").fill("COS")
    page.get_by_label("Namn").fill("Trygghetscirkeln (COS)")
    page.get_by_label("Typ").select_option(label="biståndsbedömd")
    page.get_by_role("button", name="Lägg till insatsen").click()
    expect(flash(page)).to_contain_text("Insatsen lades till i katalogen.")
    page.get_by_role("link", name="COS", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Trygghetscirkeln (COS)")
    expect(page.locator("main")).to_contain_text("Ärenden med den här insatsen: 0.")
    look(page, "catalogue-item")


def test_norm_sets_compute_by_jacobson_truax(site, admin):
    from playwright.sync_api import expect

    base_url, _ = site
    page = admin
    page.goto(base_url + "/admin/norm-sets")
    expect(page.get_by_role("heading", level=1)).to_have_text("Normvärden")
    look(page, "norm-sets")
    page.goto(base_url + "/admin/norm-sets/new")
    look(page, "norm-set-new")

    page.goto(base_url + "/admin/norm-sets")
    page.get_by_role("link", name="Ny uppsättning beräknad från urvalsstatistik").click()
    page.get_by_label("Nyckel").fill("lokal-2026")
    page.get_by_label("Namn").fill("Lokal norm 2026")
    page.get_by_label("Källa").fill("Stadens egen mätning 2025, kliniskt och icke-kliniskt urval.")
    row = page.get_by_role("group", name="Rad 1")
    row.get_by_label("Skattningsskala").select_option("ORS")
    row.get_by_label("Från ålder").fill("18")
    row.get_by_label("Även när åldern är okänd").check()
    for name, label in (("m1", "Medelvärde, kliniskt urval (M1)"), ("sd1", "Standardavvikelse, kliniskt urval (SD1)"),
                        ("m0", "Medelvärde, icke-kliniskt urval (M0)"),
                        ("sd0", "Standardavvikelse, icke-kliniskt urval (SD0)"),
                        ("r", "Test–retest-reliabilitet (r)")):
        row.get_by_label(label).fill(SAMPLE[name])
    page.get_by_role("button", name="Beräkna gränsvärde och RC").click()
    # The page opens at the computed values, below the six rows of the form.
    expect(page.get_by_role("heading", name="Beräknade värden")).to_be_in_viewport()
    computed = page.get_by_role("table", name="Beräknat gränsvärde och reliabel förändring")
    expect(computed.locator("tbody tr")).to_have_count(1)
    expect(computed.locator("tbody tr")).to_contain_text("25,00")
    expect(computed.locator("tbody tr")).to_contain_text("4,99")
    look(page, "norm-set-computed")
    page.get_by_role("button", name="Spara normvärdesuppsättningen med de här värdena").click()
    expect(flash(page)).to_contain_text("Normvärdesuppsättningen Lokal norm 2026 sparades.")
    saved = page.get_by_role("table", name="Gränsvärde och reliabel förändring i Lokal norm 2026")
    expect(saved).to_contain_text("25,00")
    expect(page.get_by_role("button", name="Aktivera Lokal norm 2026")).to_be_visible()


def test_licensed_labels_reach_the_session_form_and_the_tablet(site, admin, browser):
    from playwright.sync_api import expect

    from tests.factories import PASSWORD

    base_url, built = site
    page = admin
    page.goto(base_url + "/admin/instrument-labels")
    expect(page.get_by_role("heading", level=1)).to_have_text("Texter för skalorna")
    look(page, "labels")
    ors = ["Hur jag mår (licensierad text)", "Nära relationer", "Socialt", "Överlag"]
    cors = ["Jag själv", "Familjen", "Skolan", "Allt"]
    for n, text in enumerate(ors, start=1):
        page.get_by_label(f"ORS, del {n}", exact=True).fill(text)
    for n, text in enumerate(cors, start=1):
        page.get_by_label(f"CORS, del {n}", exact=True).fill(text)
    page.get_by_role("button", name="Spara texterna").click()
    expect(flash(page)).to_contain_text("Texterna sparades.")
    expect(page.get_by_label("ORS, del 1", exact=True)).to_have_value(ors[0])

    # The therapist's session form: the 15-year-old's outcome scale is ORS with the licensed texts;
    # choosing CORS switches them in the browser (item-labels.js), an unlabelled form gives "Del N".
    therapist = new_page(browser, axe=False)
    try:
        log_in(therapist, base_url, "bert")
        expect(therapist.get_by_role("heading", level=1)).to_have_text("Mina ärenden")
        therapist.goto(f"{base_url}/cases/{built['bert_case']}/sessions/new")
        person = therapist.locator("fieldset.person").first
        outcome = person.locator("fieldset.scale").first
        labels = outcome.locator("label.item__label")
        expect(outcome.get_by_role("combobox")).to_have_value("ORS")
        expect(labels).to_have_text(ors)
        outcome.get_by_role("combobox").select_option("CORS")
        expect(labels).to_have_text(cors)
        expect(outcome.get_by_label("Familjen")).to_be_visible()  # the label still names its input
        outcome.get_by_role("combobox").select_option("YCORS")
        expect(labels).to_have_text(["Del 1", "Del 2", "Del 3", "Del 4"])
        outcome.get_by_role("combobox").select_option("ORS")
        expect(labels).to_have_text(ors)
        screenshot(therapist, "admin-labels-session-form")

        therapist.get_by_label("Vem fyller i vilken skala").select_option(
            label="P-8101 (barn/ung): utfall, före samtalet")
        therapist.get_by_role("button", name="Lämna över enheten").click()
        expect(therapist).to_have_url(base_url + "/tablet")
        expect(therapist.locator("label.vas-item__label")).to_have_text(ors)
        screenshot(therapist, "admin-labels-tablet")
        therapist.get_by_role("button", name="Ge tillbaka enheten utan att svara").click()
        therapist.get_by_label("Ditt lösenord, för att ta tillbaka enheten").fill(PASSWORD)
        therapist.get_by_role("button", name="Lås upp").click()
        expect(therapist.get_by_role("heading", level=1)).to_contain_text("Registrera samtal")
    finally:
        therapist.context.close()


def test_retention_change_the_period(site, admin):
    from playwright.sync_api import expect

    base_url, _ = site
    page = admin
    page.goto(base_url + "/admin/retention")
    expect(page.get_by_role("heading", level=1)).to_have_text("Gallring")
    expect(page.locator("main")).to_contain_text("Gäller: 5 år.")
    preview = page.get_by_role("table", name="Vad en gallring skulle radera nu, per enhet")
    expect(preview.locator("tbody tr")).to_have_count(2)
    look(page, "retention")
    page.get_by_label("Gallringstid i år").fill("7")
    page.get_by_role("button", name="Ändra gallringstiden").click()
    expect(flash(page)).to_contain_text("Gallringstiden är nu 7 år.")
    expect(page.locator("main")).to_contain_text("Gäller: 7 år.")
    expect(page.get_by_role("table", name="Ändringar av gallringstiden")).to_contain_text("admin")
    screenshot(page, "admin-retention-changed")


def test_a_unit_head_is_refused_the_administration(site, browser):
    base_url, _ = site
    page = new_page(browser, axe=False)
    try:
        log_in(page, base_url, "chef_norr")
        for path in ("/admin/", "/admin/staff", "/admin/retention"):
            assert page.goto(base_url + path).status == 403, path
    finally:
        page.context.close()
