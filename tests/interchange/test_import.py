"""Importing ratings files: what is created, all or nothing, dry runs, re-imports, --create-missing."""
from datetime import date

import pytest
from sqlalchemy import select

from fitapp.extensions import db
from fitapp.models._types import utcnow
from fitapp.interchange.importer import ImportFailed, import_ratings_file
from fitapp.interchange.rows import COLUMNS, REQUIRED
from fitapp.models import (
    Attendance, AuditEvent, District, Intervention, Participant, Person, Rating, SeriesSummaryRecord, Session, Staff,
    Unit, UnitMembership,
)
from tests.interchange.files import row, table_counts

NO_RATING = {"instrument": "", "item1": "", "item2": "", "item3": "", "item4": "", "total": ""}


def family_rows() -> list[dict]:
    """Child P1 (CORS), parent P2 (ORS and a collateral CORS about P1), a session without ratings."""
    parent = {"person_ref": "P2", "role": "parent", "birth_year": "1985", "gender": "male"}
    return [
        row(),
        row(parent, instrument="ORS", item1="4.5", item2="5.0", item3="5.5", item4="6.0", total="21.0"),
        row(parent, person_ref="P1", rater_ref="P2", role="index", birth_year="2014", gender="female",
            item1="3.0", item2="3.0", item3="3.0", item4="3.0", total="12.0"),
        row(NO_RATING, session_no="2", session_date="2024-02-07"),
        row(parent, NO_RATING, session_no="2", session_date="2024-02-07"),
        row(session_no="3", session_date="2024-03-06", item1="7.5", item2="8.0", item3="8.0", item4="8.0",
            total="31.5"),
    ]


def imported(path, *, create_missing: bool = False, dry_run: bool = False):
    return import_ratings_file(path, create_missing=create_missing, dry_run=dry_run)


def test_a_family_episode_is_imported_with_its_counts(organisation, ratings_file):
    result = imported(ratings_file(family_rows()))
    assert (result.episodes, result.participants, result.persons, result.sessions, result.attendance,
            result.ratings) == (1, 2, 2, 3, 5, 4)
    assert (result.units, result.staff, result.interventions, result.districts) == (0, 0, 0, 0)
    assert not result.nothing_new
    counts = table_counts()
    assert (counts["episode"], counts["participant"], counts["session"], counts["attendance"], counts["rating"]) \
        == (1, 2, 3, 5, 4)
    summary = result.summary()
    for line in ("episodes created: 1", "participants created: 2", "sessions created: 3", "ratings created: 4"):
        assert line in summary.splitlines()


def test_collateral_and_self_ratings_point_at_the_right_participants(organisation, ratings_file):
    imported(ratings_file(family_rows()))
    by_ref = {ref: pid for pid, ref in db.session.execute(
        select(Participant.id, Person.ref).join(Person, Participant.person_id == Person.id))}
    ratings = db.session.execute(select(Rating.instrument, Rating.subject_id, Rating.rater_id, Rating.total_x10,
                                        Session.number).join(Session)).all()
    assert sorted(ratings) == sorted([
        ("CORS", by_ref["P1"], by_ref["P1"], 250, 1),
        ("ORS", by_ref["P2"], by_ref["P2"], 210, 1),
        ("CORS", by_ref["P1"], by_ref["P2"], 120, 1),
        ("CORS", by_ref["P1"], by_ref["P1"], 315, 3),
    ])


def test_the_derived_series_summaries_are_refreshed(organisation, ratings_file):
    imported(ratings_file(family_rows()))
    stored = db.session.execute(select(SeriesSummaryRecord.instrument, SeriesSummaryRecord.n,
                                       SeriesSummaryRecord.category, SeriesSummaryRecord.is_self)).all()
    # P1 CORS 25.0 -> 31.5: d 6.5 ≥ RC 6.0, L < 32: improved; the rest are single ratings.
    assert sorted(stored) == [("CORS", 1, "single_rating", False), ("CORS", 2, "improved", True),
                              ("ORS", 1, "single_rating", True)]


def test_each_person_in_a_sessions_rows_attended_it(organisation, ratings_file):
    imported(ratings_file(family_rows()))
    attended = db.session.execute(
        select(Session.number, Person.ref).select_from(Attendance).join(Session).join(Participant)
        .join(Person, Participant.person_id == Person.id)).all()
    assert sorted(attended) == [(1, "P1"), (1, "P2"), (2, "P1"), (2, "P2"), (3, "P1")]


