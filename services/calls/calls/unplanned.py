"""Inbound and unplanned calls: a call an agent or a manager logs after the fact
against a customer this service knows (``POST /calls/unplanned``).

The call is created and completed in one transaction through the outcome use case
(``outcomes._apply``), so ``call.completed``, follow-ups and the quality rules are
those of any call. It belongs to the customer's plan that fits (the oldest active
plan targeting the customer on the call's channel, and of its purpose when one is
given), so that a callback, retry or escalation is scheduled through that plan; when
no plan fits the call has none, and its follow-ups are recorded (``followup.created``)
without a call of their own (``call.scheduled`` names a plan).

Consent: the customer calling us (``inbound``) is always loggable; an outbound
unplanned call needs what a planned one needs (``consent.allowed``), else 409 with
the reason. A customer erased or merged away takes no call at all.
"""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import select

from services.calls.calls.outcome_lookups import Held
from services.calls.calls.outcomes import _apply, _Batch
from services.calls.calls.tables import Call
from services.calls.customers import consent
from services.calls.customers.tables import Consent, Customer
from services.calls.db import new_id
from services.calls.plans import scheduling
from services.calls.plans.tables import CallPlan
from shared.auth import Principal
from shared.clock import utcnow
from shared.errors import Conflict, NotFound
from shared.web import idempotency

GONE = ("erased", "merged")


def log_call(uow, data: dict, caller: Principal) -> Call:
    """Create the call described by ``data`` and record its outcome; answers the call."""
    data = dict(data)
    customer_id, channel = data.pop("customer_id"), data.pop("channel")
    direction, purpose = data.pop("direction"), data.pop("purpose")
    with uow() as work:
        session = work.session
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise NotFound(f"no customer {customer_id} known to the calls service")
        idempotency.concerns(customer_id)
        if customer.lifecycle_status in GONE:
            raise Conflict(
                f"customer {customer_id} was {customer.lifecycle_status}; it takes no call"
            )
        plan = _fitting_plan(session, customer, channel, purpose)
        purpose = purpose or (plan.purpose if plan else None) or "service"
        if direction == "outbound":
            _may_call(session, customer, channel, purpose)
        at = (data.get("completed_at") or utcnow()).astimezone(UTC)
        call = Call(
            id=new_id(),
            plan_id=plan.id if plan else None,
            plan_version=plan.version if plan else None,
            customer_id=customer_id,
            channel=channel,
            due_at=at,
            status="scheduled",
            priority=plan.priority if plan else 3,
            created_at=utcnow(),
            purpose=purpose,
            kind="inbound" if direction == "inbound" else "unplanned",
            attempt=0,
            for_role="agent",
        )
        session.add(call)
        _apply(work, call, call.id, data, caller, _Batch(Held(session)))
        return call


def _fitting_plan(session, customer: Customer, channel: str, purpose: str | None):
    query = (
        select(CallPlan)
        .where(CallPlan.status == "active", CallPlan.channel == channel)
        .order_by(CallPlan.created_at, CallPlan.id)
    )
    if purpose:
        query = query.where(CallPlan.purpose == purpose)
    return next(
        (plan for plan in session.scalars(query) if scheduling.targets(plan, customer)), None
    )


def _may_call(session, customer: Customer, channel: str, purpose: str) -> None:
    """Refuse an outbound call the consent rules forbid, saying precisely why."""
    cid = customer.customer_id
    if customer.lifecycle_status in scheduling.NOT_CALLED:
        raise Conflict(f"customer {cid} is {customer.lifecycle_status}: not to be called")
    if cid in consent.allowed(session, [cid], channel, purpose):
        return
    rows = list(
        session.scalars(
            select(Consent)
            .where(
                Consent.customer_id == cid,
                Consent.channel.in_((channel, consent.ANY)),
                Consent.purpose.in_((purpose, consent.ANY)),
                Consent.status == "withdrawn",
            )
            .order_by(Consent.changed_at.desc())
        )
    )
    if rows:
        stop = rows[0]
        scope = (
            f"{'every channel' if stop.channel == consent.ANY else stop.channel}, "
            f"{'every purpose' if stop.purpose == consent.ANY else stop.purpose}"
        )
        raise Conflict(
            f"customer {cid} withdrew consent or opted out ({scope}) on "
            f"{stop.changed_at.isoformat()}: an outbound {channel} call for "
            f"'{purpose}' is not allowed (an inbound call may still be logged)"
        )
    raise Conflict(
        f"customer {cid} has given no consent to {channel} calls for "
        f"'{purpose}' (direct marketing needs it; an inbound call may still "
        "be logged)"
    )
