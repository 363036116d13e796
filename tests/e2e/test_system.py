"""The walking skeleton end to end, every process separate, states waited for.

create customer → plan → schedule → outcome → the profile, the timeline and the
activity report show it; a sale shows in reporting's P&L; a broker outage while
outcomes are recorded loses nothing and applies nothing twice.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from shared.testing import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


BUSINESS_HOURS = "FREQ=DAILY;BYHOUR=9,10,11,12,13,14,15,16,17;BYMINUTE=0"


def segment() -> str:
    return f"e2e-{uuid.uuid4().hex[:8]}"


def unique_phone() -> str:
    """A valid Hong Kong mobile number (97…) that none of these tests' fixed phones
    uses, drawn from a million: registration refuses a second customer with a phone
    on file, and one system is shared by the session's tests."""
    return f"97{uuid.uuid4().int % 10**6:06d}"


def ensure_segment(client, seg):
    r = client.post("customer", "/segments", json={"code": seg, "name": f"Segment {seg}"})
    assert r.status_code in (201, 409), r.text


def register(client, seg, phone="9123 4567", name="Chan Tai Man", **fields):
    ensure_segment(client, seg)
    r = client.post(
        "customer", "/customers", json={"name": name, "phone": phone, "segment": seg, **fields}
    )
    assert r.status_code == 201, r.text
    return r.json()


def scheduled_calls(
    client, seg, customer_id, rrule="FREQ=DAILY;BYHOUR=10;BYMINUTE=0", horizon=3, expected=1
):
    plan = client.post(
        "calls",
        "/call-plans",
        json={
            "name": f"plan {seg}",
            "segment": seg,
            "channel": "phone",
            "rrule": rrule,
            "starts_at": datetime.now(UTC).isoformat(),
        },
    )
    assert plan.status_code == 201, plan.text

    def calls():
        # The calls service learns of the customer by event: schedule until it has.
        r = client.post(
            "calls", f"/call-plans/{plan.json()['id']}/schedule", json={"horizon_days": horizon}
        )
        assert r.status_code in (200, 201), r.text
        got = client.get("calls", "/calls", params={"customer_id": customer_id, "limit": 500})
        return got.json()["items"] if len(got.json()["items"]) >= expected else None

    return wait_for(calls, 15, interval=0.2, message="calls scheduled for the new customer")


def activity_totals(client):
    today = datetime.now(UTC).date()
    r = client.get(
        "reporting",
        "/reports/activity",
        role="analyst",
        params={"from": str(today - timedelta(days=2)), "to": str(today + timedelta(days=2))},
    )
    assert r.status_code == 200, r.text
    return r.json()["totals"]


def test_skeleton_end_to_end(running_system):
    client = running_system
    seg = segment()
    customer = register(client, seg)
    assert customer["phone"] == "+85291234567"
    calls = scheduled_calls(client, seg, customer["id"])
    before = activity_totals(client)["outcomes"].get("reached", 0)

    r = client.post(
        "calls",
        f"/calls/{calls[0]['id']}/outcome",
        role="agent",
        json={"outcome": "reached", "satisfaction": 4, "propensity": 80, "duration_seconds": 240},
    )
    assert r.status_code == 201, r.text

    def profile_updated():
        p = client.get("customer", f"/customers/{customer['id']}").json()
        return p if p["calls_completed"] == 1 else None

    profile = wait_for(profile_updated, 10, message="the profile to show the call")
    assert (profile["satisfaction"], profile["propensity"]) == (4, 80)
    assert profile["last_contacted_at"] is not None
    timeline = client.get("customer", f"/customers/{customer['id']}/activities").json()["items"]
    assert [(a["kind"], a["summary"]["outcome"]) for a in timeline] == [("call", "reached")]
    wait_for(
        lambda: activity_totals(client)["outcomes"].get("reached", 0) == before + 1,
        10,
        message="the activity report to count the call",
    )

    # Sales refuses lines of unknown products: the product goes in the catalogue first.
    product = client.post(
        "sales",
        "/products",
        json={
            "sku": "TEA-1",
            "name": "Jasmine tea",
            "price": "19.99",
            "unit_cost": "7.50",
            "effective_from": "2025-01-01T00:00:00+00:00",
        },
    )
    assert product.status_code in (201, 409), product.text
    sale = client.post(
        "sales",
        "/transactions",
        role="agent",
        json={
            "customer_id": customer["id"],
            "currency": "HKD",
            "lines": [
                {"sku": "TEA-1", "quantity": "3", "unit_price": "19.99", "unit_cost": "7.50"}
            ],
        },
    )
    assert sale.status_code == 201, sale.text

    def pnl_row():
        r = client.get("reporting", "/reports/pnl", role="analyst", params={"currency": "HKD"})
        rows = [s for s in r.json()["segments"] if s["segment"] == seg]
        return rows[0] if rows else None

    row = wait_for(pnl_row, 10, message="the sale in reporting's P&L")
    assert (Decimal(row["revenue"]), Decimal(row["cost"]), Decimal(row["margin"])) == (
        Decimal("59.97"),
        Decimal("22.50"),
        Decimal("37.47"),
    )


