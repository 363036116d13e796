"""Reassignment by a manager: one call by hand, or many at once, chosen by agent,
partner, segment or plan, either to one agent or back to the pool (where the
assignment rules place them at once, never back with the agent they left); and the
history of a call's assignment decisions. Every move goes through the same
qualification and capacity rules as automatic assignment (``assignment``)."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import or_, select, tuple_

from services.calls.calls.tables import Call
from services.calls.customers.tables import Customer
from services.calls.people.assignment import (
    ORDER,
    assign_calls,
    load_around,
    local_day,
    record,
    release,
    unfit,
    why_not,
)
from services.calls.people.tables import Agent, Assignment, Partner
from services.calls.plans.tables import CallPlan
from shared.errors import Conflict, Invalid, NotFound
from shared.web.pagination import decode_time_cursor, page


def reassign(uow, call_id: str, agent_id: str, reason: str, decided_by: str) -> Call:
    """Manual reassignment: still only to a qualified agent within capacity."""
    with uow() as work:
        call = work.session.get(Call, call_id, with_for_update=True)
        if call is None:
            raise NotFound(f"no call {call_id}")
        if call.status != "scheduled":
            raise Conflict(f"call {call_id} is {call.status}; only an open call is reassigned")
        agent = work.session.get(Agent, agent_id)
        if agent is None:
            raise Invalid("no such agent", errors={"agent_id": [f"No agent {agent_id}."]})
        if agent.id == call.agent_id:
            return call
        partners = {p.id: p.active for p in work.session.scalars(select(Partner))}
        why = why_not(work.session, agent, call, partners)
        if why:
            raise Invalid(
                f"agent {agent_id} may not take this call: {why}",
                errors={"agent_id": [f"Not qualified: {why}."]},
            )
        record(work, call, agent, "manual", decided_by, f"manual: {reason}", "manual")
    return call


def reassign_many(
    uow, filters: dict, to_agent_id: str | None, reason: str, decided_by: str, limit: int
) -> dict:
    """Move up to ``limit`` open calls matching every filter given; all of them or,
    if the target may not take one of them, none (422 with the reasons). Calls the
    target already holds (or, to the pool, unassigned ones) do not match, so a
    repeat moves nothing and the next request takes the next ``limit``."""
    with uow() as work:
        calls = list(
            work.session.scalars(
                _matching(filters, to_agent_id).order_by(*ORDER).limit(limit + 1).with_for_update()
            )
        )
        more, calls = len(calls) > limit, calls[:limit]
        if to_agent_id is not None:
            _to_agent(work, calls, to_agent_id, reason, decided_by)
            return {
                "matched": len(calls),
                "reassigned": len(calls),
                "unassignable": 0,
                "more": more,
            }
        avoid = {call.id: call.agent_id for call in calls}
        for call in calls:
            release(work, call, "manager_bulk", decided_by, f"bulk: {reason}")
        totals = assign_calls(work, calls, decided_by, avoid) if calls else Counter()
    return {
        "matched": len(calls),
        "reassigned": totals["assigned"],
        "unassignable": totals["unassignable"],
        "more": more,
    }


def _matching(filters: dict, to_agent_id: str | None):
    query = select(Call).where(Call.status == "scheduled", Call.for_role == "agent")
    for name in ("agent_id", "partner_id", "plan_id"):
        if filters.get(name) is not None:
            query = query.where(getattr(Call, name) == filters[name])
    if filters.get("segment") is not None:
        query = query.where(
            Call.customer_id.in_(
                select(Customer.customer_id).where(Customer.segment == filters["segment"])
            )
        )
    if to_agent_id is None:
        return query.where(Call.agent_id.is_not(None))
    return query.where(or_(Call.agent_id.is_(None), Call.agent_id != to_agent_id))


def _to_agent(work, calls: list[Call], agent_id: str, reason: str, decided_by: str) -> None:
    session = work.session
    agent = session.get(Agent, agent_id, with_for_update=True)
    if agent is None:
        raise Invalid("no such agent", errors={"to_agent_id": [f"No agent {agent_id}."]})
    partners = {p.id: p.active for p in session.scalars(select(Partner))}
    customers = {
        c.customer_id: c
        for c in session.scalars(
            select(Customer).where(Customer.customer_id.in_({c.customer_id for c in calls}))
        )
    }
    plans = {p.id: p for p in session.scalars(select(CallPlan))}
    load, why = load_around(session, [agent.id], calls), Counter()
    for call in calls:
        day = local_day(call.due_at)
        reason_not = unfit(
            agent, call, customers.get(call.customer_id), plans.get(call.plan_id), partners
        )
        if reason_not is None and load[(agent.id, day)] >= agent.daily_capacity:
            reason_not = "at capacity"
        if reason_not:
            why[reason_not] += 1
        else:
            load[(agent.id, day)] += 1
    if why:
        parts = ", ".join(f"{n} {text}" for text, n in why.most_common())
        raise Invalid(
            f"agent {agent_id} may not take {sum(why.values())} of these "
            f"{len(calls)} calls: {parts}",
            errors={"to_agent_id": [f"Not qualified: {parts}."[:300]]},
        )
    for call in calls:
        record(work, call, agent, "manual", decided_by, f"bulk: {reason}", "bulk")


def history(uow, call_id: str, limit: int, cursor: str | None) -> dict:
    query = (
        select(Assignment)
        .where(Assignment.call_id == call_id)
        .order_by(Assignment.decided_at, Assignment.id)
        .limit(limit + 1)
    )
    after = decode_time_cursor(cursor)
    if after:
        query = query.where(tuple_(Assignment.decided_at, Assignment.id) > after)
    with uow.reader() as session:
        if session.get(Call, call_id) is None:
            raise NotFound(f"no call {call_id}")
        rows = list(session.scalars(query))
    return page(rows, limit, lambda a: (a.decided_at.isoformat(), a.id))
