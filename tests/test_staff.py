import pytest
from sqlalchemy import select

from fitapp import names
from fitapp.auth.passwords import verify_password
from fitapp.extensions import db
from fitapp.models import AuditEvent, District, Staff, Unit
from fitapp.staff_service import StaffError
from tests.security.conftest import table_contents
from tests.web.conftest import org, sign_in  # noqa: F401  (fixture and helper)


def _unit():
    district = District(code="D1", name="Distrikt 1")
    unit = Unit(code="U1", name="Enhet 1", district=district)
    db.session.add_all([district, unit])
    db.session.commit()
    return unit


def test_create_staff_command_hashes_the_password_and_adds_membership(app):
    _unit()
    result = app.test_cli_runner().invoke(
        args=["create-staff", "anna.b", "--role", "therapist", "--unit", "U1",
              "--password", "correct horse battery"])
    assert result.exit_code == 0, result.output
    staff = db.session.scalar(select(Staff).where(Staff.username == "anna.b"))
    assert staff.password_hash != "correct horse battery"
    assert staff.password_hash.startswith("$argon2")
    assert verify_password(staff.password_hash, "correct horse battery")
    assert [m.unit.code for m in staff.memberships] == ["U1"]


def test_create_staff_refuses_short_passwords_unknown_units_and_taken_names(app):
    _unit()
    runner = app.test_cli_runner()
    short = runner.invoke(args=["create-staff", "b", "--role", "therapist", "--password", "short"])
    assert short.exit_code != 0 and "12" in short.output
    unknown = runner.invoke(args=["create-staff", "c", "--role", "therapist", "--unit", "NOPE",
                                  "--password", "long enough password"])
    assert unknown.exit_code != 0 and "NOPE" in unknown.output
    ok = runner.invoke(args=["create-staff", "d", "--role", "admin", "--password", "long enough password"])
    assert ok.exit_code == 0
    taken = runner.invoke(args=["create-staff", "d", "--role", "admin", "--password", "long enough password"])
    assert taken.exit_code != 0 and "taken" in taken.output
    assert db.session.scalar(select(db.func.count()).select_from(Staff)) == 1


# ---------------------------------------------------------------- one service for the page and the command line
# (issue 12, item 8): the same checks, the same audit events, actor "cli" on the command line.

HYPERLINK = '=HYPERLINK("http://x","y")'
PASSWORD = "lingonris och blåbärssylt"


def _cli(app, username: str, *units: str, role: str = "therapist", password: str = PASSWORD):
    args = ["create-staff", "--role", role, "--password", password]
    for unit in units:
        args += ["--unit", unit]
    return app.test_cli_runner().invoke(args=[*args, "--", username])  # "--": a name may start with "-"


def _events() -> list[tuple]:
    return [(e.action, e.object_type, e.unit_id, e.actor_id, e.actor_name, e.remote_addr)
            for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_create_staff_is_audited_with_the_actor_cli(app):
    unit = _unit()
    result = _cli(app, "anna.b", "U1")
    assert result.exit_code == 0, result.output
    assert "Created therapist account anna.b" in result.output
    staff = db.session.scalar(select(Staff).where(Staff.username == "anna.b"))
    assert _events() == [("admin_create_staff", "staff", None, None, "cli", "cli"),
                         ("admin_add_membership", "unit_membership", unit.id, None, "cli", "cli")]
    assert db.session.scalars(select(AuditEvent.object_id)).all() == [str(staff.id), str(staff.memberships[0].id)]


@pytest.mark.parametrize("username, says", [
    ("Admin", "The login name 'Admin' is taken (as 'admin'"),
    ("ADMIN", "is taken"),
    (HYPERLINK, "must not start with =, +, - or @"),
    ("@admin2", "must not start with =, +, - or @"),
    ("-x", "must not start with =, +, - or @"),
    ("Enhet 19121212-1212", "looks like a personal identity number"),
    ("anna 121212", "may contain only letters"),
    ("a" * 81, "longer than 80 characters"),
])
def test_create_staff_refuses_what_the_page_refuses_and_writes_nothing(app, username, says):
    _unit()
    assert _cli(app, "admin", role="admin").exit_code == 0
    before = table_contents(exclude=())
    result = _cli(app, username, "U1")
    assert result.exit_code == 1 and says in result.output, result.output
    assert "19121212" not in result.output  # an identity number is never repeated
    db.session.expire_all()
    assert table_contents(exclude=()) == before  # no account, no membership, no audit event


def test_create_staff_refuses_units_of_two_districts(app):
    _unit()
    other = District(code="D2", name="Distrikt 2")
    db.session.add_all([other, Unit(code="U2", name="Enhet 2", district=other)])
    db.session.commit()
    result = _cli(app, "bo", "U1", "U2", role="unit_head")
    assert result.exit_code == 1 and "different districts" in result.output
    assert db.session.scalar(select(db.func.count()).select_from(Staff)) == 0


@pytest.mark.parametrize("username", ["Anna", HYPERLINK, "Enhet 19121212-1212", "anna b", "+anna"])
def test_the_administration_page_refuses_the_same_names(app, client, org, username):
    # The page and the command line call one service: what one refuses, the other does.
    sign_in(client, org["admin"])
    before = table_contents(exclude=())
    page = client.post("/admin/staff", data={"new-username": username, "new-role": "therapist",
                                             "new-password": PASSWORD, "new-confirm": PASSWORD})
    line = _cli(app, username)
    assert page.status_code == 422 and "Ingenting sparades" in page.get_data(as_text=True)
    assert line.exit_code == 1
    db.session.expire_all()
    assert table_contents(exclude=()) == before


def test_an_account_from_the_page_is_audited_as_the_administrator(client, org):
    sign_in(client, org["admin"])
    response = client.post("/admin/staff", data={"new-username": "dora", "new-role": "therapist",
                                                 "new-password": PASSWORD, "new-confirm": PASSWORD})
    assert response.status_code == 302
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "admin_create_staff")).one()
    assert (event.actor_id, event.actor_name) == (org["admin"].id, "admin")


def test_the_service_says_what_is_wrong_in_english_and_by_code():
    error = StaffError("username", names.FORMULA_START)
    assert (error.field, error.problem) == ("username", "formula_start")
    assert str(error) == "The login name must not start with =, +, - or @ (a spreadsheet would read it as a formula)."
