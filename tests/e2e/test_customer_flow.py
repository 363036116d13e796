"""The customer service end to end, every process separate: a consent withdrawal
is announced on the broker as ``customer.opted_out``; a referral named on a call
becomes a prospect; the import command line loads a file through the API."""

from __future__ import annotations

import json
import uuid

import pika
import pytest

from services.customer.cli import import_file
from shared.auth import issue_token
from shared.testing import wait_for
from tests.e2e.test_system import register, scheduled_calls, segment

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


@pytest.fixture
def opt_outs(running_system, amqp_url):
    """Messages the system publishes as ``customer.opted_out``, read from a queue
    of the test's own bound to the system's exchange."""
    exchange = f"{running_system.system.env['RAPPORT_NAMESPACE']}.events"
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = conn.channel()
    queue = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
    channel.queue_bind(queue, exchange, routing_key="customer.opted_out.v1")

    def received():
        bodies = []
        while True:
            method, _, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                return bodies
            bodies.append(json.loads(body))

    yield received
    conn.close()


def test_a_consent_withdrawal_is_announced_at_once(running_system, opt_outs):
    client = running_system
    customer = register(client, segment(), phone="6234 5678", name="Ho Ka Yan")
    url = f"/customers/{customer['id']}/consents"
    body = {
        "channel": "phone",
        "purpose": "insurance",
        "source": "web form",
        "notice_version": "2026-01",
    }
    assert client.post("customer", url, json={**body, "status": "granted"}).status_code == 201
    assert client.post("customer", url, json={**body, "status": "withdrawn"}).status_code == 201
    events = wait_for(lambda: opt_outs() or None, 10, message="customer.opted_out on the broker")
    [event] = [e for e in events if e["payload"]["customer_id"] == customer["id"]]
    assert (event["payload"]["channel"], event["payload"]["purpose"]) == ("phone", "insurance")


def test_a_referral_on_a_call_becomes_a_prospect(running_system):
    client = running_system
    seg = segment()
    customer = register(client, seg, phone="6234 5679", name="Yip Wing Kin")
    call = scheduled_calls(client, seg, customer["id"])[0]
    r = client.post(
        "calls",
        f"/calls/{call['id']}/outcome",
        role="agent",
        json={
            "outcome": "reached",
            "satisfaction": 5,
            "propensity": 60,
            "duration_seconds": 200,
            "opt_out_notice_given": True,
            "referrals": [{"name": "Yip Siu Fong", "phone": "6234 5680", "note": "his sister"}],
        },
    )
    assert r.status_code == 201, r.text

    def prospect():
        found = client.get("customer", "/customers", params={"phone": "+85262345680"}).json()[
            "items"
        ]
        return found[0] if found else None

    found = wait_for(prospect, 10, message="the referral as a prospect")
    assert (found["name"], found["lifecycle_status"], found["source"], found["segment"]) == (
        "Yip Siu Fong",
        "prospect",
        "referral",
        seg,
    )
    assert found["referred_by_call_id"] == call["id"]


def test_the_import_command_loads_a_file_through_the_api(running_system, tmp_path):
    client = running_system
    seg = segment()
    client.post("customer", "/segments", json={"code": seg, "name": seg})
    tag = uuid.uuid4().hex[:6]
    rows = (
        ["external_ref,name,phone,segment"]
        + [f"{tag}-{i},Imported Customer {i},+852512{i:05d},{seg}" for i in range(1, 301)]
        + [f"{tag}-bad,Bad Phone,123,{seg}"]
    )
    path = tmp_path / "customers.csv"
    path.write_text("\n".join(rows) + "\n")
    token = issue_token(client.secret, "admin-cli", "manager")
    job = import_file(client.system.api_url("customer"), token, path, quiet=True)
    assert (job["status"], job["created"], job["rejected"]) == ("done", 300, 1)
    listed = client.get("customer", "/customers", params={"segment": seg, "limit": 500})
    assert len(listed.json()["items"]) == 300
