"""The partner portal (/portal): a partner sees only its own agents' work, with the
partner API's minimised customer fields, and every page showing customer data is
audited like the API; any other call is the same neutral page; withdrawn work is
listed with a neutral notice to acknowledge; forms need their CSRF token; a CSV of
outcomes needs its token too (the upload itself: test_portal_upload.py)."""

import io
import re

import pytest
from sqlalchemy import select

from services.calls.calls.tables import Call
from services.calls.partner.tables import PartnerRead, Withdrawal
from shared.events import parse_event
from tests.calls.helpers import (
    add_agent,
    add_partner,
    assign,
    calls_of,
    consent,
    counts,
    create_plan,
    dispatcher_for,
    outbox,
    payloads,
    register,
    schedule,
)
from tests.calls.unit.test_partner_api import world  # noqa: F401 (fixture)
from tests.calls.unit.test_webhooks import OWN_EVENTS
from tests.conftest import auth, make_token


def sign_in(client, partner_id):
    r = client.get(
        "/portal/", query_string={"token": make_token("partner", "supervisor", partner_id)}
    )
    assert r.status_code == 303


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', html).group(1)


def _reads(app) -> list[PartnerRead]:
    with app.extensions["rapport"].db.reader() as s:
        return list(s.scalars(select(PartnerRead).order_by(PartnerRead.id)))


def _completed(app) -> dict:
    with app.extensions["rapport"].db.reader() as s:
        return dict(
            s.execute(select(Call.id, Call.outcome).where(Call.status == "completed")).all()
        )


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
        "read",
        a["mine"][0]["id"],
        a["a"]["id"],
        "supervisor",
        "name,phone,preferred_language",
    )
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
    posted = client.post(f"/portal/calls/{theirs}", data={"csrf_token": csrf, "outcome": "reached"})
    assert posted.status_code == 404 and posted.get_data() == r.get_data()
    assert (counts(app), len(_reads(app))) == before


def test_a_staff_token_is_refused_by_the_portal(client, world):  # noqa: F811
    client.get("/portal/", query_string={"token": make_token("manager", "boss")})
    r = client.get("/portal/")
    assert r.status_code == 403 and "partner" in r.get_data(as_text=True)


def test_an_outcome_is_recorded_by_the_partner_use_case_and_bad_input_writes_nothing(
    app, client, a
):
    mine = a["mine"][0]["id"]
    page = client.get(f"/portal/calls/{mine}").get_data(as_text=True)
    bad = client.post(
        f"/portal/calls/{mine}",
        data={"csrf_token": _csrf(page), "outcome": "shrug", "satisfaction": "9"},
    )
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "Nothing was saved" in html
    assert 'id="outcome-error"' in html and 'id="satisfaction-error"' in html
    assert _completed(app) == {}
    good = client.post(
        f"/portal/calls/{mine}",
        data={
            "csrf_token": _csrf(page),
            "outcome": "reached",
            "satisfaction": "4",
            "propensity": "70",
            "duration_seconds": "120",
        },
    )
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
    up = client.post(
        "/portal/outcomes",
        data={"file": (io.BytesIO(f"call_id,outcome\n{mine},reached\n".encode()), "o.csv")},
        content_type="multipart/form-data",
    )
    assert up.status_code == 403
    assert counts(app) == before and _completed(app) == {}


def _take_work_away(app, client, call):
    r = client.post(
        f"/api/v1/calls/{call['id']}/assignment",
        headers=auth(),
        json={"agent_id": "agent-b", "reason": "A is overbooked"},
    )
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


def test_the_opt_out_notice_the_api_asks_for_can_be_given_on_the_refused_form(app, client):
    register(app, "c3", phone="+852 9123 4567")
    consent(app, "c3", purpose="insurance")
    partner = add_partner(client, "A-Call")
    add_agent(client, "agent-a", kind="partner", partner_id=partner["id"])
    schedule(
        client, create_plan(client, purpose="insurance", rrule="FREQ=DAILY;BYHOUR=10")["id"], days=2
    )
    assign(client)
    call = calls_of(client)[0]
    sign_in(client, partner["id"])
    page = client.get(f"/portal/calls/{call['id']}").get_data(as_text=True)
    assert 'name="opt_out_notice_given"' not in page  # the partner API does not say ahead
    reached = {
        "csrf_token": _csrf(page),
        "outcome": "reached",
        "satisfaction": "4",
        "propensity": "40",
    }
    r = client.post(f"/portal/calls/{call['id']}", data=reached)
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and 'id="opt_out_notice_given-error"' in html
    assert 'id="opt_out_notice_given" name="opt_out_notice_given"' in html
    assert _completed(app) == {}
    r = client.post(f"/portal/calls/{call['id']}", data={**reached, "opt_out_notice_given": "yes"})
    assert r.status_code == 303 and _completed(app) == {call["id"]: "reached"}
