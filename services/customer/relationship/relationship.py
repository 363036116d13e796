"""Relationship state and the activity timeline, kept current from call and sale
events.

The relationship score (0–100) is ``0.5·S + 0.3·P + 0.2·V``:
S is the satisfaction average (exponentially weighted, α = 0.3) mapped from 1–5
to 0–100; P the latest propensity to buy; V the value, ``100 · min(1,
log10(1 + lifetime margin in currency units) / 5)`` (a margin of 100,000 scores
100). Satisfaction or propensity not yet known counts as 50; a customer with no
margin has V = 0, so a new customer starts at 40.
"""

from __future__ import annotations

import math
from decimal import Decimal

from sqlalchemy import bindparam, select

from services.customer.profiles.profiles import change
from services.customer.profiles.tables import Customer
from services.customer.quality import quality
from services.customer.relationship import confirmations, prospects
from services.customer.relationship.tables import Activity
from services.customer.tables import new_id
from shared.errors import NotFound

ALPHA = 0.3
CONTACTED = {
    "reached",
    "callback_requested",
    "not_interested",
    "interested",
    "sale_opportunity",
    "complaint",
    "do_not_call_requested",
}


def score(customer: Customer) -> float:
    s = 50.0 if customer.satisfaction_avg is None else (customer.satisfaction_avg - 1) * 25
    p = 50.0 if customer.propensity is None else float(customer.propensity)
    margin = float(customer.lifetime_margin or 0)
    v = 100 * min(1.0, math.log10(1 + max(margin, 0)) / 5)
    return round(0.5 * s + 0.3 * p + 0.2 * v, 2)


LOCKED = "customer.locked"  # session.info: the customers this transaction holds locked, by id
CONCERNED = {"call.completed", "sale.recorded", "sale.returned", "sale.cancelled"}


# Built once: a window of one event (a trickle) pays for building it otherwise.
_LOCK_QUERY = (
    select(Customer)
    .where(Customer.id.in_(bindparam("ids", expanding=True)))
    .order_by(Customer.id)
    .with_for_update()
)


def lock_customers(work, events) -> None:
    """Lock, in id order and in one query, the customers of the window's events
    (the dispatcher's ``prepare``); the handlers then find them held."""
    ids = sorted(
        {
            e.payload["customer_id"]
            for e in events
            if e.event_type in CONCERNED and isinstance(e.payload.get("customer_id"), str)
        }
    )
    if not ids:
        return
    with work.session.no_autoflush:
        found = work.session.scalars(_LOCK_QUERY, {"ids": ids}).all()
    work.session.info.setdefault(LOCKED, {}).update((c.id, c) for c in found)


def _locked(session, customer_id: str) -> Customer | None:
    # The session holds what it loaded until it ends (``shared.db``), so a customer
    # held here is the one its identity map has: no ``get`` for each event.
    held = session.info.setdefault(LOCKED, {})
    customer = held.get(customer_id)
    if customer is not None:
        return customer
    customer = session.get(Customer, customer_id, with_for_update=True)
    if customer is not None:
        held[customer_id] = customer
    return customer


def survivor(session, customer_id: str, what: str) -> Customer:
    """The live profile an event is about, following merges, locked."""
    customer = _locked(session, customer_id)
    while customer is not None and customer.merged_into:
        customer = _locked(session, customer.merged_into)
    if customer is None:
        raise NotFound(f"{what} is for unknown customer {customer_id}")
    return customer


def record_completed_call(work, event) -> None:
    call = event.payload
    with work.session.no_autoflush:  # pending timeline rows cannot change this look-up
        customer = survivor(work.session, call["customer_id"], f"call {call['call_id']}")
    was_do_not_call = customer.do_not_call
    _follow_call(customer, call)
    work.add_row(
        Activity,
        {
            "id": new_id(),
            "customer_id": customer.id,
            "kind": "call",
            "occurred_at": call["completed_at"],
            "source_event_id": event.event_id,
            "summary": {
                k: call.get(k)
                for k in (
                    "call_id",
                    "outcome",
                    "channel",
                    "satisfaction",
                    "propensity",
                    "duration_seconds",
                    "notes",
                    "agent_id",
                    "agent_kind",
                    "competitor_mentions",
                )
            },
        },
    )
    _pdpo_checks(work, customer, call, was_do_not_call)
    confirmations.apply(work, customer, call)
    noted: set[str] = set()
    for referral in call["referrals"]:
        prospects.from_referral(work, customer, call, referral, noted)


def _follow_call(customer: Customer, call: dict) -> None:
    when = call["completed_at"]
    customer.calls_completed += 1
    newest = customer.last_contacted_at is None or when >= customer.last_contacted_at
    if call["satisfaction"] is not None:
        previous = customer.satisfaction_avg
        customer.satisfaction_avg = (
            call["satisfaction"]
            if previous is None
            else ALPHA * call["satisfaction"] + (1 - ALPHA) * previous
        )
        customer.satisfaction_trend = (
            0.0 if previous is None else round(call["satisfaction"] - previous, 3)
        )
    if newest:
        customer.last_contacted_at = when
        if call["satisfaction"] is not None:
            customer.satisfaction = call["satisfaction"]
        if call["propensity"] is not None:
            customer.propensity = call["propensity"]
    customer.relationship_score = score(customer)


def _pdpo_checks(work, customer: Customer, call: dict, was_do_not_call: bool) -> None:
    actor = f"call:{call['call_id']}"
    if call["outcome"] == "do_not_call_requested" and not customer.do_not_call:
        change(
            work,
            customer,
            {"do_not_call": True},
            None,
            actor,
            "call",
            "the customer asked on a call not to be called",
        )
    elif was_do_not_call:
        quality.flag(
            work,
            "dnc_call_logged",
            customer,
            f"call {call['call_id']} ({call['outcome']}) was logged for a do-not-call customer",
            key=f"dnc_call_logged:{call['call_id']}",
        )
    if customer.opt_out_notice_at is None and call["outcome"] in CONTACTED:
        if call["opt_out_notice_given"]:
            customer.opt_out_notice_at = call["completed_at"]
        elif not customer.opt_out_notice_flagged:
            customer.opt_out_notice_flagged = True
            quality.flag(
                work,
                "opt_out_notice_missing",
                customer,
                f"first contact (call {call['call_id']}) does not record that the "
                f"customer was told of the right to opt out",
                key=f"opt_out_notice_missing:{customer.id}",
            )


def record_sale(work, event, kind: str, sign: int) -> None:
    """A sale adds to lifetime revenue and margin; a return or cancellation takes off."""
    sale = event.payload
    with work.session.no_autoflush:
        customer = survivor(work.session, sale["customer_id"], f"sale {sale['sale_id']}")
    revenue, cost = Decimal(sale["revenue"]), Decimal(sale["cost"])
    customer.lifetime_revenue = Decimal(customer.lifetime_revenue or 0) + sign * revenue
    customer.lifetime_margin = Decimal(customer.lifetime_margin or 0) + sign * (revenue - cost)
    customer.relationship_score = score(customer)
    when = sale.get("recorded_at") or sale.get("returned_at") or sale.get("cancelled_at")
    work.add_row(
        Activity,
        {
            "id": new_id(),
            "customer_id": customer.id,
            "kind": kind,
            "occurred_at": when,
            "source_event_id": event.event_id,
            "summary": {
                "sale_id": sale["sale_id"],
                "return_id": sale.get("return_id"),
                "currency": sale["currency"],
                "revenue": str(revenue),
                "cost": str(cost),
            },
        },
    )
