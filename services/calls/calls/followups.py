"""Follow-ups from outcomes (``followup.created``): a callback at the time the
customer asked; a retry after no answer or busy, with backoff, at most
``len(RETRY_AFTER)`` times; an escalation call for a manager within 24 hours of a
complaint; an opportunity for sales, and an opt-out the customer service records,
both carried by ``call.completed`` and recorded here as follow-ups too."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, tuple_

from services.calls.calls.tables import Call, Followup
from services.calls.customers import consent
from services.calls.customers.reactions import cancel_calls
from services.calls.customers.tables import Customer
from services.calls.db import new_id
from services.calls.people.tables import Agent
from services.calls.plans import windows
from services.calls.plans.scheduling import call_row, insert_calls
from services.calls.plans.tables import CallPlan
from shared.messaging.unit_of_work import UnitOfWork
from shared.web.pagination import decode_time_cursor, page

RETRY_AFTER = (timedelta(hours=2), timedelta(hours=6), timedelta(hours=24))
ESCALATE_WITHIN = timedelta(hours=24)
CALLBACK_WINDOW = timedelta(hours=2)


def follow_up(work: UnitOfWork, call: Call, now: datetime, held=None) -> None:
    plan = (held or work.session).get(CallPlan, call.plan_id)
    outcome = call.outcome
    if outcome == "callback_requested" and call.callback_at:
        new = _call(
            work,
            call,
            plan,
            now,
            "callback",
            call.callback_at,
            call.callback_at + CALLBACK_WINDOW,
            keep_agent=True,
        )
        _record(work, "callback", call, now, new, call.callback_at, "the customer asked")
    elif outcome in ("no_answer", "busy") and call.attempt < len(RETRY_AFTER) and plan:
        try:
            due, end = windows.place(
                now + RETRY_AFTER[call.attempt], plan.timezone, plan.windows, plan.allow_holidays
            )
        except windows.NeverOpens:
            return
        new = _call(work, call, plan, now, "retry", due, end, keep_agent=True)
        _record(work, "retry", call, now, new, due, f"retry {call.attempt + 1} after {outcome}")
    elif outcome == "complaint":
        new = _call(
            work,
            call,
            plan,
            now,
            "escalation",
            now,
            now + ESCALATE_WITHIN,
            for_role="manager",
            priority=1,
        )
        _record(
            work,
            "escalation",
            call,
            now,
            new,
            now + ESCALATE_WITHIN,
            "complaint: a manager calls back within 24 hours",
        )
    elif outcome == "sale_opportunity":
        _record(work, "opportunity", call, now, None, None, "sales opens a deal from the call")
    elif outcome == "do_not_call_requested":
        _honour_do_not_call(work, call, now)
        _record(work, "opt_out", call, now, None, None, "the customer service records the opt-out")


def _call(
    work: UnitOfWork,
    call: Call,
    plan: CallPlan | None,
    now: datetime,
    kind: str,
    due: datetime,
    window_end: datetime,
    keep_agent=False,
    **extra,
) -> str | None:
    due = due.replace(microsecond=0)
    taken = work.session.scalar(
        select(Call.id).where(
            Call.plan_id == call.plan_id, Call.customer_id == call.customer_id, Call.due_at == due
        )
    )
    if taken or plan is None:
        return taken
    customer = work.session.get(Customer, call.customer_id)
    row = call_row(
        plan,
        call.customer_id,
        due,
        window_end,
        now,
        customer.segment if customer else None,
        kind=kind,
        attempt=call.attempt + 1 if kind == "retry" else 0,
        source_call_id=call.id,
        plan_version=call.plan_version,
        purpose=call.purpose,
        **{"priority": call.priority, **extra},
    )
    agent = work.session.get(Agent, call.agent_id) if keep_agent and call.agent_id else None
    if agent is not None:
        row.update(agent_id=agent.id, partner_id=agent.partner_id)
    insert_calls(work, [row])
    if agent is not None:
        work.emit(
            "call.assigned",
            {
                "call_id": row["id"],
                "customer_id": call.customer_id,
                "agent_id": agent.id,
                "agent_kind": agent.kind,
                "partner_id": agent.partner_id,
                "team": agent.team,
                "reason": f"{kind}: the agent of call {call.id}",
                "assigned_at": now,
            },
        )
    return row["id"]


def _record(
    work: UnitOfWork,
    kind: str,
    call: Call,
    now: datetime,
    new_call: str | None,
    due: datetime | None,
    reason: str,
) -> None:
    followup = Followup(
        id=new_id(),
        kind=kind,
        customer_id=call.customer_id,
        source_call_id=call.id,
        call_id=new_call,
        due_at=due,
        reason=reason,
        created_at=now,
    )
    work.session.add(followup)
    work.emit(
        "followup.created",
        {
            "followup_id": followup.id,
            "kind": kind,
            "customer_id": call.customer_id,
            "source_call_id": call.id,
            "due_at": due,
            "call_id": new_call,
            "reason": reason,
            "created_at": now,
        },
    )


def _honour_do_not_call(work: UnitOfWork, call: Call, now: datetime) -> None:
    """Stop calling on this channel at once; the customer service's opt-out event
    follows and changes nothing more."""
    consent.record(work.session, call.customer_id, call.channel, None, "withdrawn", now)
    work.session.flush()
    cancel_calls(work, call.customer_id, "do_not_call_requested", channel=call.channel, at=now)


def list_followups(uow, filters: dict, limit: int, cursor: str | None) -> dict:
    query = select(Followup).order_by(Followup.created_at, Followup.id).limit(limit + 1)
    for name in ("kind", "customer_id"):
        if filters.get(name):
            query = query.where(getattr(Followup, name) == filters[name])
    after = decode_time_cursor(cursor)
    if after:
        query = query.where(tuple_(Followup.created_at, Followup.id) > after)
    with uow.reader() as session:
        rows = list(session.scalars(query))
    return page(rows, limit, lambda f: (f.created_at.isoformat(), f.id))
