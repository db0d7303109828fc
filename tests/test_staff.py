from sqlalchemy import select

from fitapp.auth.passwords import verify_password
from fitapp.extensions import db
from fitapp.models import District, Staff, Unit


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