def test_a_session_without_a_rating_records_session_and_attendance_only(organisation, ratings_file):
    result = imported(ratings_file([row(**NO_RATING)]))
    assert (result.sessions, result.attendance, result.ratings) == (1, 1, 0)
    assert db.session.scalar(select(Session.date)) == date(2024, 1, 10)


def test_a_file_with_one_bad_row_writes_nothing(organisation, ratings_file):
    rows = family_rows() + [row(episode_ref=f"E{n}", person_ref=f"Q{n}") for n in range(2, 40)]
    rows[25]["item2"] = "10.1"
    before = table_counts()
    with pytest.raises(ImportFailed) as failure:
        imported(ratings_file(rows))
    assert [str(e) for e in failure.value.errors] == ["line 27, column item2: 10.1 is outside 0–10"]
    assert table_counts() == before


def test_a_dry_run_writes_nothing_and_says_so(organisation, ratings_file):
    before = table_counts()
    result = imported(ratings_file(family_rows()), dry_run=True)
    assert table_counts() == before
    assert result.ratings == 4 and result.dry_run
    assert "ratings would be created: 4" in result.summary()
    assert result.summary().endswith("Dry run: nothing written.")


def test_a_dry_run_with_create_missing_writes_nothing(app, ratings_file):
    before = table_counts()
    result = imported(ratings_file(family_rows()), create_missing=True, dry_run=True)
    assert table_counts() == before
    assert (result.units, result.staff, result.districts) == (1, 1, 1)


def test_a_dry_run_still_reports_every_error(organisation, ratings_file):
    with pytest.raises(ImportFailed):
        imported(ratings_file([row(item1="x")]), dry_run=True)


def test_importing_the_same_file_twice_changes_nothing_and_says_so(organisation, ratings_file):
    path = ratings_file(family_rows())
    imported(path)
    after_first = table_counts()
    again = imported(path)
    assert again.nothing_new
    assert table_counts() == after_first  # not even an audit event: nothing changed
    assert "already imported" in again.summary() and "Nothing changed" in again.summary()


def test_a_later_file_adds_only_its_new_rows(organisation, ratings_file):
    rows = family_rows()
    imported(ratings_file(rows[:3]))
    result = imported(ratings_file(rows))
    assert (result.episodes, result.participants, result.sessions, result.attendance, result.ratings) \
        == (0, 0, 2, 3, 1)
    assert table_counts()["rating"] == 4


def _soft_delete_session(number: int) -> None:
    session = db.session.scalar(select(Session).where(Session.number == number))
    session.deleted_at, session.delete_reason = utcnow(), "wrong_session"
    db.session.commit()


def test_a_file_may_repeat_a_deleted_session_but_not_add_to_it(organisation, ratings_file):
    rows = family_rows()
    path = ratings_file(rows)
    imported(path)
    _soft_delete_session(3)
    assert imported(path).nothing_new  # the same file again: the deletion stays, nothing is refused
    before = table_counts()

    parent = {"person_ref": "P2", "role": "parent", "birth_year": "1985", "gender": "male"}
    adds_a_rating = rows + [row(parent, session_no="3", session_date="2024-03-06", instrument="ORS", item1="5.0",
                                item2="5.0", item3="5.0", item4="5.0", total="20.0")]
    with pytest.raises(ImportFailed) as failure:
        imported(ratings_file(adds_a_rating))
    messages = [str(error) for error in failure.value.errors]
    assert messages == [f"line {len(adds_a_rating) + 1}, column person_ref: session 3 of episode E1 was deleted in "
                        "fitapp; nothing new can be added to it",
                        f"line {len(adds_a_rating) + 1}, column instrument: session 3 of episode E1 was deleted in "
                        "fitapp; nothing new can be added to it"]
    assert table_counts() == before


def test_a_byte_order_mark_and_a_comma_separated_header_are_accepted(organisation, ratings_file):
    imported(ratings_file([row()], delimiter=",", bom=True))
    assert db.session.scalar(select(Rating.total_x10)) == 250


def test_a_decimal_comma_in_a_semicolon_file(organisation, ratings_file):
    imported(ratings_file([row(item1="5,5", item2="6", item3="7,0", item4="7.0", total="25,5")]))
    assert db.session.execute(select(Rating.item1_x10, Rating.item2_x10, Rating.total_x10)).one() == (55, 60, 255)


