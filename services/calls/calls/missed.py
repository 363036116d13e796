"""Missed calls: a call still open when its calling window has closed is marked
missed (``call.missed``) and planned again at the next opening of its plan's
windows, a bounded number of times, if the customer may still be called.

Run by the relay process's periodic job ``missed-calls`` (every minute by default,
``CALLS_JOB_MISSED_CALLS_SECONDS``), by ``POST /api/v1/calls/missed`` and by
``python -m services.calls.entrypoints.sweep``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from services.calls.calls.tables import Call
from services.calls.customers import consent
from services.calls.customers.tables import Customer
from services.calls.people.tables import Agent
from services.calls.plans import windows
from services.calls.plans.scheduling import call_row, insert_calls
from services.calls.plans.tables import CallPlan
from shared.clock import utcnow
from shared.messaging.unit_of_work import UnitOfWork

MAX_REPLANS = 3
BATCH = 1000


def sweep_missed(uow, now: datetime | None = None) -> dict:
    """Mark every call whose window closed before ``now``; answers the counts."""
    now = now or utcnow()
    totals = {"missed": 0, "replanned": 0}
    while True:
        with uow() as work:
            calls = list(
                work.session.scalars(
                    select(Call)
                    .where(Call.status == "scheduled", Call.window_end < now)
                    .order_by(Call.window_end, Call.id)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            )
            for call in calls:
                totals["replanned"] += _miss(work, call, now)
        totals["missed"] += len(calls)
        if len(calls) < BATCH:
            return totals


def _miss(work: UnitOfWork, call: Call, now: datetime) -> int:
    call.status = "missed"
    replanned = _replan(work, call, now)
    agent = work.session.get(Agent, call.agent_id) if call.agent_id else None
    work.emit(
        "call.missed",
        {
            "call_id": call.id,
            "customer_id": call.customer_id,
            "plan_id": call.plan_id,
            "channel": call.channel,
            "due_at": call.due_at,
            "missed_at": now,
            "segment": _segment(work, call),
            "agent_id": call.agent_id,
            "agent_kind": agent.kind if agent else None,
            "partner_id": call.partner_id,
            "team": agent.team if agent else None,
            "replanned_call_id": replanned,
        },
    )
    return replanned is not None


def _replan(work: UnitOfWork, call: Call, now: datetime) -> str | None:
    plan = work.session.get(CallPlan, call.plan_id)
    if call.attempt >= MAX_REPLANS or call.kind == "escalation" or plan is None:
        return None
    if call.customer_id not in consent.allowed(
        work.session, [call.customer_id], call.channel, call.purpose or plan.purpose
    ):
        return None
    try:
        due, window_end = windows.place(
            now + timedelta(minutes=1), plan.timezone, plan.windows, plan.allow_holidays
        )
    except windows.NeverOpens:
        return None
    if plan.ends_at and due > plan.ends_at:
        return None
    due = due.replace(second=0, microsecond=0)
    if work.session.scalar(
        select(Call.id).where(
            Call.plan_id == plan.id, Call.customer_id == call.customer_id, Call.due_at == due
        )
    ):
        return None
    row = call_row(
        plan,
        call.customer_id,
        due,
        window_end,
        now,
        _segment(work, call),
        kind="replan",
        attempt=call.attempt + 1,
        source_call_id=call.id,
        plan_version=call.plan_version,
        purpose=call.purpose,
        priority=call.priority,
    )
    insert_calls(work, [row])
    return row["id"]


def _segment(work: UnitOfWork, call: Call) -> str | None:
    customer = work.session.get(Customer, call.customer_id)
    return customer.segment if customer else None
