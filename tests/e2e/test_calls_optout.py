"""An opt-out end to end, every process separate: a customer registered through the
customer service gets calls by event, some held by a partner; its opt-out on the bus
cancels every pending call within seconds (the partner loses them too, and sees
``call.cancelled``), and nothing new is scheduled for it afterwards.

The opt-out is published on the bus as the customer service publishes it, so this
test does not depend on the customer service's consent API."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pika
import pytest

from shared.events import make_event
from shared.messaging.topology import Names
from shared.testing import wait_for
from tests.e2e.test_system import unique_phone

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
DAILY = "FREQ=DAILY;BYHOUR=9,11,13,15,17;BYMINUTE=0"


def publish(client, amqp_url, event) -> None:
    names = Names(client.system.env["RAPPORT_NAMESPACE"])
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = conn.channel()
        channel.confirm_delivery()
        channel.basic_publish(
            names.exchange,
            event.routing_key,
            event.to_json(),
            pika.BasicProperties(
                delivery_mode=2, message_id=event.event_id, content_type="application/json"
            ),
            mandatory=True,
        )
    finally:
        conn.close()


def calls_of(client, customer_id, role="manager", **params):
    r = client.get(
        "calls", "/calls", role=role, params={"customer_id": customer_id, "limit": 500, **params}
    )
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_an_opt_out_cancels_pending_calls_including_a_partners_and_blocks_new_ones(
    running_system, amqp_url
):
    client = running_system
    seg = f"e2e-{uuid.uuid4().hex[:8]}"
    partner = client.post("calls", "/partners", json={"name": "CallCo", "fee_per_call": "20"})
    assert partner.status_code == 201, partner.text
    pid = partner.json()["id"]
    skills = {
        "languages": ["zh-HK", "en"],
        "segments": [seg],
        "channels": ["phone"],
        "trainings": [{"name": "pdpo", "expires_on": "2099-01-01"}],
        "daily_capacity": 500,
    }
    for agent in (
        {"id": f"staff-{seg}", "kind": "staff", "rate_per_minute": "2"},
        {"id": f"out-{seg}", "kind": "partner", "partner_id": pid},
    ):
        r = client.post("calls", "/agents", json={"name": agent["id"], **skills, **agent})
        assert r.status_code == 201, r.text
    plan = client.post(
        "calls",
        "/call-plans",
        json={
            "name": f"plan {seg}",
            "segment": seg,
            "channel": "phone",
            "rrule": DAILY,
            "starts_at": datetime.now(UTC).isoformat(),
        },
    )
    assert plan.status_code == 201, plan.text
    plan_id = plan.json()["id"]
    # Newer customer services know segments by code before profiles may use them.
    made = client.post("customer", "/segments", json={"code": seg, "name": seg})
    assert made.status_code in (201, 404, 405), made.text
    phone = unique_phone()
    r = client.post(
        "customer", "/customers", json={"name": "Chan Tai Man", "phone": phone, "segment": seg}
    )
    assert r.status_code == 201, r.text
    customer = r.json()

    # The calls service learns of the customer by event and plans its calls itself.
    pending = wait_for(
        lambda: calls_of(client, customer["id"], status="scheduled") or None,
        20,
        interval=0.2,
        message="calls planned for the new customer",
    )
    r = client.post("calls", "/calls/assign", json={"within_days": 60})
    assert r.status_code == 200 and r.json()["assigned"] >= 2, r.text
    partner_token = {"headers": client.headers("partner", pid)}
    held = client.get("calls", "/partner/calls", params={"limit": 500}, **partner_token).json()
    held_ids = {i["call"]["id"] for i in held["items"]}
    assert held_ids and held_ids <= {c["id"] for c in pending}

    publish(
        client,
        amqp_url,
        make_event(
            "customer.opted_out",
            {
                "customer_id": customer["id"],
                "channel": "phone",
                "purpose": None,
                "reason": "consent_withdrawn",
                "opted_out_at": datetime.now(UTC),
            },
            producer="customer",
        ),
    )
    wait_for(
        lambda: not calls_of(client, customer["id"], status="scheduled"),
        10,
        interval=0.1,
        message="every pending call cancelled",
    )
    cancelled = calls_of(client, customer["id"], status="cancelled")
    assert {c["id"] for c in cancelled} >= {c["id"] for c in pending}
    assert {c["cancel_reason"] for c in cancelled} == {"opted_out"}
    left = client.get("calls", "/partner/calls", params={"limit": 500}, **partner_token).json()
    assert not {i["call"]["id"] for i in left["items"]} & held_ids
    some = next(iter(held_ids))
    gone = client.get("calls", f"/partner/calls/{some}", **partner_token)
    assert gone.status_code == 404

    again = client.post("calls", f"/call-plans/{plan_id}/schedule", json={"horizon_days": 60})
    assert again.status_code == 200 and again.json()["created"] == 0, again.text
    assert again.json()["no_consent"] > 0
    assert calls_of(client, customer["id"], status="scheduled") == []
