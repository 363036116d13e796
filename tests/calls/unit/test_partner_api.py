"""The partner API: each partner sees and updates only its own agents' calls, with
only the customer fields needed; another partner's call is a 404 on every endpoint
and method; bulk uploads are judged per item and idempotent; reads are audited."""

from datetime import UTC

import pytest
from sqlalchemy import update

from services.calls.customers.tables import Customer
from tests.calls.helpers import (
    add_agent,
    add_partner,
    assign,
    calls_of,
    counts,
    create_plan,
    outbox,
    payloads,
    project,
    schedule,
)
from tests.conftest import auth, make_token

REACHED = {"outcome": "reached", "satisfaction": 5, "propensity": 60, "duration_seconds": 200}


def partner_headers(partner_id, subject="supervisor"):
    return {"Authorization": f"Bearer {make_token('partner', subject, partner_id)}"}


@pytest.fixture
def world(app, client):
    """Partners A and B, one agent each, and six calls split between them."""
    project(app, "c1", "c2", "c3")
    with app.extensions["rapport"].uow() as work:
        work.session.execute(update(Customer).values(phone="+85291234567", gaps=["email"]))
    a, b = add_partner(client, "A-Call"), add_partner(client, "B-Call", fee="20")
    add_agent(client, "agent-a", kind="partner", partner_id=a["id"])
    add_agent(client, "agent-b", kind="partner", partner_id=b["id"])
    schedule(client, create_plan(client, rrule="FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=10")["id"], days=7)
    assign(client)
    calls = calls_of(client)
    mine = [c for c in calls if c["partner_id"] == a["id"]]
    theirs = [c for c in calls if c["partner_id"] == b["id"]]
    assert mine and theirs
    return {
        "a": a,
        "b": b,
        "mine": mine,
        "theirs": theirs,
        "A": partner_headers(a["id"]),
        "B": partner_headers(b["id"]),
    }


def test_a_partner_lists_only_its_own_calls_with_minimal_customer_data(client, world):
    r = client.get("/api/v1/partner/calls", headers=world["A"])
    assert r.status_code == 200
    items = r.json["items"]
    assert {i["call"]["id"] for i in items} == {c["id"] for c in world["mine"]}
    assert items[0]["customer"] == {
        "name": items[0]["customer"]["name"],
        "phone": "+85291234567",
        "preferred_language": None,
    }
    assert "customer_id" not in items[0]["call"] and "segment" not in items[0]["customer"]
    assert items[0]["items_to_confirm"] == ["email"]


def test_reads_are_audited(app, client, world):
    client.get("/api/v1/partner/calls", headers=world["A"])
    client.get(f"/api/v1/partner/calls/{world['mine'][0]['id']}", headers=world["A"])
    reads = client.get(
        "/api/v1/partner-reads", headers=auth(), query_string={"partner_id": world["a"]["id"]}
    ).json["items"]
    assert len(reads) == len(world["mine"]) + 1
    assert {r["endpoint"] for r in reads} == {"list", "read"}
    assert reads[-1]["fields"] == "name,phone,preferred_language"
    assert reads[-1]["subject"] == "supervisor"
    assert client.get("/api/v1/partner-reads", headers=world["A"]).status_code == 403


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("GET", "/partner/calls/{id}", None),
        ("POST", "/partner/calls/{id}/outcome", REACHED),
        ("GET", "/partner/calls/{id}/outcome", None),
        ("PUT", "/partner/calls/{id}", {}),
        ("PATCH", "/partner/calls/{id}", {}),
        ("DELETE", "/partner/calls/{id}", None),
        ("POST", "/partner/calls/{id}", {}),
        ("PUT", "/partner/calls/{id}/outcome", REACHED),
        ("DELETE", "/partner/calls/{id}/outcome", None),
        ("GET", "/calls/{id}", None),
        ("POST", "/calls/{id}/outcome", REACHED),
        ("GET", "/calls/{id}/assignments", None),
        ("POST", "/calls/{id}/assignment", {"agent_id": "agent-a", "reason": "mine now"}),
    ],
)
def test_another_partners_call_is_404_on_every_endpoint_and_method(
    app, client, world, method, path, body
):
    before = counts(app)
    theirs = world["theirs"][0]["id"]
    r = client.open(
        f"/api/v1{path.format(id=theirs)}", method=method, headers=world["A"], json=body
    )
    assert r.status_code == 404 and r.content_type == "application/problem+json"
    unknown = client.open(
        f"/api/v1{path.format(id='no-such-call')}", method=method, headers=world["A"], json=body
    )
    assert (unknown.status_code, unknown.json["title"]) == (404, r.json["title"])
    assert counts(app) == before
    assert calls_of(client, customer_id=world["theirs"][0]["customer_id"])


