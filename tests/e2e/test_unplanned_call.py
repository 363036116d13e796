"""Customer search and an unplanned call end to end, every process separate: a
customer registered through the customer service is found by a partial accented
name and by its phone in another format; an inbound call an agent logs against it
(once the calls service has learnt of it by event) reaches its profile and timeline
and reporting's activity report like any outcome."""

from __future__ import annotations

import pytest

from shared.testing import wait_for
from tests.e2e.test_system import activity_totals, register, segment

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def test_a_searched_customer_calls_in_and_the_call_flows_like_any_outcome(running_system):
    client = running_system
    seg = segment()
    customer = register(client, seg, phone="6345 1278", name=f"CHÂN Tài Man {seg}")
    found = client.get(
        "customer", "/customers", role="agent", params={"q": f"chan tai {seg}"}
    ).json()["items"]
    assert [c["id"] for c in found] == [customer["id"]]
    by_phone = client.get(
        "customer", "/customers", role="agent", params={"q": "+852 6345-1278"}
    ).json()["items"]
    assert customer["id"] in [c["id"] for c in by_phone]
    before = activity_totals(client)["outcomes"].get("reached", 0)

    body = {
        "customer_id": customer["id"],
        "channel": "phone",
        "direction": "inbound",
        "outcome": "reached",
        "satisfaction": 5,
        "propensity": 70,
        "duration_seconds": 180,
        "notes": "called about the renewal",
    }

    def logged():
        # The calls service learns of the customer by event: 404 until it has.
        r = client.post("calls", "/calls/unplanned", role="agent", json=body)
        assert r.status_code in (201, 404), r.text
        return r.json() if r.status_code == 201 else None

    call = wait_for(logged, 15, interval=0.2, message="the calls service to know the customer")
    assert (call["kind"], call["status"]) == ("inbound", "completed")

    def profile_updated():
        p = client.get("customer", f"/customers/{customer['id']}").json()
        return p if p["calls_completed"] == 1 else None

    profile = wait_for(profile_updated, 10, message="the profile to show the call")
    assert (profile["satisfaction"], profile["propensity"]) == (5, 70)
    timeline = client.get("customer", f"/customers/{customer['id']}/activities").json()["items"]
    assert [(a["kind"], a["summary"]["outcome"]) for a in timeline] == [("call", "reached")]
    wait_for(
        lambda: activity_totals(client)["outcomes"].get("reached", 0) == before + 1,
        10,
        message="the activity report to count the inbound call",
    )
