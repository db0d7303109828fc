"""Random and hostile input to the session form (issue 6): never a server error; bad input
writes nothing and says what is wrong; good input is saved as typed."""
import re
import uuid
from datetime import date

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from fitapp.extensions import db
from fitapp.models import Attendance, AuditEvent, Rating, Session
from fitapp.scoring import InvalidValue, parse_item
from tests.web.conftest import sign_in
from tests.web.test_session_log import family, full_form  # noqa: F401  (fixture)

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
NOTHING_SAVED = "Ingenting sparades. Rätta följande:"
PEOPLE = ("small", "child", "mother")

# Field names of the form with {small}/{child}/{mother} for the participants' ids, and some it does not have.
FIELDS = (
    ["date", "submission_key", "draft"]
    + [f"{kind}-{{{p}}}" for p in PEOPLE for kind in ("present", "reason")]
    + [f"{scale}-{{{p}}}-{part}" for p in PEOPLE for scale in ("outcome", "alliance")
       for part in ("instrument", "1", "2", "3", "4")]
    + [f"collateral-{row}-{part}" for row in (1, 2) for part in ("subject", "rater", "instrument", "1", "2", "3", "4")]
    + ["collateral-3-1", "outcome-999999-1", "present-999999", "reason-0", "episode_id", "created_by_id", "number"]
)
HOSTILE = [
    "", " ", "0", "10", "-1", "-0,5", "10,1", "7,25", "7,,5", "7.5.5", "7,5", "1e1", "1e309",
    "99999999999999999999999999", "-99999999999999999999", "NaN", "Infinity", "-0", "٣", "７", "𝟕", "0x5",
    "5 5", "\x00", "19800101-1234", "800101-1234", "800101+1234", "<script>alert(1)</script>", "' OR 1=1 --",
    "%s%n{0}", "x" * 5000, "2025-02-30", "9999-12-31", "0001-01-01", "2025-01-13", "{child}", "{mother}",
    "999999999999", "ORS", "YCORS", "SRS", "declined", "other", str(uuid.uuid4()), "1",
]
garbage = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)
_OWN_ITEM = re.compile(r"^(outcome|alliance)-\{\w+\}-[1-4]$|^collateral-[12]-[1-4]$")


def table_counts() -> tuple[int, ...]:
    db.session.rollback()  # the request wrote on its own session: read afresh
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Session, Attendance, Rating, AuditEvent))


def with_ids(text: str, ids: dict[str, int]) -> str:
    for person, participant_id in ids.items():
        text = text.replace("{%s}" % person, str(participant_id))
    return text


def is_bad_item(name: str, value: str) -> bool:
    """An item field of the form holding something that is neither empty nor a valid item."""
    if not _OWN_ITEM.match(name) or not value.strip():
        return False
    try:
        parse_item(value)
    except InvalidValue:
        return True
    return False


@FUZZ
@given(changes=st.dictionaries(st.one_of(st.sampled_from(FIELDS), garbage),
                               st.one_of(st.sampled_from(HOSTILE), garbage), min_size=1, max_size=6),
       dropped=st.lists(st.sampled_from(FIELDS), max_size=3))
def test_hostile_values_never_crash_and_bad_ones_write_nothing(client, org, family, changes, dropped):  # noqa: F811
    ids = {p: family[p].id for p in PEOPLE}
    data = {**full_form(family), "submission_key": str(uuid.uuid4())}
    for name in dropped:
        data.pop(with_ids(name, ids), None)
    for name, value in changes.items():
        data[with_ids(name, ids)] = with_ids(value, ids)
    sign_in(client, org["anna"])
    before = table_counts()
    response = client.post(f"/cases/{family['episode'].id}/sessions/new", data=data)
    after = table_counts()
    assert response.status_code in (302, 422), response.status_code
    event(f"HTTP {response.status_code}")
    if response.status_code == 302:
        assert response.headers["Location"] == f"/cases/{family['episode'].id}"
        assert after[0] == before[0] + 1 and after[3] == before[3] + 1  # one session, one audit event
        # The values as posted: "{child}" became the child's participant id, which can be a valid item.
        assert not any(is_bad_item(n, with_ids(v, ids)) for n, v in changes.items())
    else:
        html = response.get_data(as_text=True)
        # Nothing saved; the form shown again with the family's references is audited as a read.
        assert after == (*before[:3], before[3] + 1)
        assert NOTHING_SAVED in html and re.search(r'<li><a href="#[^"]+">[^<]+</a></li>', html)


def item_text(tenths: int, comma: bool) -> str:
    whole, tenth = divmod(tenths, 10)
    if tenth == 0 and not comma:
        return str(whole)
    return f"{whole}{',' if comma else '.'}{tenth}"


scale_values = st.lists(st.tuples(st.integers(0, 100), st.booleans()), min_size=4, max_size=4)


@settings(FUZZ, max_examples=30)
@given(present=st.lists(st.booleans(), min_size=3, max_size=3).filter(any),
       scales=st.lists(st.one_of(st.none(), scale_values), min_size=6, max_size=6))
def test_valid_values_are_saved_as_typed(client, org, family, present, scales):  # noqa: F811
    data = {"date": date.today().isoformat(), "submission_key": str(uuid.uuid4())}
    expected = {}
    instruments = {"small": ("YCORS", "YCSRS"), "child": ("CORS", "CSRS"), "mother": ("ORS", "SRS")}
    for n, person in enumerate(PEOPLE):
        pid = family[person].id
        data[f"reason-{pid}"] = "declined"
        for (scale, instrument), values in zip(zip(("outcome", "alliance"), instruments[person]), scales[2 * n:]):
            data[f"{scale}-{pid}-instrument"] = instrument
            if present[n] and values is not None:
                for item, (tenths, comma) in enumerate(values, start=1):
                    data[f"{scale}-{pid}-{item}"] = item_text(tenths, comma)
                expected[(pid, instrument)] = sum(t for t, _comma in values)
        if present[n]:
            data[f"present-{pid}"] = "1"
    sign_in(client, org["anna"])
    before = table_counts()
    response = client.post(f"/cases/{family['episode'].id}/sessions/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.rollback()
    session_id = db.session.scalar(select(Session.id).where(Session.submission_key == data["submission_key"]))
    stored = {(r.subject_id, r.instrument): r.total_x10
              for r in db.session.scalars(select(Rating).where(Rating.session_id == session_id))}
    assert stored == expected
    assert table_counts()[1] == before[1] + sum(present)