def test_broker_outage_while_recording_outcomes_loses_nothing(running_system):
    client = running_system
    seg = segment()
    customer = register(client, seg, phone="9123 4568")
    calls = scheduled_calls(
        client, seg, customer["id"], rrule=BUSINESS_HOURS, horizon=7, expected=40
    )[:40]
    before = activity_totals(client)["completed"]
    for i, call in enumerate(calls):
        if i == 10:
            client.proxy.cut()  # every AMQP connection dropped, new ones refused
        if i == 30:
            client.proxy.restore()
        r = client.post(
            "calls",
            f"/calls/{call['id']}/outcome",
            role="agent",
            json={"outcome": "no_answer", "duration_seconds": 30},
        )
        assert r.status_code == 201, r.text
    client.proxy.restore()

    def all_applied():
        p = client.get("customer", f"/customers/{customer['id']}").json()
        return p["calls_completed"] == 40

    wait_for(all_applied, 60, interval=0.25, message="all 40 outcomes on the profile")
    timeline = client.get(
        "customer", f"/customers/{customer['id']}/activities", params={"limit": 100}
    ).json()["items"]
    assert len(timeline) == 40
    assert len({a["summary"]["call_id"] for a in timeline}) == 40
    wait_for(
        lambda: activity_totals(client)["completed"] - before == 40,
        30,
        message="reporting to count all 40, once each",
    )


@pytest.mark.parametrize(
    "service, path, body, field",
    [
        ("customer", "/customers", {"name": "A", "phone": "12", "segment": "smb"}, "phone"),
        ("customer", "/customers", {"name": "A", "phone": "91234567"}, "segment"),
        ("customer", "/customers", {"name": 7, "phone": "91234567", "segment": "smb"}, "name"),
        (
            "customer",
            "/customers",
            {"name": "A", "phone": "91234567", "segment": "smb", "vip": True},
            "vip",
        ),
        (
            "sales",
            "/transactions",
            {
                "customer_id": "c",
                "lines": [{"quantity": "-1", "unit_price": "1", "unit_cost": "1"}],
            },
            "lines",
        ),
    ],
)
def test_bad_input_is_a_problem_and_writes_nothing(running_system, service, path, body, field):
    client = running_system
    count = lambda: len(client.get(service, path, params={"limit": 500}).json()["items"])  # noqa: E731
    before = count()
    r = client.post(service, path, json=body)
    assert r.status_code == 422 and r.headers["Content-Type"] == "application/problem+json"
    assert field in r.json()["errors"]
    assert count() == before


def test_malformed_json_and_missing_or_forged_tokens(running_system):
    client = running_system
    r = client.post(
        "customer",
        "/customers",
        data="{oops",
        headers={**client.headers(), "Content-Type": "application/json"},
    )
    assert r.status_code == 400 and r.headers["Content-Type"] == "application/problem+json"
    for headers in ({}, {"Authorization": "Bearer forged.token.here"}):
        r = client.post("calls", "/call-plans", json={}, headers=headers)
        assert r.status_code == 401 and r.headers["Content-Type"] == "application/problem+json"


def test_satisfaction_out_of_range_is_refused_and_the_call_stays_open(running_system):
    client = running_system
    seg = segment()
    customer = register(client, seg, phone="9123 4569")
    call = scheduled_calls(client, seg, customer["id"])[0]
    r = client.post(
        "calls",
        f"/calls/{call['id']}/outcome",
        role="agent",
        json={"outcome": "reached", "satisfaction": 7, "propensity": 50},
    )
    assert r.status_code == 422 and "satisfaction" in r.json()["errors"]
    assert client.get("calls", f"/calls/{call['id']}").json()["status"] == "scheduled"


def test_every_process_reports_health_and_metrics(running_system):
    import requests

    for proc in running_system.system.procs.values():
        base = f"http://127.0.0.1:{proc.port}"
        assert requests.get(f"{base}/healthz", timeout=5).status_code == 200
        assert requests.get(f"{base}/readyz", timeout=5).status_code == 200
        assert requests.get(f"{base}/metrics", timeout=5).status_code == 200
    from prometheus_client.parser import text_string_to_metric_families

    metrics = requests.get(f"{running_system.system.api_url('calls')}/metrics", timeout=5).text
    samples = {
        (sample.name, sample.labels.get("service"))
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
    }  # gunicorn's workers, in multiprocess mode
    assert {
        ("rapport_http_requests_total", "calls"),
        ("rapport_outbox_pending_events", "calls"),
    } <= samples
    relay = running_system.system.procs["calls-relay"]
    business = requests.get(f"http://127.0.0.1:{relay.port}/metrics", timeout=10).text
    for name in (
        "rapport_calls_due_today_calls",
        "rapport_coverage_targeted_customers",
        'rapport_periodic_job_interval_seconds{job="missed-calls",service="calls"}',
    ):
        assert name in business


def test_every_process_logs_json_lines_only(running_system):
    """What the API (gunicorn's master and workers), consumer and relay of every
    service wrote, stdout and stderr both, is JSON lines naming the service."""
    import json

    system = running_system.system
    for proc in system.procs.values():
        lines = (system.log_dir / f"{proc.name}.log").read_text().splitlines()
        assert lines, proc.name
        records = [json.loads(line) for line in lines]
        assert {r["service"] for r in records} == {proc.service}, proc.name
        assert {r["process_role"] for r in records} == {proc.role}, proc.name
    assert running_system.http.get(f"{system.api_url('calls')}/metrics", timeout=10).ok

    def access_line():
        api = [
            json.loads(line) for line in (system.log_dir / "calls-api.log").read_text().splitlines()
        ]
        return any(r["logger"] == "gunicorn.access" and r["path"] == "/metrics" for r in api)

    wait_for(access_line, 10, message="gunicorn's access line for /metrics")
