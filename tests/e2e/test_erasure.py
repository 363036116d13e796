"""An erasure end to end, every process separate, through the real broker: a customer
registered, called by a partner (with notes), given a deal and a sale, is erased;
once ``customer.erased`` has flowed, no table of any service (sent outbox rows,
reporting's event log, the calls and sales projections, stored idempotent answers)
holds a value that identified them, and replaying the requests that answered with
their data gives 410 Gone. A partner's replay before the erasure is audited."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, inspect, select, table, text

from shared.testing import wait_for
from tests.e2e.test_system import ensure_segment, segment, unique_phone

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
DAILY = "FREQ=DAILY;BYHOUR=9,13,17;BYMINUTE=0"


def keyed(client, key, role="manager", partner_id=None):
    return {"headers": {**client.headers(role, partner_id), "Idempotency-Key": key}}


def stores(client) -> dict[str, str]:
    """Every row of every table of each service's database, as text."""
    out = {}
    for service, settings in client.system.settings.items():
        engine = create_engine(settings.database_url)
        try:
            with engine.connect() as conn:
                names = inspect(conn).get_table_names()
                out[service] = " ".join(
                    str(tuple(row))
                    for name in names
                    for row in conn.execute(select(text("*")).select_from(table(name)))
                )
        finally:
            engine.dispose()
    return out


def unsent(client, service, customer_id) -> int:
    engine = create_engine(client.system.settings[service].database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                text("SELECT count(*) FROM outbox WHERE sent_at IS NULL AND body LIKE :id"),
                {"id": f"%{customer_id}%"},
            ).scalar()
    finally:
        engine.dispose()


def test_an_erasure_reaches_every_store_of_every_service(running_system):
    client, tag = running_system, uuid.uuid4().hex[:8]
    seg = segment()
    ensure_segment(client, seg)
    person = {
        "name": f"Erasable {tag}",
        "phone": unique_phone(),
        "email": f"p{tag}@example.com",
        "segment": seg,
        "external_ref": f"ERP-{tag}",
    }
    personal = (
        person["name"],
        person["phone"],
        person["email"],
        person["external_ref"],
        f"notes {tag}",
        f"Deal for {tag}",
    )
    registered = client.post("customer", "/customers", json=person, **keyed(client, f"r{tag}"))
    assert registered.status_code == 201, registered.text
    customer_id = registered.json()["id"]

    partner = client.post("calls", "/partners", json={"name": f"P{tag}", "fee_per_call": "20"})
    assert partner.status_code == 201, partner.text
    pid = partner.json()["id"]
    r = client.post(
        "calls",
        "/agents",
        json={
            "id": f"out-{tag}",
            "name": f"out-{tag}",
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
            "starts_at": datetime.now(UTC).isoformat(),
        },
    )
    assert plan.status_code == 201, plan.text

    def held():
        client.post("calls", f"/call-plans/{plan.json()['id']}/schedule", json={"horizon_days": 3})
        client.post("calls", "/calls/assign", json={"within_days": 3})
        items = client.get(
            "calls", "/partner/calls", headers=client.headers("partner", pid), params={"limit": 500}
        ).json()["items"]
        return items or None

    call_id = wait_for(held, 20, interval=0.2, message="a call held by the partner")[0]["call"][
        "id"
    ]
    outcome = {
        "outcome": "reached",
        "satisfaction": 4,
        "propensity": 50,
        "duration_seconds": 120,
        "notes": f"notes {tag}",
    }

    def upload():
        return client.post(
            "calls",
            f"/partner/calls/{call_id}/outcome",
            json=outcome,
            **keyed(client, f"o{tag}", "partner", pid),
        )

    first = upload()
    assert first.status_code == 201 and first.json()["customer"]["name"] == person["name"]
    assert upload().json() == first.json()
    reads = client.get("calls", "/partner-reads", params={"partner_id": pid, "limit": 500})
    assert [r["endpoint"] for r in reads.json()["items"] if r["call_id"] == call_id][-2:] == [
        "outcome",
        "outcome-replay",
    ]  # after the list reads that found the call

    def deal():
        return client.post(
            "sales",
            "/deals",
            json={
                "customer_id": customer_id,
                "amount": "100.00",
                "title": f"Deal for {tag}",
            },
            **keyed(client, f"d{tag}", "agent"),
        )

    assert deal().status_code == 201
    sale = client.post(
        "sales",
        "/transactions",
        json={
            "customer_id": customer_id,
            "lines": [{"quantity": "1", "unit_price": "10", "unit_cost": "4"}],
        },
    )
    assert sale.status_code == 201, sale.text

    # Every service has the person, and every event about them has been sent.
    def spread():
        held_by = stores(client)
        return all(
            person["name"] in held_by[s] for s in ("customer", "calls", "sales", "reporting")
        ) and not any(unsent(client, s, customer_id) for s in ("customer", "calls", "sales"))

    wait_for(spread, 30, interval=0.2, message="the person known everywhere, events sent")

    r = client.post(
        "customer",
        f"/customers/{customer_id}/erasure",
        role="admin",
        json={"reason": "data subject request"},
    )
    assert r.status_code == 200, r.text

    def clean():
        left = {s: [v for v in personal if v in held] for s, held in stores(client).items()}
        assert not any(left.values()), left
        return True

    wait_for(clean, 30, interval=0.3, message="no personal value left in any service")
    held_by = stores(client)
    assert all(customer_id in held_by[s] for s in ("customer", "calls", "sales", "reporting"))

    replays = {
        "registration": client.post(
            "customer", "/customers", json=person, **keyed(client, f"r{tag}")
        ),
        "partner outcome": upload(),
        "deal": deal(),
    }
    for what, replay in replays.items():
        assert replay.status_code == 410, (what, replay.text)
        assert replay.headers["Content-Type"] == "application/problem+json"
        assert not [v for v in personal if v in replay.text], what
