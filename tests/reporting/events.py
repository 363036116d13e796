"""Events as reporting receives them, made through their contracts."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from shared.events import make_event


def at(text: str) -> datetime:
    """An aware UTC moment from ``YYYY-MM-DDTHH:MM``."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def registered(
    customer_id: str, segment: str, when: str = "2025-01-01T00:00", name: str = "Chan Tai Man"
):
    return make_event(
        "customer.registered",
        {"customer_id": customer_id, "name": name, "segment": segment, "registered_at": at(when)},
        producer="customer",
        occurred_at=at(when),
    )


def updated(customer_id: str, segment: str, when: str):
    return make_event(
        "customer.updated",
        {"customer_id": customer_id, "segment": segment, "changes": {"segment": segment}},
        producer="customer",
        occurred_at=at(when),
    )


def scheduled(due_at: str, call_id: str = "call-1"):
    return make_event(
        "call.scheduled",
        {
            "call_id": call_id,
            "plan_id": "plan-1",
            "customer_id": "c1",
            "channel": "phone",
            "due_at": at(due_at),
        },
        producer="calls",
    )


def completed(
    completed_at: str, outcome: str = "reached", call_id: str = "call-1", customer_id: str = "c1"
):
    return make_event(
        "call.completed",
        {
            "call_id": call_id,
            "customer_id": customer_id,
            "channel": "phone",
            "outcome": outcome,
            "completed_at": at(completed_at),
        },
        producer="calls",
    )


def sale(
    customer_id: str,
    revenue: str,
    cost: str,
    recorded_at: str = "2025-03-01T04:00",
    currency: str = "HKD",
    sale_id: str = "s-1",
):
    return make_event(
        "sale.recorded",
        {
            "sale_id": sale_id,
            "customer_id": customer_id,
            "currency": currency,
            "recorded_at": at(recorded_at),
            "revenue": Decimal(revenue),
            "cost": Decimal(cost),
            "lines": [
                {"quantity": Decimal(1), "unit_price": Decimal(revenue), "unit_cost": Decimal(cost)}
            ],
        },
        producer="sales",
    )
