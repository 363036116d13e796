"""Assignment: each open call to an agent qualified for its customer's language and
segment and its channel, with valid training, within the agent's daily capacity;
among equals, the customer's previous agent or partner first (``continuity``), then
round-robin (the one that least recently got a call goes first).
Every decision, automatic or manual, is recorded with its reason and announced as
``call.assigned``; a call no agent can take keeps the reason, for all to see."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, tuple_

from services.calls.calls.tables import Call
from services.calls.customers.tables import Customer
from services.calls.people import continuity
from services.calls.people.tables import Agent, Assignment, Partner
from services.calls.plans.tables import CallPlan
from shared.clock import utcnow
from shared.messaging.unit_of_work import UnitOfWork

# Capacity is counted per calendar day in Hong Kong, where the call centre works.
HKT = ZoneInfo("Asia/Hong_Kong")
BATCH = 2000
ORDER = (Call.due_at, Call.priority, Call.id)


def local_day(when: datetime) -> date:
    return when.astimezone(HKT).date()


def unfit(
    agent: Agent, call: Call, customer: Customer | None, plan: CallPlan | None, partners: dict
) -> str | None:
    """Why ``agent`` may not take ``call``, or None if it is qualified."""
    day = local_day(call.due_at).isoformat()
    if not agent.active or (agent.partner_id and not partners.get(agent.partner_id)):
        return "inactive"
    if call.channel not in agent.channels:
        return f"channel {call.channel}"
    language = customer.preferred_language if customer else None
    if language and language not in agent.languages:
        return f"language {language}"
    if customer is None or customer.segment not in agent.segments:
        return f"segment {customer.segment if customer else 'unknown'}"
    valid = {t["name"] for t in agent.trainings if t["expires_on"] >= day}
    if not valid:
        return "no valid training"
    needed = set(plan.required_trainings if plan else ()) - valid
    if needed:
        return f"training {', '.join(sorted(needed))}"
    missing = set(plan.required_certifications if plan else ()) - set(agent.certifications)
    if missing:
        return f"certification {', '.join(sorted(missing))}"
    return None


def assign_open(
    uow, decided_by: str, call_ids: list[str] | None = None, within_days: int = 7
) -> dict:
    """Assign every open, unassigned call due within ``within_days`` (or the given ones)."""
    if call_ids is not None:
        with uow() as work:
            calls = list(
                work.session.scalars(
                    _unassigned().where(Call.id.in_(call_ids)).order_by(*ORDER).with_for_update()
                )
            )
            totals = assign_calls(work, calls, decided_by) if calls else Counter()
        return {"assigned": totals["assigned"], "unassignable": totals["unassignable"]}
    return assign_due(uow, decided_by, utcnow() + timedelta(days=within_days))


def assign_due(uow, decided_by: str, until: datetime) -> dict:
    """Assign the open, unassigned calls due by ``until``, a batch per transaction.
    Each batch's calls are taken FOR UPDATE SKIP LOCKED (PostgreSQL), so two passes
    at once never decide about the same call, and neither waits for the other."""
    totals, after = Counter(), None
    while True:
        query = _unassigned().where(Call.due_at <= until)
        if after is not None:  # past the calls no one could take in an earlier batch
            query = query.where(tuple_(Call.due_at, Call.priority, Call.id) > after)
        with uow() as work:
            calls = list(
                work.session.scalars(
                    query.order_by(*ORDER).limit(BATCH).with_for_update(skip_locked=True)
                )
            )
            if calls:
                totals += assign_calls(work, calls, decided_by)
        if len(calls) < BATCH:
            return {"assigned": totals["assigned"], "unassignable": totals["unassignable"]}
        after = (calls[-1].due_at, calls[-1].priority, calls[-1].id)


def _unassigned():
    return select(Call).where(
        Call.status == "scheduled", Call.agent_id.is_(None), Call.for_role == "agent"
    )


def active_agents(session) -> list[Agent]:
    """Every active agent, locked in one order: concurrent assigners then queue for
    the agents' turns and capacity instead of overfilling or deadlocking on them."""
    return list(
        session.scalars(
            select(Agent).where(Agent.active.is_(True)).order_by(Agent.id).with_for_update()
        )
    )


