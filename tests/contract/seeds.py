"""A few real resources in each service, made through its API (or, for what a service
learns from events, through its handlers), so the contract run also reads, changes
and reports on things that exist. Each answers the ids by path parameter name, and
bodies that can succeed by operation."""

from __future__ import annotations

from services.reporting import config as reporting_config
from services.reporting.handlers import subscriptions
from services.reporting.tables import Inbox, Outbox
from shared.db import Database
from shared.entrypoints import build_dispatcher
from tests.calls.helpers import (
    PAST,
    WEEKLY,
    add_agent,
    add_partner,
    assign,
    calls_of,
    create_plan,
    register,
    schedule,
)
from tests.conftest import auth
from tests.reporting import generate


def _post(client, url, body, status=201) -> dict:
    r = client.post(url, headers=auth("admin"), json=body)
    assert r.status_code == status, (url, r.status_code, r.json)
    return r.json


def customer(app, url: str) -> tuple[dict, dict]:
    client = app.test_client()
    segment = _post(client, "/api/v1/segments", {"code": "gold", "name": "Gold"})
    people = [
        _post(
            client,
            "/api/v1/customers",
            {
                "name": name,
                "phone": phone,
                "segment": "gold",
                "email": f"{name.split()[0].lower()}@x.hk",
            },
        )
        for name, phone in (("Chan Tai Man", "9123 4567"), ("Lee Siu Ming", "6123 4567"))
    ]
    ids = {"customer_id": [p["id"] for p in people], "code": [segment["code"]]}
    return ids, {
        "POST /api/v1/customers": [
            {"name": "Wong Ka Yan", "phone": "9876 5432", "segment": "gold"},
            {
                "name": "Ho Wing",
                "email": "ho@example.hk",
                "preferred_language": "en",
                "address": {"line1": "1 Queen's Road", "city": "Hong Kong", "country": "HK"},
            },
        ]
    }


def calls(app, url: str) -> tuple[dict, dict]:
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
    reached = {"outcome": "reached", "satisfaction": 4, "propensity": 60, "duration_seconds": 200}
    hooks = _webhooks(app, partner["id"], ids[0])
    return {
        "plan_id": [plan["id"]],
        "version": [1],
        "call_id": ids[:4],
        "partner_id": [partner["id"]],
        "agent_id": ["agent-s", "agent-p"],
        **hooks,
    }, {
        "POST /api/v1/call-plans": [
            {
                "name": "Gold monthly",
                "segment": "smb",
                "channel": "phone",
                "rrule": WEEKLY,
                "starts_at": PAST,
            }
        ],
        "POST /api/v1/calls/{call_id}/outcome": [reached, {"outcome": "no_answer"}],
        "POST /api/v1/partner/calls/{call_id}/outcome": [reached],
        "POST /api/v1/calls/reassign": [{"agent_id": "agent-s", "reason": "on leave"}],
        "PATCH /api/v1/partners/{partner_id}": [{"fee_per_call": "30.00"}],
    }


def _webhooks(app, partner_id: str, call_id: str) -> dict:
    """A partner's subscription with one delivery, and a withdrawal (written directly:
    the fuzzed app refuses loopback URLs, and no other host resolves here)."""
    from services.calls.notifications.tables import WebhookDelivery, WebhookSubscription
    from services.calls.partner.tables import Withdrawal
    from shared import clock

    now = clock.now()
    with app.extensions["rapport"].uow() as work:
        work.session.add(
            WebhookSubscription(
                id="hook-1",
                url="https://hooks.example.com/rapport",
                kinds=["call.assigned"],
                partner_id=partner_id,
                secret="s" * 32,
                created_by="seed",
                created_at=now,
            )
        )
        work.session.flush()
        work.session.add(
            WebhookDelivery(
                id="delivery-1",
                subscription_id="hook-1",
                kind="call.assigned",
                source_id="e1",
                payload={"id": "delivery-1", "kind": "call.assigned", "data": {}},
                status="failed",
                attempts=8,
                next_attempt_at=now,
                created_at=now,
            )
        )
        work.session.add(
            Withdrawal(
                id="withdrawal-1",
                source_id="e2",
                call_id=call_id,
                partner_id=partner_id,
                withdrawn_at=now,
            )
        )
    return {
        "webhook_id": ["hook-1"],
        "delivery_id": ["delivery-1"],
        "withdrawal_id": ["withdrawal-1"],
    }


def sales(app, url: str) -> tuple[dict, dict]:
    client = app.test_client()
    product = _post(
        client,
        "/api/v1/products",
        {
            "sku": "TEA-1",
            "name": "Jasmine tea",
            "price": "19.99",
            "unit_cost": "7.50",
            "effective_from": "2025-01-01T00:00:00+00:00",
        },
    )
    bought = {
        "customer_id": "c1",
        "lines": [{"quantity": "3", "unit_price": "19.99", "unit_cost": "7.50", "sku": "TEA-1"}],
    }
    sale = _post(client, "/api/v1/transactions", bought)
    deal = _post(client, "/api/v1/deals", {"customer_id": "c1", "amount": "500.00"})
    ids = {"sku": [product["sku"]], "sale_id": [sale["id"]], "deal_id": [deal["id"]]}
    return ids, {
        "POST /api/v1/transactions": [bought],
        "POST /api/v1/transactions/{sale_id}/returns": [
            {"lines": [{"line_no": 1, "quantity": "1"}], "reason": "damaged"}
        ],
        "POST /api/v1/deals/{deal_id}/stage": [{"to_stage": "qualified"}],
    }


def reporting(app, url: str) -> tuple[dict, dict]:
    """Reporting learns everything from events: these go through its real handlers."""
    settings = reporting_config.load({"DATABASE_URL": url, "DEV_MODE": "1"})
    db = Database(url)
    try:
        dispatcher = build_dispatcher(settings, db, Outbox, Inbox, subscriptions(settings))
        for event in (
            generate.effectiveness_stream(per_segment=12)[0]
            + generate.parity_stream(calls=60)[0]
            + generate.commerce_stream()
        ):
            dispatcher.dispatch(event)
    finally:
        db.dispose()
    return {}, {}
