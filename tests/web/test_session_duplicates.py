"""A session form sent twice is stored once (issue 6): the hidden submission key, sequential
resends, two sends at the same moment, and forms without a usable key."""
import re
import threading
import uuid
from datetime import date

import pytest
from sqlalchemy import event, func, insert, select

from fitapp.cases import changes
from fitapp.extensions import db
from fitapp.models import AuditEvent, Rating, Session
from tests.web.conftest import sign_in
from tests.web.test_session_log import counts, family, full_form, page, post  # noqa: F401  (fixture)

ALREADY_SAVED = "Samtalet var redan sparat; det sparades inte en gång till."
KEY_FIELD = re.compile(r'<input type="hidden" name="submission_key" value="([^"]*)">')


def rendered_key(html: str) -> str:
    [key] = KEY_FIELD.findall(html)
    return key


def keyed_form(family, key=None):  # noqa: F811
    return {**full_form(family), "submission_key": key or str(uuid.uuid4())}


def created_sessions() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "create_session"))


def test_every_rendering_of_the_form_gets_its_own_random_key(client, org, family):  # noqa: F811
    sign_in(client, org["anna"])
    first, second = (rendered_key(page(client, family).get_data(as_text=True)) for _ in range(2))
    assert uuid.UUID(first).version == 4 and uuid.UUID(second).version == 4 and first != second


def test_a_form_sent_twice_is_stored_once_and_both_lead_to_the_case(client, org, family):  # noqa: F811
    sign_in(client, org["anna"])
    data = keyed_form(family, rendered_key(page(client, family).get_data(as_text=True)))
    first, second = post(client, family, data), post(client, family, data)
    case_url = f"/cases/{family['episode'].id}"
    assert (first.status_code, first.headers["Location"]) == (302, case_url)
    assert (second.status_code, second.headers["Location"]) == (302, case_url)
    assert counts() == (1, 3, 6) and created_sessions() == 1
    assert db.session.scalar(select(Session.submission_key)) == data["submission_key"]
    html = client.get(case_url).get_data(as_text=True)
    assert "Samtal 1 är sparat." in html and ALREADY_SAVED in html


def test_a_new_form_after_a_save_is_a_new_session(client, org, family):  # noqa: F811
    sign_in(client, org["anna"])
    for _ in range(2):
        assert post(client, family, keyed_form(family)).status_code == 302
    assert sorted(db.session.scalars(select(Session.number))) == [1, 2] and counts() == (2, 6, 12)


def test_a_form_with_errors_keeps_its_key_so_the_corrected_save_is_still_one(client, org, family):  # noqa: F811
    sign_in(client, org["anna"])
    data = keyed_form(family)
    data["date"] = "nonsense"
    assert rendered_key(post(client, family, data).get_data(as_text=True)) == data["submission_key"]
    data["date"] = date.today().isoformat()
    assert post(client, family, data).status_code == 302
    assert post(client, family, data).status_code == 302
    assert counts() == (1, 3, 6)


@pytest.mark.parametrize("key", [None, "", "not-a-key", "x" * 36, "1" * 400, "800101-1234"])
def test_a_form_without_a_usable_key_is_saved_as_a_new_submission(client, org, family, key):  # noqa: F811
    sign_in(client, org["anna"])
    data = full_form(family)
    if key is not None:
        data["submission_key"] = key
    assert post(client, family, data).status_code == 302
    assert post(client, family, data).status_code == 302
    assert counts() == (2, 6, 12)
    assert set(db.session.scalars(select(Session.submission_key))) == {None}
    data["date"] = "nonsense"  # back with errors: a fresh, usable key replaces the unusable one
    assert uuid.UUID(rendered_key(post(client, family, data).get_data(as_text=True))).version == 4


def test_the_key_is_stored_in_canonical_form(client, org, family):  # noqa: F811
    sign_in(client, org["anna"])
    key = uuid.uuid4()
    post(client, family, keyed_form(family, str(key).upper()))
    post(client, family, keyed_form(family, str(key)))
    assert list(db.session.scalars(select(Session.submission_key))) == [str(key)]


@pytest.fixture
def another_save_commits_first(monkeypatch, family):  # noqa: F811
    """Let another save of the same case commit, with the given key, just before this one writes.

    That is the moment of a race: this save has not seen the other one, and its
    session number (and maybe its key) is now taken. Returns the list of this
    save's attempts.
    """
    listeners = []

    def arrange(key):
        real, attempts, other_saved = changes._write_session, [], []

        def commit_the_other_save(conn, cursor, statement, parameters, context, executemany):
            if len(attempts) == 1 and not other_saved and statement.startswith("INSERT INTO session "):
                other_saved.append(key)
                with db.engine.begin() as other:
                    other.execute(insert(Session).values(
                        episode_id=family["episode"].id, number=1, date=date.today(), submission_key=key))

        def counted(episode_id, unit_id, data):
            attempts.append(data)
            return real(episode_id, unit_id, data)

        event.listen(db.engine, "before_cursor_execute", commit_the_other_save)
        listeners.append(commit_the_other_save)
        monkeypatch.setattr(changes, "_write_session", counted)
        return attempts

    yield arrange
    for listener in listeners:
        event.remove(db.engine, "before_cursor_execute", listener)


def test_the_same_form_at_the_same_moment_is_stored_once(client, org, family, another_save_commits_first):  # noqa: F811
    sign_in(client, org["anna"])
    data = keyed_form(family)
    attempts = another_save_commits_first(data["submission_key"])
    response = post(client, family, data)
    assert response.status_code == 302 and response.headers["Location"] == f"/cases/{family['episode'].id}"
    assert len(attempts) == 1  # the unique key says "already saved": no second try
    assert db.session.scalar(select(func.count()).select_from(Session)) == 1 and counts()[1:] == (0, 0)
    assert created_sessions() == 0
    assert ALREADY_SAVED in client.get(response.headers["Location"]).get_data(as_text=True)


def test_another_form_at_the_same_moment_takes_the_next_number(client, org, family, another_save_commits_first):  # noqa: F811
    sign_in(client, org["anna"])
    data = keyed_form(family)
    attempts = another_save_commits_first(str(uuid.uuid4()))
    assert post(client, family, data).status_code == 302
    assert len(attempts) == 2
    saved = db.session.scalars(select(Session).where(Session.submission_key == data["submission_key"])).one()
    assert saved.number == 2 and len(saved.ratings) == 6 and created_sessions() == 1


def test_simultaneous_sends_from_threads(app, org, family):  # noqa: F811
    """Real threads (and connections) at once: one form four times and two other forms; three sessions."""
    from tests.conftest import IsolatedClient

    app.test_client_class = IsolatedClient
    forms = [keyed_form(family)] * 4 + [keyed_form(family), keyed_form(family)]
    clients = [app.test_client() for _ in forms]
    for c in clients:
        sign_in(c, org["anna"])
    url, start, statuses = f"/cases/{family['episode'].id}/sessions/new", threading.Barrier(len(forms)), []

    def send(c, data):
        start.wait()
        statuses.append(c.post(url, data=data).status_code)

    threads = [threading.Thread(target=send, args=pair) for pair in zip(clients, forms)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.remove()
    assert statuses == [302] * len(forms)
    assert sorted(db.session.scalars(select(Session.number))) == [1, 2, 3]
    assert db.session.scalar(select(func.count()).select_from(Rating)) == 18 and created_sessions() == 3
