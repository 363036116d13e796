"""Agents, partners and assignment: only qualified agents within capacity, fair
round-robin among equals, every decision recorded, unassignable calls visible."""

from collections import Counter

import pytest
from sqlalchemy import update

from services.calls.customers.tables import Customer
from tests.calls.helpers import (
    TRAINED,
    add_agent,
    add_partner,
    assign,
    calls_of,
    create_plan,
    payloads,
    project,
    schedule,
)
from tests.conftest import auth

DAILY = "FREQ=DAILY;BYHOUR=10;BYMINUTE=0"


def language(app, customer_id, lang):
    with app.extensions["rapport"].uow() as work:
        work.session.execute(
            update(Customer)
            .where(Customer.customer_id == customer_id)
            .values(preferred_language=lang)
        )


def test_agents_and_partners_are_created_read_and_listed(client):
    partner = add_partner(client)
    assert partner["fee_per_call"] == "25.00" and partner["currency"] == "HKD"
    staff = add_agent(client, "alice", team="east")
    outsourced = add_agent(client, "bob", kind="partner", partner_id=partner["id"])
    assert (staff["rate_per_minute"], outsourced["partner_id"]) == ("2.00", partner["id"])
    assert staff["trainings"] == TRAINED
    got = client.get("/api/v1/agents/alice", headers=auth("analyst")).json
    assert got == staff
    listed = client.get("/api/v1/agents", headers=auth(), query_string={"kind": "partner"}).json[
        "items"
    ]
    assert [a["id"] for a in listed] == ["bob"]
    r = client.patch("/api/v1/agents/alice", headers=auth(), json={"daily_capacity": 3})
    assert r.status_code == 200 and r.json["daily_capacity"] == 3
    assert client.get(f"/api/v1/partners/{partner['id']}", headers=auth()).json == partner


@pytest.mark.parametrize(
    "body, field",
    [
        ({"kind": "staff"}, "rate_per_minute"),
        ({"kind": "partner", "partner_id": "nope"}, "partner_id"),
        ({"kind": "partner", "rate_per_minute": "1.00"}, "rate_per_minute"),
        ({"kind": "staff", "rate_per_minute": "-1"}, "rate_per_minute"),
        ({"kind": "staff", "rate_per_minute": "1.00001"}, "rate_per_minute"),
        ({"kind": "staff", "rate_per_minute": "1", "daily_capacity": 0}, "daily_capacity"),
        ({"kind": "staff", "rate_per_minute": "1", "channels": ["fax"]}, "channels"),
        ({"kind": "staff", "rate_per_minute": "1", "languages": ["Klingon!"]}, "languages"),
        (
            {
                "kind": "staff",
                "rate_per_minute": "1",
                "trainings": [{"name": "pdpo", "expires_on": "soon"}],
            },
            "trainings",
        ),
        ({"kind": "robot", "rate_per_minute": "1"}, "kind"),
    ],
)
def test_bad_agents_are_422_and_not_written(client, body, field):
    r = client.post(
        "/api/v1/agents", headers=auth(), json={"name": "X", "daily_capacity": 5, **body}
    )
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert field in r.json["errors"], r.json
    assert client.get("/api/v1/agents", headers=auth()).json["items"] == []


def test_people_need_a_manager(client):
    assert (
        client.post(
            "/api/v1/partners", headers=auth("agent"), json={"name": "P", "fee_per_call": "1"}
        ).status_code
        == 403
    )
    assert client.get("/api/v1/agents", headers=auth("partner", "p1")).status_code == 403


@pytest.mark.parametrize(
    "agent, reason",
    [
        ({"channels": ["email"]}, "channel phone"),
        ({"languages": ["en"]}, "language zh-HK"),
        ({"segments": ["enterprise"]}, "segment smb"),
        ({"trainings": [{"name": "pdpo", "expires_on": "2020-01-01"}]}, "no valid training"),
        ({"trainings": []}, "no valid training"),
        ({"active": False}, "no active agent"),
    ],
)
def test_an_unqualified_agent_never_gets_a_call(app, client, agent, reason):
    project(app, "c1")
    language(app, "c1", "zh-HK")
    schedule(client, create_plan(client, rrule=DAILY)["id"], days=3)
    add_agent(client, "alice", **agent)
    assert assign(client) == {"assigned": 0, "unassignable": 3}
    unassignable = calls_of(client, unassignable="true")
    assert len(unassignable) == 3
    assert all(reason in c["unassigned_reason"] for c in unassignable)
    assert all(c["agent_id"] is None for c in calls_of(client))
    assert payloads(app, "call.assigned") == []


def test_a_plan_may_require_trainings_and_certifications(app, client):
    project(app, "c1")
    plan = create_plan(
        client, rrule=DAILY, required_trainings=["mpf"], required_certifications=["mpf-licence"]
    )
    schedule(client, plan["id"], days=2)
    add_agent(client, "plain")
    add_agent(
        client,
        "licensed",
        certifications=["mpf-licence"],
        trainings=[*TRAINED, {"name": "mpf", "expires_on": "2099-01-01"}],
    )
    assert assign(client)["assigned"] == 2
    assert {c["agent_id"] for c in calls_of(client)} == {"licensed"}


