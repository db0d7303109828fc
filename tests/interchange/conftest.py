"""Fixtures for the interchange tests: ratings files written by the tests themselves."""
from datetime import date

import pytest

from fitapp.extensions import db
from fitapp.interchange.rows import COLUMNS
from fitapp.models import District, Staff, Unit
from tests import factories
from tests.interchange.files import csv_text


@pytest.fixture
def ratings_file(tmp_path):
    """Write rows (dicts) to a ratings file and return its path."""
    counter = iter(range(1, 10_000))

    def write(rows: list[dict], *, columns=COLUMNS, delimiter: str = ";", bom: bool = False,
              text: str | None = None):
        path = tmp_path / f"ratings-{next(counter)}.csv"
        body = text if text is not None else csv_text(rows, columns=columns, delimiter=delimiter)
        path.write_bytes((("\ufeff" if bom else "") + body).encode("utf-8"))
        return path

    return write


@pytest.fixture
def organisation(app):
    """District D1 with unit U1 (therapist anna) and unit U2 (therapist bo); FFT and MST come from the catalogue."""
    district = District(code="D1", name="Distrikt 1")
    other = District(code="D2", name="Distrikt 2")
    u1, u2 = Unit(code="U1", name="Enhet 1", district=district), Unit(code="U2", name="Enhet 2", district=district)
    db.session.add_all([district, other, u1, u2])
    for username, unit in (("anna", u1), ("bo", u2)):
        staff = Staff(username=username, role="therapist", password_hash=None)
        staff.memberships.append(factories.membership(unit, date(2020, 1, 1)))
        db.session.add(staff)
    db.session.commit()
    return {"U1": u1.id, "U2": u2.id}
