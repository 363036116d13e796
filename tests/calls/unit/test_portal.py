"""The partner portal (/portal): a partner sees only its own agents' work, with the
partner API's minimised customer fields, and every page showing customer data is
audited like the API; any other call is the same neutral page; withdrawn work is
listed with a neutral notice to acknowledge; forms need their CSRF token; a CSV of
outcomes is judged row by row by the bulk use case, and a malformed file writes
nothing."""
import io
import re

import pytest
from sqlalchemy import select

from services.calls.models import Call, PartnerRead, Withdrawal
from shared.events import parse_event
from tests.calls.helpers import counts, dispatcher_for, outbox, payloads
from tests.calls.unit.test_partner_api import world  # noqa: F401 (fixture)
from tests.calls.unit.test_webhooks import OWN_EVENTS
from tests.conftest import auth, make_token

HEADER = "call_id,outcome,satisfaction,propensity,duration_seconds,notes\n"


def sign_in(client, partner_id):
    r = client.get("/portal/", query_string={"token": make_token("partner", "supervisor",
                                                                  partner_id)})
    assert r.status_code == 303


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', html).group(1)


def _reads(app) -> list[PartnerRead]:
    with app.extensions["rapport"].db.reader() as s:
        return list(s.scalars(select(PartnerRead).order_by(PartnerRead.id)))


def _completed(app) -> dict:
    with app.extensions["rapport"].db.reader() as s:
        return dict(s.execute(select(Call.id, Call.outcome).where(
            Call.status == "completed")).all())


@pytest.fixture
def a(client, world):  # noqa: F811
    sign_in(client, world["a"]["id"])
    return world


def test_a_partner_sees_only_its_own_work_with_the_apis_minimised_fields(client, a):
    r = client.get("/portal/")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and f"{len(a['mine'])} open calls" in html
    for c in a["mine"]:
        assert f"/portal/calls/{c['id']}" in html
    for c in a["theirs"]:
        assert c["id"] not in html
    page = client.get(f"/portal/calls/{a['mine'][0]['id']}").get_data(as_text=True)
    assert "+85291234567" in page and 'href="tel:+85291234567"' in page
    assert "smb" not in page and "Segment" not in page  # the API shows no segment
    assert 'name="confirm.email"' in page  # items to confirm, as the API lists them


def test_every_page_view_showing_customer_data_writes_a_partner_read(app, client, a):
    client.get("/portal/")
    assert len(_reads(app)) == len(a["mine"])
    assert {r.endpoint for r in _reads(app)} == {"list"}
    client.get(f"/portal/calls/{a['mine'][0]['id']}")
    last = _reads(app)[-1]
    assert (last.endpoint, last.call_id, last.partner_id, last.subject, last.fields) == (
        "read", a["mine"][0]["id"], a["a"]["id"], "supervisor", "name,phone,preferred_language")
    before = len(_reads(app))
    client.get("/portal/outcomes")  # shows no customer data: nothing to audit
    assert len(_reads(app)) == before


def test_another_partners_call_and_an_unknown_one_give_the_same_neutral_page(app, client, a):
    before = (counts(app), len(_reads(app)))
    theirs = a["theirs"][0]["id"]
    r = client.get(f"/portal/calls/{theirs}")
    unknown = client.get("/portal/calls/no-such-call")
    assert r.status_code == unknown.status_code == 404
    assert r.get_data() == unknown.get_data()
    assert "This call is not in your work." in r.get_data(as_text=True)
    csrf = _csrf(client.get("/portal/outcomes").get_data(as_text=True))
    posted = client.post(f"/portal/calls/{theirs}", data={"csrf_token": csrf,
                                                         "outcome": "reached"})
    assert posted.status_code == 404 and posted.get_data() == r.get_data()
    assert (counts(app), len(_reads(app))) == before


def test_a_staff_token_is_refused_by_the_portal(client, world):  # noqa: F811
    client.get("/portal/", query_string={"token": make_token("manager", "boss")})
    r = client.get("/portal/")
    assert r.status_code == 403 and "partner" in r.get_data(as_text=True)