def assign_calls(
    work: UnitOfWork, calls: list[Call], decided_by: str, avoid: dict[str, str] | None = None
) -> Counter:
    """Decide about ``calls`` (locked by the caller); ``avoid`` maps a call to an agent
    it must not go back to."""
    session = work.session
    agents = active_agents(session)
    partners = {p.id: p.active for p in session.scalars(select(Partner))}
    customers = {
        c.customer_id: c
        for c in session.scalars(
            select(Customer).where(Customer.customer_id.in_({c.customer_id for c in calls}))
        )
    }
    plans = {p.id: p for p in session.scalars(select(CallPlan))}
    before = continuity.previous(session, {c.customer_id for c in calls})
    load = load_around(session, [a.id for a in agents], calls)
    seq = session.scalar(select(func.max(Agent.last_assigned_seq))) or 0
    totals = Counter()
    for call in calls:
        customer, plan = customers.get(call.customer_id), plans.get(call.plan_id)
        why: Counter = Counter()
        chosen = None
        turns = sorted(agents, key=lambda a: (a.last_assigned_seq, a.id))
        for agent, basis in continuity.ranked(turns, before.get(call.customer_id)):
            reason = unfit(agent, call, customer, plan, partners)
            if reason is None and avoid and avoid.get(call.id) == agent.id:
                reason = "returned by a manager"
            if reason is None and load[(agent.id, local_day(call.due_at))] >= agent.daily_capacity:
                reason = "at capacity"
            if reason:
                why[reason] += 1
            else:
                chosen, chosen_basis = agent, basis
                break
        if chosen is None:
            call.unassigned_reason = _unassignable(why, len(agents))
            totals["unassignable"] += 1
            continue
        seq += 1
        chosen.last_assigned_seq = seq
        day = local_day(call.due_at)
        load[(chosen.id, day)] += 1
        eligible = len(agents) - sum(why.values())
        lead = (
            f"continuity: served the customer on call {before[call.customer_id].call_id}"
            if chosen_basis == "continuity"
            else f"next in round-robin of {eligible} eligible"
        )
        record(
            work,
            call,
            chosen,
            "auto",
            decided_by,
            f"qualified for {call.channel}, segment {customer.segment}, language "
            f"{customer.preferred_language or 'any'}; {lead}; "
            f"{load[(chosen.id, day)]}/{chosen.daily_capacity} on {day}",
            chosen_basis,
        )
        totals["assigned"] += 1
        totals[chosen_basis] += 1
    return totals


def _unassignable(why: Counter, agents: int) -> str:
    if not agents:
        return "no active agent"
    parts = ", ".join(f"{n} {reason}" for reason, n in why.most_common())
    return f"no qualified agent with capacity: {parts}"[:300]


def load_around(session, agent_ids: list[str], calls: list[Call]) -> Counter:
    """Calls already held per (agent, Hong Kong day) around these calls' days."""
    if not calls or not agent_ids:
        return Counter()
    first = min(c.due_at for c in calls) - timedelta(days=1)
    last = max(c.due_at for c in calls) + timedelta(days=1)
    rows = session.execute(
        select(Call.agent_id, Call.due_at).where(
            Call.agent_id.in_(agent_ids),
            Call.status.in_(("scheduled", "completed")),
            Call.due_at.between(first, last),
        )
    )
    return Counter((agent_id, local_day(due_at)) for agent_id, due_at in rows)


def record(
    work: UnitOfWork, call: Call, agent: Agent, mode: str, decided_by: str, reason: str, basis: str
) -> None:
    now = utcnow()
    call.agent_id, call.partner_id, call.unassigned_reason = agent.id, agent.partner_id, None
    work.session.add(
        Assignment(
            call_id=call.id,
            agent_id=agent.id,
            partner_id=agent.partner_id,
            mode=mode,
            basis=basis,
            reason=reason[:500],
            decided_by=decided_by,
            decided_at=now,
        )
    )
    work.emit(
        "call.assigned",
        {
            "call_id": call.id,
            "customer_id": call.customer_id,
            "agent_id": agent.id,
            "agent_kind": agent.kind,
            "partner_id": agent.partner_id,
            "team": agent.team,
            "reason": reason,
            "assigned_at": now,
            "basis": basis,
        },
    )


def release(work: UnitOfWork, call: Call, basis: str, decided_by: str, reason: str) -> None:
    """Back to the pool: the call is unassigned, and the decision recorded with why."""
    work.session.add(
        Assignment(
            call_id=call.id,
            agent_id=None,
            partner_id=None,
            mode="returned",
            basis=basis,
            reason=reason[:500],
            decided_by=decided_by,
            decided_at=utcnow(),
        )
    )
    call.agent_id = call.partner_id = None
    call.unassigned_reason = f"returned to the pool: {basis}"


def why_not(session, agent: Agent, call: Call, partners: dict) -> str | None:
    """Why ``agent`` may not take ``call`` now, capacity included, or None."""
    why = unfit(
        agent,
        call,
        session.get(Customer, call.customer_id),
        session.get(CallPlan, call.plan_id),
        partners,
    )
    if (
        why is None
        and load_around(session, [agent.id], [call])[(agent.id, local_day(call.due_at))]
        >= agent.daily_capacity
    ):
        why = "at capacity"
    return why