def test_capacity_is_never_exceeded_and_the_rest_is_unassignable(app, client):
    project(app, *[f"c{i}" for i in range(7)])
    schedule(client, create_plan(client, rrule="FREQ=WEEKLY;BYDAY=MO;BYHOUR=10")["id"], days=7)
    add_agent(client, "alice", daily_capacity=2)
    add_agent(client, "bob", daily_capacity=3)
    assert assign(client) == {"assigned": 5, "unassignable": 2}
    held = Counter(c["agent_id"] for c in calls_of(client))
    assert held == {"alice": 2, "bob": 3, None: 2}
    assert all(
        "at capacity" in c["unassigned_reason"] for c in calls_of(client, unassignable="true")
    )
    add_agent(client, "carol")
    assert assign(client) == {"assigned": 2, "unassignable": 0}
    assert calls_of(client, unassignable="true") == []


def test_round_robin_is_fair_over_many_assignments(app, client):
    project(app, *[f"c{i:03d}" for i in range(60)])
    schedule(client, create_plan(client, rrule=DAILY)["id"], days=5)
    for name in ("ann", "ben", "cat", "dan"):
        add_agent(client, name, daily_capacity=1000)
    add_agent(client, "eve", daily_capacity=1000, segments=["enterprise"])  # not an equal
    total = len(calls_of(client))
    assert assign(client)["assigned"] == total
    held = Counter(c["agent_id"] for c in calls_of(client))
    assert set(held) == {"ann", "ben", "cat", "dan"}
    assert max(held.values()) - min(held.values()) <= 1
    # Assigned in due-time order, the agents take turns.
    ordered = [c["agent_id"] for c in calls_of(client)]
    assert ordered[:8] == ["ann", "ben", "cat", "dan"] * 2


def test_every_decision_is_recorded_and_announced(app, client):
    project(app, "c1")
    language(app, "c1", "zh-HK")
    partner = add_partner(client)
    schedule(client, create_plan(client)["id"], days=7)
    add_agent(client, "alice", team="east")
    add_agent(client, "bob", kind="partner", partner_id=partner["id"])
    assign(client)
    [call] = calls_of(client)
    [event] = payloads(app, "call.assigned")
    assert (event["call_id"], event["agent_id"], event["agent_kind"], event["team"]) == (
        call["id"],
        "alice",
        "staff",
        "east",
    )
    assert "language zh-HK" in event["reason"] and "round-robin" in event["reason"]
    r = client.post(
        f"/api/v1/calls/{call['id']}/assignment",
        headers=auth(),
        json={"agent_id": "bob", "reason": "Cantonese-speaking partner team"},
    )
    assert r.status_code == 200 and (r.json["agent_id"], r.json["partner_id"]) == (
        "bob",
        partner["id"],
    )
    history = client.get(f"/api/v1/calls/{call['id']}/assignments", headers=auth()).json["items"]
    assert [(h["agent_id"], h["mode"]) for h in history] == [("alice", "auto"), ("bob", "manual")]
    assert history[1]["reason"] == "manual: Cantonese-speaking partner team"
    second = payloads(app, "call.assigned")[1]
    assert (second["agent_kind"], second["partner_id"]) == ("partner", partner["id"])


def test_manual_reassignment_is_refused_to_an_unqualified_agent(app, client):
    project(app, "c1")
    schedule(client, create_plan(client)["id"], days=7)
    add_agent(client, "alice")
    add_agent(client, "visitor", channels=["visit"])
    [call] = calls_of(client)
    r = client.post(
        f"/api/v1/calls/{call['id']}/assignment",
        headers=auth(),
        json={"agent_id": "visitor", "reason": "try"},
    )
    assert r.status_code == 422 and "channel phone" in r.json["detail"]
    r = client.post(
        f"/api/v1/calls/{call['id']}/assignment",
        headers=auth(),
        json={"agent_id": "ghost", "reason": "try"},
    )
    assert r.status_code == 422 and "agent_id" in r.json["errors"]
    assert (
        client.post(
            "/api/v1/calls/nope/assignment",
            headers=auth(),
            json={"agent_id": "alice", "reason": "x"},
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/api/v1/calls/{call['id']}/assignment",
            headers=auth("agent"),
            json={"agent_id": "alice", "reason": "x"},
        ).status_code
        == 403
    )
    assert payloads(app, "call.assigned") == []


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/v1/partners", {"name": "CallCo", "fee_per_call": "25"}),
        (
            "/api/v1/agents",
            {"name": "Alice", "kind": "staff", "daily_capacity": 5, "rate_per_minute": "2"},
        ),
    ],
)
def test_creating_posts_are_idempotent_by_key(client, path, body):
    headers = {**auth(), "Idempotency-Key": "create-1"}
    first = client.post(path, headers=headers, json=body)
    again = client.post(path, headers=headers, json=body)
    assert (first.status_code, again.status_code) == (201, 201) and first.json == again.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(client.get(path, headers=auth()).json["items"]) == 1
    other = client.post(path, headers=headers, json={**body, "name": "Other"})
    assert other.status_code == 422 and other.content_type == "application/problem+json"
    assert len(client.get(path, headers=auth()).json["items"]) == 1
