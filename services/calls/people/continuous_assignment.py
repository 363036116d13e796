"""Continuous assignment: the ``assign-calls`` periodic job (every minute by default,
``CALLS_JOB_ASSIGN_CALLS_SECONDS``). A pass first returns to the pool every open
call its agent can no longer take — deactivated, its partner suspended, no longer
qualified or trained for the call's day (an expiry is noticed by date), or over its
daily capacity — and then assigns the open, unassigned calls due within the lead time
(``CALLS_ASSIGN_LEAD_HOURS``, default 72) by the assignment rules, previous agent or
partner first. Every return is an ``assignments`` row with its basis. A pass is
idempotent (a second one finds nothing to do) and works in bounded batches."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select

from services.calls.calls.tables import Call
from services.calls.customers.tables import Customer
from services.calls.people.assignment import (
    ORDER,
    assign_due,
    load_around,
    local_day,
    release,
    unfit,
)
from services.calls.people.tables import Agent, Partner
from services.calls.plans.tables import CallPlan

BATCH = 500
DECIDED_BY = "assign-calls"
DEFAULT_LEAD = timedelta(hours=72)


def lead_time(settings) -> timedelta:
    raw = settings.get("ASSIGN_LEAD_HOURS")
    hours = DEFAULT_LEAD.total_seconds() / 3600 if raw is None else float(raw)
    if not 0 < hours <= 24 * 90:
        raise ValueError(f"ASSIGN_LEAD_HOURS must be in (0, 2160], not {raw!r}")
    return timedelta(hours=hours)


def job(uow, settings):
    """The job's pass, with the lead time the settings give (checked at start)."""
    lead = lead_time(settings)
    return lambda now: run_pass(uow, now, lead)


def run_pass(uow, now: datetime, lead: timedelta = DEFAULT_LEAD) -> dict:
    """Return what agents can no longer take, then assign what is due within ``lead``."""
    returned = return_unfit(uow, now + lead)
    assigned = assign_due(uow, DECIDED_BY, now + lead)
    return {**{f"returned_{basis}": n for basis, n in sorted(returned.items())}, **assigned}


def return_unfit(uow, until: datetime) -> Counter:
    """Every open assigned call due by ``until`` whose agent may no longer take it.
    Each batch is judged on a read first; only the calls found to move are then
    locked (SKIP LOCKED), judged again and returned, so a pass with nothing to move
    writes nothing."""
    with uow.reader() as session:
        ids = list(
            session.scalars(
                select(Call.id)
                .where(Call.status == "scheduled", Call.agent_id.is_not(None), Call.due_at <= until)
                .order_by(*ORDER)
            )
        )
    totals = Counter()
    for start in range(0, len(ids), BATCH):
        with uow.reader() as session:
            moving = [
                call.id
                for call, _, _ in _verdicts(session, _held(session, ids[start : start + BATCH]))
            ]
        if not moving:
            continue
        with uow() as work:
            for call, basis, why in _verdicts(work.session, _held(work.session, moving, True)):
                release(work, call, basis, DECIDED_BY, why)
                totals[basis] += 1
    return totals


def _held(session, ids: list[str], lock: bool = False) -> list[Call]:
    query = (
        select(Call)
        .where(Call.id.in_(ids), Call.status == "scheduled", Call.agent_id.is_not(None))
        .order_by(*ORDER)
    )
    return list(session.scalars(query.with_for_update(skip_locked=True) if lock else query))


def _verdicts(session, calls: list[Call]) -> list[tuple[Call, str, str]]:
    """The calls that must go back to the pool, each with its basis and why."""
    agents = {
        a.id: a
        for a in session.scalars(select(Agent).where(Agent.id.in_({c.agent_id for c in calls})))
    }
    partners = {p.id: p.active for p in session.scalars(select(Partner))}
    customers = {
        c.customer_id: c
        for c in session.scalars(
            select(Customer).where(Customer.customer_id.in_({c.customer_id for c in calls}))
        )
    }
    plans = {p.id: p for p in session.scalars(select(CallPlan))}
    moving, kept = [], []
    for call in calls:
        agent = agents.get(call.agent_id)
        why = (
            "inactive"
            if agent is None
            else unfit(
                agent, call, customers.get(call.customer_id), plans.get(call.plan_id), partners
            )
        )
        if why:
            moving.append(
                (
                    call,
                    _basis(agent, why, partners),
                    f"{call.agent_id} may no longer take it: {why}",
                )
            )
        else:
            kept.append(call)
    return moving + _over_capacity(session, kept, agents)


def _over_capacity(session, calls: list[Call], agents: dict) -> list[tuple[Call, str, str]]:
    """The latest of an agent's open calls of a day beyond its capacity (lowered
    since they were assigned), counting every call it holds that day."""
    load = load_around(session, list({c.agent_id for c in calls}), calls)
    held = defaultdict(list)
    for call in calls:
        held[(call.agent_id, local_day(call.due_at))].append(call)
    moving = []
    for (agent_id, day), day_calls in held.items():
        capacity = agents[agent_id].daily_capacity
        excess = load[(agent_id, day)] - capacity
        moving += [
            (
                call,
                "over_capacity",
                f"{agent_id} holds {load[(agent_id, day)]} calls "
                f"on {day}, over its capacity of {capacity}",
            )
            for call in day_calls[::-1][: max(excess, 0)]
        ]
    return moving


def _basis(agent: Agent | None, why: str, partners: dict) -> str:
    if agent is None or not agent.active:
        return "agent_deactivated"
    if why == "inactive":  # an active agent of a partner that is not
        return "partner_suspended"
    if why == "no valid training" or why.startswith("training "):
        return "training_expired"
    return "unqualified"
