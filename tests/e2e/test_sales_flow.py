"""The sales cycle end to end, every process separate, states waited for.

A call with the outcome ``sale_opportunity`` opens one deal in sales; the deal is
won and a sale recorded against it; the sale shows in the sales P&L (with the
call's cost to serve) and in reporting's P&L, and in the customer's lifetime
revenue where the customer profile keeps one.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from shared.testing import wait_for
from tests.e2e.test_system import register, scheduled_calls, segment

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def test_an_opportunity_becomes_a_deal_and_its_sale_reaches_the_pnls(running_system):
    client = running_system
    seg = segment()
    customer = register(client, seg, phone="9123 4570", name="Lee Siu Ming")
    call = scheduled_calls(client, seg, customer["id"])[0]
    r = client.post(
        "calls",
        f"/calls/{call['id']}/outcome",
        role="agent",
        json={"outcome": "sale_opportunity", "duration_seconds": 300},
    )
    assert r.status_code == 201, r.text

    def the_deal():
        got = client.get("sales", "/deals", params={"customer_id": customer["id"]}).json()
        return got["items"] or None

    [deal] = wait_for(the_deal, 15, message="the opportunity to open a deal in sales")
    assert (deal["stage"], deal["source_call_id"], deal["segment"]) == ("lead", call["id"], seg)

    for stage in ("qualified", "proposal", "negotiation", "won"):
        r = client.post(
            "sales", f"/deals/{deal['id']}/stage", role="agent", json={"to_stage": stage}
        )
        assert r.status_code == 200, r.text
    illegal = client.post("sales", f"/deals/{deal['id']}/stage", json={"to_stage": "lead"})
    assert illegal.status_code == 409
    assert illegal.headers["Content-Type"] == "application/problem+json"

    sku = f"TEA-{uuid.uuid4().hex[:6]}"
    r = client.post(
        "sales",
        "/products",
        json={
            "sku": sku,
            "name": "Oolong",
            "price": "19.99",
            "unit_cost": "7.50",
            "effective_from": "2025-01-01T00:00:00+00:00",
        },
    )
    assert r.status_code == 201, r.text
    key = {"Idempotency-Key": f"sale-{uuid.uuid4()}"}
    body = {
        "customer_id": customer["id"],
        "deal_id": deal["id"],
        "lines": [{"sku": sku, "quantity": "3", "discount": "0.97"}],
    }
    sale = client.post(
        "sales",
        "/transactions",
        role="agent",
        json=body,
        headers={**client.headers("agent"), **key},
    )
    assert sale.status_code == 201, sale.text
    again = client.post(
        "sales",
        "/transactions",
        role="agent",
        json=body,
        headers={**client.headers("agent"), **key},
    )
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert (sale.json()["revenue"], sale.json()["discount"], sale.json()["cost"]) == (
        "59.00",
        "0.97",
        "22.50",
    )
    assert sale.json()["source_call_id"] == call["id"]

    pnl = client.get(
        "sales", "/pnl", role="analyst", params={"group_by": "customer", "currency": "HKD"}
    ).json()
    [mine] = [g for g in pnl["groups"] if g["key"] == customer["id"]]
    assert (mine["revenue"], mine["discounts"], mine["cost_of_goods"], mine["calls"]) == (
        "59.97",
        "0.97",
        "22.50",
        1,
    )
    assert Decimal(mine["net_contribution"]) == Decimal("36.50") - Decimal(mine["cost_to_serve"])

    def reporting_row():
        r = client.get("reporting", "/reports/pnl", role="analyst", params={"currency": "HKD"})
        rows = [s for s in r.json()["segments"] if s["segment"] == seg]
        return rows[0] if rows else None

    row = wait_for(reporting_row, 15, message="the sale in reporting's P&L")
    assert (Decimal(row["revenue"]), Decimal(row["cost"]), Decimal(row["margin"])) == (
        Decimal("59.00"),
        Decimal("22.50"),
        Decimal("36.50"),
    )

    def reconciled_with_the_ledger():
        # The ledger's day totals travel through the sales relay and the broker too.
        r = client.get(
            "reporting",
            "/reports/pnl",
            role="analyst",
            params={"currency": "HKD", "group_by": "day"},
        ).json()["reconciliation"]
        return r if r["balanced"] and r["ledger"]["days_published"] else None

    ledger = wait_for(
        reconciled_with_the_ledger,
        30,
        message="reporting's P&L to reconcile with the ledger's day totals",
    )
    assert ledger["ledger"]["differences"] == []

    profile = client.get("customer", f"/customers/{customer['id']}").json()
    if "lifetime_revenue" in profile:  # the customer service keeps it from sale events

        def revenue_on_profile():
            p = client.get("customer", f"/customers/{customer['id']}").json()
            return p if Decimal(p["lifetime_revenue"] or 0) == Decimal("59.00") else None

        wait_for(revenue_on_profile, 15, message="the sale in the customer's lifetime revenue")