def test_optional_columns_may_be_left_out_and_unknown_columns_are_ignored(organisation, ratings_file):
    columns = [*REQUIRED, "instrument", "item1", "item2", "item3", "item4", "comment"]
    result = imported(ratings_file([row(comment="ignored")], columns=columns))
    assert result.ratings == 1
    person = db.session.scalars(select(Person)).one()
    assert (person.birth_year, person.gender) == (None, None)


def test_an_empty_birth_year_agrees_with_a_stored_one(organisation, ratings_file):
    imported(ratings_file([row()]))
    result = imported(ratings_file([row(session_no="2", session_date="2024-02-01", birth_year="", gender="")]))
    assert result.ratings == 1
    assert db.session.scalars(select(Person)).one().birth_year == 2014


def test_create_missing_makes_units_staff_interventions_and_districts(app, ratings_file):
    rows = [
        row(district="", unit="NY1", therapist="cecilia", intervention="NYTT", episode_start="2024-03-01",
            session_date="2024-03-01"),
        row(district="", unit="NY1", episode_ref="E2", therapist="cecilia", intervention="NYTT",
            episode_start="2024-02-01", session_date="2024-02-01"),
        row(district="D7", unit="NY2", therapist="dag", intervention="FFT"),
    ]
    result = imported(ratings_file(rows), create_missing=True)
    assert (result.districts, result.units, result.staff, result.interventions) == (2, 2, 2, 1)
    units = {u.code: u.district.code for u in db.session.scalars(select(Unit))}
    assert units == {"NY1": "DEFAULT", "NY2": "D7"}
    staff = db.session.scalars(select(Staff).order_by(Staff.username)).all()
    assert [(s.username, s.role, s.password_hash, s.is_active) for s in staff] == [
        ("cecilia", "therapist", None, False), ("dag", "therapist", None, False)]
    memberships = {(m.staff.username, m.unit.code, m.valid_from) for m in db.session.scalars(select(UnitMembership))}
    assert memberships == {("cecilia", "NY1", date(2024, 2, 1)), ("dag", "NY2", date(2024, 1, 10))}
    assert db.session.scalars(select(Intervention).where(Intervention.code == "NYTT")).one().name == "NYTT"
    assert db.session.scalars(select(District).where(District.code == "DEFAULT")).one()


def test_create_missing_reuses_what_exists(organisation, ratings_file):
    result = imported(ratings_file([row(), row(unit="U2", therapist="bo", episode_ref="E2")]), create_missing=True)
    assert (result.districts, result.units, result.staff, result.interventions) == (0, 0, 0, 0)


def test_an_import_is_audited_once_without_clinical_content(organisation, ratings_file):
    imported(ratings_file(family_rows()))
    event = db.session.scalars(select(AuditEvent)).one()
    assert (event.action, event.object_type) == ("import_ratings", "ratings_file")
    fields = " ".join(str(value) for value in (event.actor_name, event.object_id, event.unit_id, event.remote_addr))
    for ref in ("P1", "P2", "E1"):
        assert ref not in fields


def test_a_header_only_file_imports_nothing(organisation, ratings_file):
    result = imported(ratings_file([]))
    assert result.rows == 0 and result.nothing_new
    assert "no data rows" in result.summary()


def test_blank_lines_are_skipped(organisation, ratings_file):
    text = ";".join(COLUMNS) + "\n\n" + ";".join(row()[c] for c in COLUMNS) + "\n;;;\n"
    assert imported(ratings_file([], text=text)).ratings == 1


def test_sessions_without_ratings_update_the_episode_tallies(organisation, ratings_file):
    # The reports count sessions from the derived episode_summary table (mean_sessions, metrics.md §6):
    # a later file that only adds attended sessions must update it, as must a new episode without ratings.
    from tests.episode_summaries import every_episode_counted_in_python, stored_episode_rows

    imported(ratings_file(family_rows()))
    imported(ratings_file([
        *family_rows(),
        row(NO_RATING, session_no="4", session_date="2024-04-03"),
        row(NO_RATING, episode_ref="E2", person_ref="P9", session_no="1", session_date="2024-02-01"),
    ]))
    counted = every_episode_counted_in_python()
    assert sorted(sessions for sessions, *_ in counted.values()) == [1, 4]
    assert stored_episode_rows() == counted
