"""Webhooks end to end, every process separate: assignments made through the API
become events, the calls consumer writes their deliveries, and the relay's
``deliver-webhooks`` job sends them to a real HTTP server on loopback. The server
is down for a while (connections refused, retried on a moved clock, so no waiting
for the backoff) and then gets every notification exactly once, signed; each
partner gets only its own calls."""

from __future__ import annotations

import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.clock import set_offset
from shared.testing import wait_for
from tests.calls.webhook_receiver import Receiver, verify
from tests.e2e.conftest import DATABASES, start_system
from tests.e2e.test_system import unique_phone

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
OFFSET = Path(tempfile.mkdtemp(prefix="rapport-clock-")) / "offset"
SYSTEM_ENV = {"CALLS_WEBHOOK_ALLOW_PRIVATE": "1", "RAPPORT_CLOCK_OFFSET_FILE": str(OFFSET)}
DAILY = "FREQ=DAILY;BYHOUR=9,11,13,15,17;BYMINUTE=0"


def deliveries(client, sub, headers):
    """Every delivery of the subscription, page by page."""
    found, cursor = [], None
    while True:
        params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        r = client.get("calls", f"/webhooks/{sub['id']}/deliveries", params=params, headers=headers)
        assert r.status_code == 200, r.text
        found += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return found


def setup_world(client, seg):
    partners = []
    skills = {
        "languages": ["zh-HK", "en"],
        "segments": [seg],
        "channels": ["phone"],
        "trainings": [{"name": "pdpo", "expires_on": "2099-01-01"}],
        "daily_capacity": 500,
    }
    for name in ("A", "B"):
        r = client.post("calls", "/partners", json={"name": f"{name}-{seg}", "fee_per_call": "20"})
        assert r.status_code == 201, r.text
        partners.append(r.json()["id"])
        r = client.post(
            "calls",
            "/agents",
            json={
                "id": f"{name}-{seg}",
                "name": name,
                **skills,
                "kind": "partner",
                "partner_id": partners[-1],
            },
        )
        assert r.status_code == 201, r.text
    # Calls from the day after tomorrow: a clock moved by minutes misses none of them.
    r = client.post(
        "calls",
        "/call-plans",
        json={
            "name": f"plan {seg}",
            "segment": seg,
            "channel": "phone",
            "rrule": DAILY,
            "starts_at": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    plan_id = r.json()["id"]
    client.post("customer", "/segments", json={"code": seg, "name": seg})
    for n in range(2):
        r = client.post(
            "customer",
            "/customers",
            json={
                "name": f"Chan {n}",
                "phone": unique_phone(),
                "segment": seg,
            },
        )
        assert r.status_code == 201, r.text
    return partners, plan_id


def planned_customers(client, plan_id):
    r = client.get("calls", "/calls", params={"limit": 500, "plan_id": plan_id})
    assert r.status_code == 200, r.text
    return len({c["customer_id"] for c in r.json()["items"]})


@pytest.fixture(scope="module", params=DATABASES)
def running_system(request, amqp_url, tmp_path_factory):
    """A system of this module's own: private webhook targets and a clock it moves."""
    yield from start_system(request, amqp_url, tmp_path_factory, SYSTEM_ENV)


def test_a_receiver_down_for_a_while_then_gets_every_notification_once_signed(running_system):
    client, receiver = running_system, Receiver()
    receiver.down()
    set_offset(OFFSET, timedelta(0))  # the other database's run may have moved it
    seg = f"wh-{uuid.uuid4().hex[:8]}"
    (a, b), plan_id = setup_world(client, seg)
    heads = {
        "internal": client.headers(),
        "a": client.headers("partner", a),
        "b": client.headers("partner", b),
    }
    subs = {}
    for name, kinds in (
        ("internal", ["call.assigned"]),
        ("a", ["call.assigned"]),
        ("b", ["call.assigned"]),
    ):
        r = client.post(
            "calls",
            "/webhooks",
            headers=heads[name],
            json={"url": f"{receiver.base}/{name}", "kinds": kinds},
        )
        assert r.status_code == 201, r.text
        subs[name] = r.json()
    wait_for(
        lambda: planned_customers(client, plan_id) == 2,
        30,
        interval=0.2,
        message="both customers' calls planned, by event",
    )
    r = client.post("calls", "/calls/assign", json={"within_days": 60})
    assert r.status_code == 200 and r.json()["assigned"] >= 2, r.text
    held = {
        name: {
            i["call"]["id"]
            for i in client.get(
                "calls", "/partner/calls", params={"limit": 500}, headers=heads[name]
            ).json()["items"]
        }
        for name in ("a", "b")
    }
    assert held["a"] and held["b"]
    total = len(held["a"]) + len(held["b"])

    def tried(times):
        rows = deliveries(client, subs["internal"], heads["internal"])
        return len(rows) >= total and all(d["attempts"] >= times for d in rows) and rows

    rows = wait_for(lambda: tried(1), 60, interval=0.5, message="first attempts refused")
    assert {d["status"] for d in rows} == {"pending"}
    assert all("Connection" in d["last_error"] for d in rows)
    set_offset(OFFSET, timedelta(minutes=15))  # past the first backoff: refused again
    wait_for(lambda: tried(2), 30, interval=0.5, message="second attempts refused")

    receiver.up()
    set_offset(OFFSET, timedelta(minutes=45))
    for name, expected in (("internal", total), ("a", len(held["a"])), ("b", len(held["b"]))):
        wait_for(
            lambda: (
                {d["status"] for d in deliveries(client, subs[name], heads[name])} == {"delivered"}
            ),
            30,
            interval=0.5,
            message=f"{name}: every one delivered",
        )
        assert len(deliveries(client, subs[name], heads[name])) == expected
    for name in ("a", "b"):
        assert {b["data"]["call_id"] for b in receiver.bodies(f"/{name}")} == held[name]
    assert len(receiver.bodies("/internal")) == total
    for name in subs:
        assert set(receiver.times_each(f"/{name}").values()) == {1}
    for path, headers, body in receiver.received:
        assert verify(subs[path.strip("/")]["secret"], headers, body)
    receiver.down()
