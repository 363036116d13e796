"""A few real resources in each service, made through its API (or, for what a service
learns from events, through its handlers), so the contract run also reads, changes
and reports on things that exist. Each answers the ids by path parameter name."""
from __future__ import annotations

from tests.calls.helpers import (add_agent, add_partner, assign, calls_of, create_plan,
                                 register, schedule)
from tests.conftest import auth


def _post(client, url, body, status=201) -> dict:
    r = client.post(url, headers=auth("admin"), json=body)
    assert r.status_code == status, (url, r.status_code, r.json)
    return r.json


def customer(app) -> dict:
    client = app.test_client()
    segment = _post(client, "/api/v1/segments", {"code": "gold", "name": "Gold"})
    people = [_post(client, "/api/v1/customers", {"name": name, "phone": phone, "segment": "gold",
                                                   "email": f"{name.split()[0].lower()}@x.hk"})
              for name, phone in (("Chan Tai Man", "9123 4567"), ("Lee Siu Ming", "6123 4567"))]
    return {"customer_id": [p["id"] for p in people], "code": [segment["code"]]}


def calls(app) -> dict:
    client = app.test_client()
    for customer_id in ("c1", "c2", "c3"):
        register(app, customer_id)
    partner = add_partner(client, "A-Call")
    add_agent(client, "agent-s")
    add_agent(client, "agent-p", kind="partner", partner_id=partner["id"])
    plan = create_plan(client)
    schedule(client, plan["id"], days=14)
    assign(client)
    ids = [c["id"] for c in calls_of(client)]
    return {"plan_id": [plan["id"]], "version": [1], "call_id": ids[:4],
            "partner_id": [partner["id"]], "agent_id": ["agent-s", "agent-p"]}


def sales(app) -> dict:
    client = app.test_client()
    product = _post(client, "/api/v1/products", {
        "sku": "TEA-1", "name": "Jasmine tea", "price": "19.99", "unit_cost": "7.50",
        "effective_from": "2025-01-01T00:00:00+00:00"})
    sale = _post(client, "/api/v1/transactions", {"customer_id": "c1", "lines": [
        {"quantity": "3", "unit_price": "19.99", "unit_cost": "7.50", "sku": "TEA-1"}]})
    deal = _post(client, "/api/v1/deals", {"customer_id": "c1", "amount": "500.00"})
    return {"sku": [product["sku"]], "sale_id": [sale["id"]], "deal_id": [deal["id"]]}


def reporting(dispatcher) -> dict:
    from tests.reporting import generate
    events = (generate.effectiveness_stream(per_segment=12)[0]
              + generate.parity_stream(calls=60)[0] + generate.commerce_stream())
    for event in events:
        dispatcher.dispatch(event)
    return {}