def test_an_outcome_is_recorded_by_the_partner_use_case_and_bad_input_writes_nothing(
        app, client, a):
    mine = a["mine"][0]["id"]
    page = client.get(f"/portal/calls/{mine}").get_data(as_text=True)
    bad = client.post(f"/portal/calls/{mine}", data={"csrf_token": _csrf(page),
                                                     "outcome": "shrug", "satisfaction": "9"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "Nothing was saved" in html
    assert 'id="outcome-error"' in html and 'id="satisfaction-error"' in html
    assert _completed(app) == {}
    good = client.post(f"/portal/calls/{mine}", data={
        "csrf_token": _csrf(page), "outcome": "reached", "satisfaction": "4", "propensity": "70",
        "duration_seconds": "120"})
    assert good.status_code == 303
    assert "Outcome recorded: reached" in client.get(good.location).get_data(as_text=True)
    assert _completed(app) == {mine: "reached"}
    assert [p["partner_id"] for p in payloads(app, "call.completed")] == [a["a"]["id"]]
    assert "outcome" in {r.endpoint for r in _reads(app)}


def test_a_form_without_its_csrf_token_is_refused_and_writes_nothing(app, client, a):
    mine = a["mine"][0]["id"]
    before = counts(app)
    r = client.post(f"/portal/calls/{mine}", data={"outcome": "reached"})
    assert r.status_code == 403 and "nothing was saved" in r.get_data(as_text=True)
    up = client.post("/portal/outcomes", data={"file": (_csv(f"{mine},reached,,,,\n"), "o.csv")},
                     content_type="multipart/form-data")
    assert up.status_code == 403
    assert counts(app) == before and _completed(app) == {}


def _csv(body: str, header: str = HEADER):
    return io.BytesIO((header + body).encode())


def _upload(client, data, name="outcomes.csv"):
    csrf = _csrf(client.get("/portal/outcomes").get_data(as_text=True))
    return client.post("/portal/outcomes", data={"csrf_token": csrf, "file": (data, name)},
                       content_type="multipart/form-data")


def _report(html: str) -> list[list[str]]:
    """The report table's cells, as text, row by row."""
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    return [[" ".join(re.sub(r"<[^>]+>", " ", cell).split())
             for cell in re.findall(r"<td>(.*?)</td>", row, re.DOTALL)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)]


def test_a_bulk_upload_reports_each_row_and_records_only_the_good_ones(app, client, a):
    mine = [c["id"] for c in a["mine"]]
    theirs = a["theirs"][0]["id"]
    assert len(mine) >= 3
    r = _upload(client, _csv(f"{mine[0]},reached,5,60,200,fine\n"
                             f"{theirs},reached,5,60,200,\n"
                             f"{mine[1]},shrug,,,,\n"
                             f"{mine[1]},reached,7,,abc,\n"
                             f"no-such-call,busy,,,,\n"
                             f"{mine[2]},no_answer,,,,\n"))
    assert r.status_code == 200
    rows = _report(r.get_data(as_text=True))
    assert [row[:3] for row in rows] == [
        ["2", mine[0], "accepted"], ["3", theirs, "refused"], ["4", mine[1], "refused"],
        ["5", mine[1], "refused"], ["6", "no-such-call", "refused"], ["7", mine[2], "accepted"]]
    assert rows[1][3] == rows[4][3] == "This call is not in your work."
    assert rows[2][3].startswith("outcome: Must be one of")
    assert "satisfaction:" in rows[3][3] and "duration_seconds: Not a valid integer." in rows[3][3]
    assert _completed(app) == {mine[0]: "reached", mine[2]: "no_answer"}
    assert len(payloads(app, "call.completed")) == 2
    again = _report(_upload(client, _csv(f"{mine[0]},reached,5,60,200,fine\n"))
                    .get_data(as_text=True))
    assert again == [["2", mine[0], "accepted (already recorded)", ""]]


@pytest.mark.parametrize("data, why", [
    (_csv("x,reached\n", header="call,outcome\n"), "unknown: call; missing: call_id"),
    (_csv("", header="call_id,outcome\n"), "no rows"),
    (_csv("c,reached\n" * 1001, header="call_id,outcome\n"), "more than 1000 rows"),
    (io.BytesIO("call_id,outcome\nc,réussi\n".encode("latin-1")), "not UTF-8"),
    (_csv("x" * (1024 * 1024), header="call_id,outcome\n"), "larger than 1024 KB"),
    (_csv("c,reached,extra\n", header="call_id,outcome\n"), "more values than columns"),
])
def test_a_malformed_file_is_refused_whole_and_writes_nothing(app, client, a, data, why):
    mine = a["mine"][0]["id"]
    body = data.getvalue().replace(b"c,reached", f"{mine},reached".encode())
    before = counts(app)
    r = _upload(client, io.BytesIO(body))
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "Nothing was saved." in html and why in html
    assert counts(app) == before and _completed(app) == {}


def _take_work_away(app, client, call):
    r = client.post(f"/api/v1/calls/{call['id']}/assignment", headers=auth(),
                    json={"agent_id": "agent-b", "reason": "A is overbooked"})
    assert r.status_code == 200, r.json
    dispatcher = dispatcher_for(app)
    for row in outbox(app):
        if row.event_type in OWN_EVENTS:
            assert dispatcher.dispatch(parse_event(row.body))


def test_withdrawn_work_disappears_with_a_neutral_notice_and_is_acknowledged(app, client, a):
    moved = a["mine"][0]
    before = client.get(f"/portal/calls/{moved['id']}")
    _take_work_away(app, client, moved)
    html = client.get("/portal/").get_data(as_text=True)
    assert "Work withdrawn from you" in html and f"Call {moved['id']}" in html
    assert f"/portal/calls/{moved['id']}" not in html
    assert "overbooked" not in html and "agent-b" not in html
    gone = client.get(f"/portal/calls/{moved['id']}")
    assert before.status_code == 200 and gone.status_code == 404
    assert gone.get_data() == client.get("/portal/calls/no-such-call").get_data()
    [action] = re.findall(r'action="(/portal/withdrawals/[^"]+/ack)"', html)
    assert client.post(action).status_code == 403  # no CSRF token
    r = client.post(action, data={"csrf_token": _csrf(html)})
    assert r.status_code == 303
    with app.extensions["rapport"].db.reader() as s:
        [row] = s.scalars(select(Withdrawal).where(Withdrawal.call_id == moved["id"]))
        assert (row.acknowledged_by, row.acknowledged_at is not None) == ("supervisor", True)
    assert "Work withdrawn from you" not in client.get(r.location).get_data(as_text=True)