def test_unoffered_methods_on_your_own_call_are_405(client, world):
    mine = world["mine"][0]["id"]
    assert client.delete(f"/api/v1/partner/calls/{mine}", headers=world["A"]).status_code == 405


def test_a_partner_records_its_own_outcome_once_and_is_charged_its_fee(app, client, world):
    mine = world["mine"][0]["id"]
    r = client.post(f"/api/v1/partner/calls/{mine}/outcome", headers=world["A"], json=REACHED)
    assert r.status_code == 201 and r.json["call"]["outcome"] == "reached"
    again = client.post(f"/api/v1/partner/calls/{mine}/outcome", headers=world["A"], json=REACHED)
    assert again.status_code == 200
    other = client.post(
        f"/api/v1/partner/calls/{mine}/outcome", headers=world["A"], json={"outcome": "busy"}
    )
    assert other.status_code == 409
    [event] = payloads(app, "call.completed")
    assert (event["agent_kind"], event["partner_id"], event["cost"], event["agent_id"]) == (
        "partner",
        world["a"]["id"],
        "25.00",
        "agent-a",
    )
    listed = client.get(
        "/api/v1/partner/calls", headers=world["A"], query_string={"status": "completed"}
    ).json["items"]
    assert [i["call"]["id"] for i in listed] == [mine]


def test_bulk_upload_mixes_good_bad_and_foreign_items(app, client, world):
    mine = [c["id"] for c in world["mine"]]
    theirs = world["theirs"][0]["id"]
    items = [
        {"call_id": mine[0], **REACHED},
        {"call_id": theirs, **REACHED},
        {"call_id": mine[1], "outcome": "reached"},
        {"call_id": mine[1], "outcome": "wrong_number"},
        {"call_id": "nope", "outcome": "busy"},
        {"outcome": "busy"},
        42,
    ]
    headers = {**world["A"], "Idempotency-Key": "batch-1"}
    r = client.post("/api/v1/partner/outcomes", headers=headers, json={"outcomes": items})
    assert r.status_code == 200
    assert [x["status"] for x in r.json["results"]] == [201, 404, 422, 201, 404, 422, 422]
    assert r.json["results"][1]["call_id"] == theirs
    assert (r.json["created"], r.json["rejected"]) == (2, 5)
    assert len(payloads(app, "call.completed")) == 2
    replay = client.post("/api/v1/partner/outcomes", headers=headers, json={"outcomes": items})
    assert replay.json == r.json and replay.headers["Idempotent-Replayed"] == "true"
    assert len(payloads(app, "call.completed")) == 2
    changed = client.post("/api/v1/partner/outcomes", headers=headers, json={"outcomes": items[:1]})
    assert changed.status_code == 422 and changed.content_type == "application/problem+json"
    # The same key from partner B is B's own key: no replay of A's answer.
    other = client.post(
        "/api/v1/partner/outcomes",
        headers={**world["B"], "Idempotency-Key": "batch-1"},
        json={"outcomes": items[:2]},
    )
    assert [x["status"] for x in other.json["results"]] == [404, 201]
    theirs_now = next(c for c in calls_of(client) if c["id"] == theirs)
    assert theirs_now["status"] == "completed"


@pytest.mark.parametrize(
    "body",
    [{"outcomes": []}, {"outcomes": [{"outcome": "busy"}] * 1001}, {"outcomes": "all of them"}, {}],
)
def test_oversized_or_malformed_uploads_are_refused_whole(app, client, world, body):
    before = counts(app)
    r = client.post("/api/v1/partner/outcomes", headers=world["A"], json=body)
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert counts(app) == before


def test_only_partner_tokens_reach_the_partner_api(client, world):
    for role in ("manager", "agent", "analyst"):
        assert client.get("/api/v1/partner/calls", headers=auth(role)).status_code == 403
    assert client.get("/api/v1/partner/calls").status_code == 401


def test_a_reassigned_or_cancelled_call_leaves_the_partner(app, client, world):
    from datetime import datetime

    from tests.calls.helpers import deliver

    moved, cancelled = world["mine"][0], world["mine"][1]
    r = client.post(
        f"/api/v1/calls/{moved['id']}/assignment",
        headers=auth(),
        json={"agent_id": "agent-b", "reason": "rebalance"},
    )
    assert r.status_code == 200
    deliver(
        app,
        "customer.opted_out",
        customer_id=cancelled["customer_id"],
        opted_out_at=datetime.now(UTC),
    )
    listed = {
        i["call"]["id"]
        for i in client.get("/api/v1/partner/calls", headers=world["A"]).json["items"]
    }
    assert moved["id"] not in listed and cancelled["id"] not in listed
    assert client.get(f"/api/v1/partner/calls/{moved['id']}", headers=world["A"]).status_code == 404
    events = [e for e in payloads(app, "call.cancelled") if e["call_id"] == cancelled["id"]]
    assert events and events[0]["partner_id"] == world["a"]["id"]
    assert outbox(app)
