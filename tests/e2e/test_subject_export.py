"""A data access request end to end, every process separate, states waited for.

One customer has calls planned for them, held by a partner who read their data and
recorded an outcome (with checklist answers) that opened a deal, won and sold
against. The customer service's export asks the calls and sales services by event;
their answers come back by event; the one downloaded document holds every call,
the assignment, the partner's reads, the deal with its stages and the sale with
its lines, beside the customer service's own records.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from shared.testing import wait_for
from tests.e2e.test_calls_optout import DAILY, calls_of
from tests.e2e.test_system import unique_phone

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
STAGES = ("lead", "qualified", "proposal", "negotiation", "won")
CHECKLIST = [{"id": "budget", "question": "Is there a budget this year?", "answer_type": "yes_no"}]


def partner_with_calls(client, seg) -> tuple[str, dict]:
    """A partner whose agent is the only one fit for the segment, a plan with a
    checklist, and a customer whose planned calls the partner then holds."""
    pid = client.post("calls", "/partners", json={"name": "CallCo", "fee_per_call": "20"})
    assert pid.status_code == 201, pid.text
    pid = pid.json()["id"]
    r = client.post(
        "calls",
        "/agents",
        json={
            "id": f"out-{seg}",
            "name": "Partner agent",
            "kind": "partner",
            "partner_id": pid,
            "languages": ["zh-HK", "en"],
            "segments": [seg],
            "channels": ["phone"],
            "trainings": [{"name": "pdpo", "expires_on": "2099-01-01"}],
            "daily_capacity": 500,
        },
    )
    assert r.status_code == 201, r.text
    plan = client.post(
        "calls",
        "/call-plans",
        json={
            "name": f"plan {seg}",
            "segment": seg,
            "channel": "phone",
            "rrule": DAILY,
            "checklist": CHECKLIST,
            "starts_at": datetime.now(UTC).isoformat(),
        },
    )
    assert plan.status_code == 201, plan.text
    made = client.post("customer", "/segments", json={"code": seg, "name": seg})
    assert made.status_code == 201, made.text
    phone = unique_phone()
    r = client.post(
        "customer", "/customers", json={"name": "Chan Tai Man", "phone": phone, "segment": seg}
    )
    assert r.status_code == 201, r.text
    customer = r.json()
    wait_for(
        lambda: calls_of(client, customer["id"], status="scheduled") or None,
        20,
        interval=0.2,
        message="calls planned for the new customer",
    )
    r = client.post("calls", "/calls/assign", json={"within_days": 60})
    assert r.status_code == 200 and r.json()["assigned"] >= 2, r.text
    return pid, customer


def test_one_request_downloads_everything_every_service_holds(running_system):
    client = running_system
    seg = f"e2e-{uuid.uuid4().hex[:8]}"
    pid, customer = partner_with_calls(client, seg)
    partner = {"headers": client.headers("partner", pid)}
    held = client.get("calls", "/partner/calls", params={"limit": 500}, **partner).json()
    spoken, read = [i["call"]["id"] for i in held["items"]][:2]
    assert client.get("calls", f"/partner/calls/{read}", **partner).status_code == 200
    r = client.post(
        "calls",
        f"/partner/calls/{spoken}/outcome",
        json={
            "outcome": "sale_opportunity",
            "duration_seconds": 420,
            "notes": "wants the family plan",
            "answers": {"budget": True},
            "opt_out_notice_given": True,
        },
        **partner,
    )
    assert r.status_code == 201, r.text

    def the_deal():
        got = client.get("sales", "/deals", params={"customer_id": customer["id"]}).json()
        return got["items"] or None

    [deal] = wait_for(the_deal, 20, message="the opportunity to open a deal in sales")
    for stage in STAGES[1:]:
        r = client.post("sales", f"/deals/{deal['id']}/stage", json={"to_stage": stage})
        assert r.status_code == 200, r.text
    sku = f"PLAN-{uuid.uuid4().hex[:6]}"
    r = client.post(
        "sales",
        "/products",
        json={
            "sku": sku,
            "name": "Family plan",
            "price": "299.00",
            "unit_cost": "120.00",
            "effective_from": "2025-01-01T00:00:00+00:00",
        },
    )
    assert r.status_code == 201, r.text
    sale = client.post(
        "sales",
        "/transactions",
        json={
            "customer_id": customer["id"],
            "deal_id": deal["id"],
            "lines": [{"sku": sku, "quantity": "2"}],
        },
    )
    assert sale.status_code == 201, sale.text

    r = client.post(
        "customer",
        f"/customers/{customer['id']}/exports",
        headers={**client.headers(), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 202, r.text
    job = r.json()

    def downloaded():
        got = client.get("customer", f"/customers/{customer['id']}/exports/{job['id']}")
        assert got.status_code == 200, got.text
        return got if got.json()["status"] == "complete" else None

    done = wait_for(downloaded, 30, interval=0.2, message="every service's contribution")
    assert done.headers["Content-Disposition"].startswith("attachment;")
    document = done.json()
    assert document["customer"]["profile"]["name"] == "Chan Tai Man"

    calls = {c["id"]: c for c in document["calls"]["calls"]}
    assert {c["id"] for c in calls_of(client, customer["id"])} == set(calls)
    assert (
        calls[spoken]["status"],
        calls[spoken]["outcome"],
        calls[spoken]["notes"],
        calls[spoken]["answers"],
        calls[spoken]["duration_seconds"],
    ) == ("completed", "sale_opportunity", "wants the family plan", {"budget": True}, 420)
    assert any(c["status"] == "scheduled" for c in calls.values())
    assert {a["call_id"] for a in document["calls"]["assignments"]} >= {spoken, read}
    reads = {
        (r["partner_id"], r["call_id"], r["endpoint"]) for r in document["calls"]["partner_reads"]
    }
    assert {(pid, read, "read"), (pid, spoken, "outcome")} <= reads
    assert all(r["read_at"] for r in document["calls"]["partner_reads"])

    [got_deal] = document["sales"]["deals"]
    assert (got_deal["id"], got_deal["stage"], got_deal["source_call_id"]) == (
        deal["id"],
        "won",
        spoken,
    )
    assert [s["stage"] for s in got_deal["stage_history"]] == list(STAGES)
    [got_sale] = document["sales"]["sales"]
    assert (got_sale["id"], got_sale["revenue"]) == (sale.json()["id"], sale.json()["revenue"])
    assert [(line["sku"], line["quantity"], line["unit_price"]) for line in got_sale["lines"]] == [
        (sku, "2.00", "299.00")
    ]
