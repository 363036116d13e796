"""Reporting end to end with real processes: outcomes and a sale recorded through
the calls and sales services appear in every report and on the dashboard."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shared.auth import issue_token
from shared.testing import wait_for
from tests.e2e.test_system import register, scheduled_calls, segment

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def report(client, name, **params):
    r = client.get("reporting", f"/reports/{name}", role="analyst", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_outcomes_and_sales_reach_every_report(running_system):
    client = running_system
    seg = segment()
    customer = register(client, seg, phone="9123 4579")
    calls = scheduled_calls(client, seg, customer["id"], horizon=3, expected=2)
    # The calls service takes scores only with a "reached" outcome.
    for call, outcome in (
        (calls[0], {"outcome": "reached", "satisfaction": 5, "propensity": 90}),
        (calls[1], {"outcome": "complaint"}),
    ):
        r = client.post(
            "calls",
            f"/calls/{call['id']}/outcome",
            role="agent",
            json={**outcome, "duration_seconds": 60},
        )
        assert r.status_code == 201, r.text
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
                {"sku": "TEA-1", "quantity": "2", "unit_price": "19.99", "unit_cost": "7.50"}
            ],
        },
    )
    assert sale.status_code == 201, sale.text

    wait_for(
        lambda: report(client, "activity", segment=seg)["totals"]["completed"] == 2,
        15,
        message="both outcomes in the activity report",
    )
    findings = report(client, "findings", segment=seg)
    assert {o["outcome"] for o in findings["outcomes"]} == {"reached", "complaint"}
    assert findings["satisfaction"]["n"] == 1 and findings["satisfaction"]["mean"] == 5.0
    assert findings["propensity"]["distribution"]["90-100"] == 1
    row = wait_for(
        lambda: report(client, "pnl", segment=seg)["segments"], 15, message="the sale in the P&L"
    )[0]
    assert (Decimal(row["revenue"]), Decimal(row["cost"])) == (Decimal("39.98"), Decimal("15.00"))
    assert report(client, "pnl", segment=seg)["reconciliation"]["balanced"] is True
    # A deal carries its customer's segment: the sales report filtered by it holds
    # this customer's revenue, calls and deal alone.
    deal = client.post(
        "sales",
        "/deals",
        role="agent",
        json={"customer_id": customer["id"], "amount": "500.00", "source_call_id": calls[0]["id"]},
    )
    assert deal.status_code == 201, deal.text

    def with_the_deal():
        body = report(client, "sales", segment=seg)
        return body if body["funnel"]["deals_created"] else None

    sales = wait_for(with_the_deal, 15, message="the deal in the sales report")
    assert Decimal(sales["revenue"]["totals"]["revenue"]) == Decimal("39.98")
    assert (sales["funnel"]["calls_completed"], sales["funnel"]["deals_from_calls"]) == (2, 1)
    # its call was no sale opportunity: not in the opportunity → deal step
    assert (sales["funnel"]["opportunities"], sales["funnel"]["deals_from_opportunities"]) == (0, 0)
    assert [(p["stage"], p["deals"]) for p in sales["pipeline"] if p["deals"]] == [("lead", 1)]
    follow = report(client, "follow-ups", segment=seg)["actions"]
    assert [(a["customer_id"], a["action"]) for a in follow] == [
        (customer["id"], "resolve_complaint")
    ]
    effect = report(client, "call-effectiveness", segment=seg)
    assert effect["segments"][0]["customers"] == 1
    assert "too little data" in effect["segments"][0]["proposal"]["reason"].lower()
    for name in ("coverage", "outsourcers", "data-quality"):
        report(client, name)
    token = issue_token(client.secret, "e2e", "manager")
    page = client.http.get(
        f"{client.system.api_url('reporting')}/dashboard", params={"token": token}, timeout=30
    )
    assert page.status_code == 200 and "Rapport dashboard" in page.text
