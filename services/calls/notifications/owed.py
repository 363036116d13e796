"""Notifications out: the deliveries each event owes the webhook subscriptions.

The calls consumer handles the service's own ``call.assigned``, ``call.cancelled``
and ``followup.created`` and writes one delivery per matching subscription in the
same transaction (the inbox makes that once per event), so a delivery exists iff
the event was handled, whether or not a receiver is up. Work taken from a partner
is also recorded as a ``Withdrawal`` the partner acknowledges. What a partner hears
is minimised (no customer id) and its reason is always ``withdrawn``: never the
customer's opt-out or erasure. The ``callback-due`` job announces each callback
call once when it falls due."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from services.calls.calls.tables import Call
from services.calls.customers.tables import Customer
from services.calls.db import new_id
from services.calls.notifications.tables import CallbackNotice, WebhookDelivery, WebhookSubscription
from services.calls.partner.tables import Withdrawal
from services.calls.people.tables import Assignment

BATCH = 500


def _wire(value):
    return value.isoformat() if isinstance(value, datetime) else value


def notify(
    session,
    kind: str,
    source_id: str,
    partner_id: str | None,
    internal: dict,
    for_partner: dict | None,
    now: datetime,
) -> int:
    """A delivery of ``kind`` to every subscription that may hear it: internal ones
    get ``internal``, the call's partner's get ``for_partner``."""
    written = 0
    person = session.get(Customer, internal["customer_id"]) if internal.get("customer_id") else None
    if person is not None and person.lifecycle_status == "erased":
        internal = {k: v for k, v in internal.items() if k != "customer_id"}
    for sub in session.scalars(select(WebhookSubscription)):
        if kind not in sub.kinds:
            continue
        if sub.partner_id is None:
            data = internal
        elif for_partner is not None and sub.partner_id == partner_id:
            data = for_partner
        else:
            continue
        delivery_id = new_id()
        body = {
            "id": delivery_id,
            "kind": kind,
            "occurred_at": now.isoformat(),
            "data": {k: _wire(v) for k, v in data.items()},
        }
        session.add(
            WebhookDelivery(
                id=delivery_id,
                subscription_id=sub.id,
                kind=kind,
                source_id=source_id,
                customer_id=internal.get("customer_id"),
                payload=body,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
        written += 1
    return written


def forget(session, customer_ids: list[str]) -> None:
    """Erasure: no delivery, sent or not, names the customer any more."""
    for row in session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.customer_id.in_(customer_ids))
    ):
        data = {k: v for k, v in row.payload.get("data", {}).items() if k != "customer_id"}
        row.payload, row.customer_id = {**row.payload, "data": data}, None


def _partner_view(call: Call) -> dict:
    return {
        "call_id": call.id,
        "agent_id": call.agent_id,
        "channel": call.channel,
        "kind": call.kind,
        "due_at": call.due_at,
        "window_end": call.window_end,
    }


def on_assigned(session, event_id: str, p: dict, now: datetime) -> None:
    call = session.get(Call, p["call_id"])
    if call is None:
        return
    internal = {
        **_partner_view(call),
        "agent_id": p["agent_id"],
        "customer_id": p["customer_id"],
        "partner_id": p.get("partner_id"),
        "team": p.get("team"),
        "reason": p.get("reason"),
    }
    notify(
        session,
        "call.assigned",
        event_id,
        p.get("partner_id"),
        internal,
        {**_partner_view(call), "agent_id": p["agent_id"]},
        now,
    )
    before = session.scalars(
        select(Assignment)
        .where(Assignment.call_id == call.id, Assignment.decided_at < p["assigned_at"])
        .order_by(Assignment.decided_at.desc())
        .limit(1)
    ).first()
    if before is not None and before.partner_id and before.partner_id != p.get("partner_id"):
        withdraw(session, event_id, call, before.partner_id, "reassigned", now)


def on_cancelled(session, event_id: str, p: dict, now: datetime) -> None:
    call = session.get(Call, p["call_id"])
    if call is None:
        return
    if p.get("partner_id"):
        withdraw(session, event_id, call, p["partner_id"], "cancelled", now)
    else:
        notify(
            session,
            "call.withdrawn",
            event_id,
            None,
            {
                **_partner_view(call),
                "customer_id": call.customer_id,
                "partner_id": None,
                "reason": "cancelled",
            },
            None,
            now,
        )


def withdraw(session, event_id: str, call: Call, partner_id: str, why: str, now: datetime) -> None:
    """Record that ``partner_id`` must stop work on ``call`` and tell it so."""
    withdrawal = Withdrawal(
        id=new_id(), source_id=event_id, call_id=call.id, partner_id=partner_id, withdrawn_at=now
    )
    session.add(withdrawal)
    told = {
        "call_id": call.id,
        "withdrawal_id": withdrawal.id,
        "reason": "withdrawn",
        "acknowledge": f"/api/v1/partner/withdrawals/{withdrawal.id}/ack",
    }
    notify(
        session,
        "call.withdrawn",
        event_id,
        partner_id,
        {**told, "customer_id": call.customer_id, "partner_id": partner_id, "reason": why},
        told,
        now,
    )


def on_followup(session, event_id: str, p: dict, now: datetime) -> None:
    kind = "escalation.raised" if p["kind"] == "escalation" else "followup.created"
    internal = {
        name: p.get(name)
        for name in (
            "followup_id",
            "kind",
            "customer_id",
            "source_call_id",
            "call_id",
            "due_at",
            "reason",
            "created_at",
        )
    }
    notify(session, kind, event_id, None, internal, None, now)


def announce_due_callbacks(uow, now: datetime) -> dict:
    """One pass of ``callback-due``: each open callback call now due, announced once
    (its notice and its deliveries in one transaction), at most ``BATCH`` a pass."""
    with uow() as work:
        calls = list(
            work.session.scalars(
                select(Call)
                .outerjoin(CallbackNotice, CallbackNotice.call_id == Call.id)
                .where(
                    Call.kind == "callback",
                    Call.status == "scheduled",
                    Call.due_at <= now,
                    CallbackNotice.call_id.is_(None),
                )
                .order_by(Call.due_at, Call.id)
                .limit(BATCH)
            )
        )
        deliveries = 0
        for call in calls:
            work.session.add(CallbackNotice(call_id=call.id, noticed_at=now))
            deliveries += notify(
                work.session,
                "callback.due",
                call.id,
                call.partner_id,
                {
                    **_partner_view(call),
                    "customer_id": call.customer_id,
                    "partner_id": call.partner_id,
                },
                _partner_view(call),
                now,
            )
    return {"due": len(calls), "deliveries": deliveries}
