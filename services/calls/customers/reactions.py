"""What customer events do to calls: plan a customer's calls when it joins a targeted
segment or gives consent, cancel them when it leaves, opts out or is erased, and
re-point them when it is merged into another. Runs inside the handler's unit of
work, so the change, its events and the inbox record commit together."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from services.calls.calls.tables import Call
from services.calls.customers import consent
from services.calls.customers.tables import Customer
from services.calls.plans import scheduling
from services.calls.plans.policy import POLICY_ID
from services.calls.plans.tables import CallPlan, ContactPolicy
from shared.clock import utcnow
from shared.errors import Invalid
from shared.messaging.unit_of_work import UnitOfWork


def plan_customer(
    work: UnitOfWork, customer_id: str, channel: str | None = None, purpose: str | None = None
) -> int:
    """Plan the customer's calls for every active plan targeting it (optionally only
    plans of one channel and purpose) over each plan's horizon; answers how many."""
    customer = work.session.get(Customer, customer_id)
    if customer is None or customer.lifecycle_status in scheduling.NOT_CALLED:
        return 0
    now = utcnow()
    cap = work.session.get(ContactPolicy, POLICY_ID)
    cap = cap if cap is not None and cap.max_calls else None
    created = 0
    for plan in work.session.scalars(
        select(CallPlan).where(CallPlan.status == "active").order_by(CallPlan.created_at)
    ):
        if (
            not scheduling.targets(plan, customer)
            or (channel and plan.channel != channel)
            or (purpose and plan.purpose != purpose)
        ):
            continue
        try:
            slots = scheduling.due_slots(plan, now, now + timedelta(days=plan.horizon_days))
        except Invalid:
            continue  # a plan too dense for the horizon is scheduled by hand
        if slots:
            created += scheduling.materialise(
                work, plan, [(customer_id, customer.segment)], slots, now, cap
            )["created"]
    return created


def cancel_calls(
    work: UnitOfWork,
    customer_id: str,
    reason: str,
    *,
    channel: str | None = None,
    purpose: str | None = None,
    plan_ids=None,
    at: datetime | None = None,
) -> int:
    """Cancel the customer's pending calls (of a channel, purpose or some plans),
    partner-held ones too, announcing each as ``call.cancelled``."""
    query = select(Call).where(Call.customer_id == customer_id, Call.status == "scheduled")
    if channel not in (None, consent.ANY):
        query = query.where(Call.channel == channel)
    if purpose not in (None, consent.ANY):
        query = query.where(Call.purpose == purpose)
    if plan_ids is not None:
        query = query.where(Call.plan_id.in_(plan_ids), Call.kind == "planned")
    now = at or utcnow()
    calls = list(work.session.scalars(query.with_for_update()))
    for call in calls:
        call.status, call.cancel_reason = "cancelled", reason
        work.emit(
            "call.cancelled",
            {
                "call_id": call.id,
                "customer_id": customer_id,
                "channel": call.channel,
                "purpose": call.purpose,
                "reason": reason,
                "cancelled_at": now,
                "partner_id": call.partner_id,
            },
        )
    return len(calls)


def move_segment(work: UnitOfWork, customer_id: str, before: str | None) -> None:
    """After a segment change: cancel calls of plans that no longer target the
    customer, plan those of plans that now do."""
    customer = work.session.get(Customer, customer_id)
    if customer is None or before == customer.segment:
        return
    plans = list(work.session.scalars(select(CallPlan)))
    gone = [p.id for p in plans if not scheduling.targets(p, customer)]
    if gone:
        cancel_calls(work, customer_id, "segment_changed", plan_ids=gone)
    plan_customer(work, customer_id)


def merge(work: UnitOfWork, merged_id: str, survivor_id: str) -> None:
    """Re-point the merged customer's calls at the survivor; a pending call the
    survivor already has (same plan and time) is cancelled instead."""
    taken = {
        (p, d)
        for p, d in work.session.execute(
            select(Call.plan_id, Call.due_at).where(Call.customer_id == survivor_id)
        )
    }
    moved = []
    for call in work.session.scalars(
        select(Call).where(Call.customer_id == merged_id).with_for_update()
    ):
        if (call.plan_id, call.due_at) not in taken:
            call.customer_id = survivor_id
            taken.add((call.plan_id, call.due_at))
            moved.append(call)
        elif call.status == "scheduled":
            cancel_calls_by_id(work, call, "merged_duplicate")
    work.session.flush()
    # The survivor's own opt-outs and consents now govern the calls it inherited.
    for call in moved:
        if call.status == "scheduled" and survivor_id not in consent.allowed(
            work.session, [survivor_id], call.channel, call.purpose or "service"
        ):
            cancel_calls_by_id(work, call, "opted_out")
    merged = work.session.get(Customer, merged_id)
    if merged is not None:
        merged.lifecycle_status = "merged"


def cancel_calls_by_id(work: UnitOfWork, call: Call, reason: str) -> None:
    call.status, call.cancel_reason = "cancelled", reason
    work.emit(
        "call.cancelled",
        {
            "call_id": call.id,
            "customer_id": call.customer_id,
            "channel": call.channel,
            "purpose": call.purpose,
            "reason": reason,
            "cancelled_at": utcnow(),
            "partner_id": call.partner_id,
        },
    )


def scrub(work: UnitOfWork, customer_id: str) -> None:
    """Erasure: remove the personal data kept on the customer's calls."""
    work.session.execute(
        update(Call)
        .where(Call.customer_id == customer_id)
        .values(
            notes=None,
            answers=None,
            referrals=None,
            confirmed_fields=None,
            competitor_mentions=None,
        )
    )
