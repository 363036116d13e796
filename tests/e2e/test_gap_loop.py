"""The missing-data loop end to end, every process separate: the gaps found when a
new customer registers (announced before ``customer.registered`` itself) reach its
first call's checklist; the value the agent confirms becomes a profile version with
source ``call``, resolves the data-quality item, and later calls ask for nothing."""

from __future__ import annotations

import uuid

import pytest

from shared.auth import issue_token
from shared.testing import wait_for
from tests.e2e.test_system import register, scheduled_calls, segment

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def incomplete_items(client, customer_id, status):
    r = client.get(
        "customer",
        "/data-quality",
        params={"rule": "incomplete", "customer_id": customer_id, "status": status},
    )
    assert r.status_code == 200, r.text
    return r.json()["items"]


def as_agent(client, agent_id):
    return {"Authorization": f"Bearer {issue_token(client.secret, agent_id, 'agent')}"}


def queued(client, agent_id, call_id):
    r = client.get("calls", "/queue", headers=as_agent(client, agent_id), params={"limit": 500})
    assert r.status_code == 200, r.text
    return next((item for item in r.json()["items"] if item["call"]["id"] == call_id), None)


def test_gaps_reach_the_first_call_and_the_confirmed_value_closes_them(running_system):
    client = running_system
    seg = segment()
    assert (
        client.post(
            "customer",
            "/segments",
            json={"code": seg, "name": seg, "required_fields": ["phone", "email"]},
        ).status_code
        == 201
    )
    customer = register(client, seg, phone="6345 1234", name="Lam Siu Ming")
    assert client.post("customer", "/data-quality/scan").status_code == 200
    [item] = incomplete_items(client, customer["id"], "open")
    agent = f"agent-{uuid.uuid4().hex[:8]}"
    assert (
        client.post(
            "calls",
            "/agents",
            json={
                "id": agent,
                "name": "Agent",
                "kind": "staff",
                "daily_capacity": 50,
                "rate_per_minute": "1",
                "channels": ["phone"],
                "segments": [seg],
                "trainings": [{"name": "basics", "expires_on": "2099-12-31"}],
            },
        ).status_code
        == 201
    )
    first, second = scheduled_calls(client, seg, customer["id"], expected=2)[:2]
    assert (
        client.post(
            "calls", "/calls/assign", json={"call_ids": [first["id"], second["id"]]}
        ).json()["assigned"]
        == 2
    )

    entry = wait_for(
        lambda: (q := queued(client, agent, first["id"])) and q["items_to_confirm"] and q,
        15,
        message="the customer's gaps on the first call's checklist",
    )
    assert entry["items_to_confirm"] == ["email"]
    r = client.post(
        "calls",
        f"/calls/{first['id']}/outcome",
        headers=as_agent(client, agent),
        json={
            "outcome": "reached",
            "satisfaction": 4,
            "propensity": 50,
            "duration_seconds": 120,
            "opt_out_notice_given": True,
            "confirmed_fields": {"email": "Lam.SM@Example.com"},
        },
    )
    assert r.status_code == 201, r.text

    def confirmed_version():
        versions = client.get("customer", f"/customers/{customer['id']}/history").json()
        return next((v for v in versions["items"] if v["source"] == "call"), None)

    version = wait_for(confirmed_version, 15, message="a profile version from the call")
    assert (version["actor"], version["reason"]) == (agent, f"confirmed on call {first['id']}")
    profile = client.get("customer", f"/customers/{customer['id']}").json()
    assert profile["email"] == "lam.sm@example.com"
    assert profile["completeness"] == {"score": 1.0, "missing": []}
    [resolved] = wait_for(
        lambda: incomplete_items(client, customer["id"], "resolved"),
        15,
        message="the incomplete item resolved",
    )
    assert (resolved["id"], resolved["resolved_by"]) == (item["id"], agent)
    assert queued(client, agent, second["id"])["items_to_confirm"] == []
