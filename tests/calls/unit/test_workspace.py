"""The agent's workspace pages (/workspace): the queue and the call page read the
API's use cases; the outcome form is judged by the API's schema and use case, shows
its refusals next to the fields and writes nothing; the call page shows the
customer's context the projection learnt from customer events."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.calls.calls.tables import Call, Followup
from services.calls.customers.tables import Customer
from services.calls.db import Outbox
from services.calls.workspace.form import ZONE
from tests.calls.helpers import (
    add_agent,
    assign,
    calls_of,
    create_plan,
    deliver,
    register,
    schedule,
)
from tests.conftest import make_token

ADDRESS = {
    "line1": "12 Nathan Road",
    "district": "Yau Tsim Mong",
    "city": "Hong Kong",
    "country": "HK",
}
CHECKLIST = [
    {"id": "budget", "question": "Budget this year (HKD)?", "answer_type": "number"},
    {"id": "renewing", "question": "Renewing the policy?", "answer_type": "yes_no"},
]


@pytest.fixture
def visit(app, client):
    """Customer c1 (known from its registration event) with a visit due, assigned to ann."""
    register(
        app,
        "c1",
        phone="+852 9123 4567",
        email="chan@example.hk",
        address=ADDRESS,
        relationship_score=0.62,
        satisfaction_trend=-0.5,
        preferred_language="zh-HK",
    )
    add_agent(client, "ann", channels=["visit"])
    plan = create_plan(client, channel="visit", checklist=CHECKLIST, rrule="FREQ=DAILY;BYHOUR=10")
    schedule(client, plan["id"], days=3)
    assign(client)
    first = calls_of(client)[0]
    client.get("/workspace/", query_string={"token": make_token("agent", "ann")})
    return first


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', html).group(1)


def _state(app, call_id):
    with app.extensions["rapport"].db.reader() as s:
        call = s.get(Call, call_id)
        sent = s.scalars(select(Outbox.event_type)).all()
        return call.status, call.outcome, sent.count("call.completed")


def test_the_queue_page_lists_the_agents_calls_from_the_queue_use_case(visit, client):
    r = client.get("/workspace/")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "My queue" in html
    assert f"/workspace/calls/{visit['id']}" in html and "c1" in html
    assert (
        client.get("/workspace/", query_string={"show": "escalations"})
        .get_data(as_text=True)
        .count("/workspace/calls/")
        == 0
    )
    bad = client.get("/workspace/", query_string={"show": "nonsense"})
    assert bad.status_code == 422 and "show" in bad.get_data(as_text=True)


def test_the_queue_api_takes_the_same_views(visit, client):
    headers = {"Authorization": f"Bearer {make_token('agent', 'ann')}"}
    every = client.get("/api/v1/queue", headers=headers).json["items"]
    callbacks = client.get("/api/v1/queue", headers=headers, query_string={"show": "callbacks"})
    assert len(every) == 3 and callbacks.json["items"] == []
    assert (
        client.get("/api/v1/queue", headers=headers, query_string={"show": "x"}).status_code == 422
    )


def test_the_call_page_shows_the_customers_context_for_a_visit(visit, client):
    html = client.get(f"/workspace/calls/{visit['id']}").get_data(as_text=True)
    assert "12 Nathan Road, Yau Tsim Mong, Hong Kong, HK" in html
    assert "openstreetmap.org/search?query=12%20Nathan%20Road" in html
    assert "zh-HK" in html and "score 0.62" in html and "falling" in html
    assert 'type="number"' in html and 'name="answer.budget"' in html
    assert 'type="datetime-local"' in html and "Hong Kong time (UTC+8)" in html
    assert "tel:" not in html  # a visit shows the address, not the phone


def test_another_agents_call_is_not_shown(visit, client):
    client.get("/workspace/", query_string={"token": make_token("agent", "bob")})
    assert client.get(f"/workspace/calls/{visit['id']}").status_code == 404


def test_an_outcome_without_the_csrf_token_is_refused_and_writes_nothing(app, visit, client):
    r = client.post(f"/workspace/calls/{visit['id']}", data={"outcome": "no_answer"})
    assert r.status_code == 403
    assert _state(app, visit["id"]) == ("scheduled", None, 0)


def test_bad_input_shows_the_apis_reasons_next_to_the_fields_and_writes_nothing(app, visit, client):
    page = client.get(f"/workspace/calls/{visit['id']}").get_data(as_text=True)
    r = client.post(
        f"/workspace/calls/{visit['id']}",
        data={
            "csrf_token": _csrf(page),
            "outcome": "reached",
            "propensity": "150",
            "answer.budget": "lots",
            "notes": "kept in the form",
        },
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "Nothing was saved" in html
    assert re.search(
        r'id="propensity-error">Must be greater than or equal to 0 and less '
        r"than or equal to 100",
        html,
    )
    assert "kept in the form" in html
    r = client.post(
        f"/workspace/calls/{visit['id']}",
        data={
            "csrf_token": _csrf(page),
            "outcome": "reached",
            "satisfaction": "4",
            "propensity": "50",
            "answer.budget": "lots",
        },
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert 'id="answer.budget-error">Answer with a number.' in html
    assert _state(app, visit["id"]) == ("scheduled", None, 0)


def test_an_outcome_and_a_callback_are_recorded_by_the_api_use_case(app, visit, client):
    page = client.get(f"/workspace/calls/{visit['id']}").get_data(as_text=True)
    when = (datetime.now(ZONE) + timedelta(days=2)).replace(
        hour=15, minute=30, second=0, microsecond=0
    )
    r = client.post(
        f"/workspace/calls/{visit['id']}",
        data={
            "csrf_token": _csrf(page),
            "outcome": "callback_requested",
            "callback_at": when.strftime("%Y-%m-%dT%H:%M"),
            "answer.budget": "20000",
            "answer.renewing": "yes",
            "competitor_mentions": "AIA, Prudential",
            "notes": "Call back after lunch",
        },
    )
    assert r.status_code == 303, r.get_data(as_text=True)
    assert "Outcome recorded" in client.get(r.headers["Location"]).get_data(as_text=True)
    with app.extensions["rapport"].db.reader() as s:
        call = s.get(Call, visit["id"])
        assert (call.status, call.outcome, call.answers, call.competitor_mentions) == (
            "completed",
            "callback_requested",
            {"budget": 20000, "renewing": True},
            ["AIA", "Prudential"],
        )
        assert call.callback_at == when.astimezone(UTC)
        assert [f.kind for f in s.scalars(select(Followup))] == ["callback"]
    assert _state(app, visit["id"])[2] == 1


def test_the_projection_keeps_the_call_context_from_updates_and_erasure_clears_it(app):
    register(app, "c2", email="a@example.hk", relationship_score=0.5)
    deliver(
        app,
        "customer.updated",
        customer_id="c2",
        segment="smb",
        version=2,
        changes={"email": {"old": "a@example.hk", "new": "b@example.hk"}},
        email="b@example.hk",
        address=ADDRESS,
        relationship_score=0.7,
    )
    with app.extensions["rapport"].db.reader() as s:
        c = s.get(Customer, "c2")
        assert (c.email, c.address, c.relationship_score) == ("b@example.hk", ADDRESS, 0.7)
    deliver(app, "customer.erased", customer_id="c2", erased_at=datetime.now(UTC))
    with app.extensions["rapport"].db.reader() as s:
        c = s.get(Customer, "c2")
        assert (c.email, c.address, c.relationship_score) == (None, None, None)


def test_a_first_marketing_phone_call_shows_the_tel_link_and_the_notice_owed(app, client):
    from tests.calls.helpers import consent

    register(app, "c3", phone="+852 9123 4567", email="c3@example.hk")
    consent(app, "c3", purpose="insurance")
    add_agent(client, "ann")
    schedule(
        client, create_plan(client, purpose="insurance", rrule="FREQ=DAILY;BYHOUR=10")["id"], days=2
    )
    assign(client)
    call = calls_of(client)[0]
    client.get("/workspace/", query_string={"token": make_token("agent", "ann")})
    html = client.get(f"/workspace/calls/{call['id']}").get_data(as_text=True)
    assert 'href="tel:+85291234567"' in html and "mailto:" not in html
    assert "still owed" in html and 'name="opt_out_notice_given"' in html
    assert "phone for insurance: granted" in html
    page = client.get(f"/workspace/calls/{call['id']}").get_data(as_text=True)
    r = client.post(
        f"/workspace/calls/{call['id']}",
        data={
            "csrf_token": _csrf(page),
            "outcome": "reached",
            "satisfaction": "4",
            "propensity": "40",
        },
    )
    assert r.status_code == 422
    assert (
        'id="opt_out_notice_given-error">Required on the first direct-marketing contact'
        in r.get_data(as_text=True)
    )
    assert _state(app, call["id"]) == ("scheduled", None, 0)
