"""Assignment: each open call to an agent qualified for its customer's language and
segment and its channel, with valid training, within the agent's daily capacity;
among equals, round-robin (the one that least recently got a call goes first).
Every decision, automatic or manual, is recorded with its reason and announced as
``call.assigned``; a call no agent can take keeps the reason, for all to see."""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, tuple_

from services.calls.models import Agent, Assignment, Call, CallPlan, Customer, Partner
from shared.errors import Conflict, Invalid, NotFound
from shared.messaging.tables import utcnow
from shared.messaging.unit_of_work import UnitOfWork
from shared.web.pagination import decode_time_cursor, page

# Capacity is counted per calendar day in Hong Kong, where the call centre works.
HKT = ZoneInfo("Asia/Hong_Kong")
BATCH = 2000


def local_day(when: datetime) -> date:
    return when.astimezone(HKT).date()


def unfit(agent: Agent, call: Call, customer: Customer | None, plan: CallPlan | None,
          partners: dict) -> str | None:
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


def assign_open(uow, decided_by: str, call_ids: list[str] | None = None,
                within_days: int = 7) -> dict:
    """Assign every open, unassigned call due within ``within_days`` (or the given ones)."""
    totals = Counter()
    with uow() as work:
        query = select(Call).where(Call.status == "scheduled", Call.agent_id.is_(None),
                                   Call.for_role == "agent")
        if call_ids is not None:
            query = query.where(Call.id.in_(call_ids))
        else:
            query = query.where(Call.due_at <= utcnow() + timedelta(days=within_days))
        calls = list(work.session.scalars(query.order_by(Call.due_at, Call.priority, Call.id)
                                          .with_for_update()))
        if calls:
            totals += _assign(work, calls, decided_by)
    return {"assigned": totals["assigned"], "unassignable": totals["unassignable"]}


def _assign(work: UnitOfWork, calls: list[Call], decided_by: str) -> Counter:
    session = work.session
    agents = list(session.scalars(select(Agent).where(Agent.active.is_(True))
                                  .order_by(Agent.last_assigned_seq, Agent.id)))
    partners = {p.id: p.active for p in session.scalars(select(Partner))}
    customers = {c.customer_id: c for c in session.scalars(select(Customer).where(
        Customer.customer_id.in_({c.customer_id for c in calls})))}
    plans = {p.id: p for p in session.scalars(select(CallPlan))}
    load = _load(session, [a.id for a in agents], calls)
    seq = session.scalar(select(func.max(Agent.last_assigned_seq))) or 0
    totals = Counter()
    for call in calls:
        customer, plan = customers.get(call.customer_id), plans.get(call.plan_id)
        why: Counter = Counter()
        chosen = None
        for agent in sorted(agents, key=lambda a: (a.last_assigned_seq, a.id)):
            reason = unfit(agent, call, customer, plan, partners)
            if reason is None and load[(agent.id, local_day(call.due_at))] >= agent.daily_capacity:
                reason = "at capacity"
            if reason:
                why[reason] += 1
            else:
                chosen = agent
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
        record(work, call, chosen, "auto", decided_by,
               f"qualified for {call.channel}, segment {customer.segment}, language "
               f"{customer.preferred_language or 'any'}; next in round-robin of {eligible} "
               f"eligible; {load[(chosen.id, day)]}/{chosen.daily_capacity} on {day}")
        totals["assigned"] += 1
    return totals


def _unassignable(why: Counter, agents: int) -> str:
    if not agents:
        return "no active agent"
    parts = ", ".join(f"{n} {reason}" for reason, n in why.most_common())
    return f"no qualified agent with capacity: {parts}"[:300]


def _load(session, agent_ids: list[str], calls: list[Call]) -> Counter:
    """Calls already held per (agent, Hong Kong day) around these calls' days."""
    if not calls or not agent_ids:
        return Counter()
    first = min(c.due_at for c in calls) - timedelta(days=1)
    last = max(c.due_at for c in calls) + timedelta(days=1)
    rows = session.execute(select(Call.agent_id, Call.due_at).where(
        Call.agent_id.in_(agent_ids), Call.status.in_(("scheduled", "completed")),
        Call.due_at.between(first, last)))
    return Counter((agent_id, local_day(due_at)) for agent_id, due_at in rows)


def record(work: UnitOfWork, call: Call, agent: Agent, mode: str, decided_by: str,
           reason: str) -> None:
    now = utcnow()
    call.agent_id, call.partner_id, call.unassigned_reason = agent.id, agent.partner_id, None
    work.session.add(Assignment(call_id=call.id, agent_id=agent.id, partner_id=agent.partner_id,
                                mode=mode, reason=reason, decided_by=decided_by, decided_at=now))
    work.emit("call.assigned", {
        "call_id": call.id, "customer_id": call.customer_id, "agent_id": agent.id,
        "agent_kind": agent.kind, "partner_id": agent.partner_id, "team": agent.team,
        "reason": reason, "assigned_at": now})


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
        why = unfit(agent, call, work.session.get(Customer, call.customer_id),
                    work.session.get(CallPlan, call.plan_id), partners)
        if why is None and _load(work.session, [agent.id], [call])[
                (agent.id, local_day(call.due_at))] >= agent.daily_capacity:
            why = "at capacity"
        if why:
            raise Invalid(f"agent {agent_id} may not take this call: {why}",
                          errors={"agent_id": [f"Not qualified: {why}."]})
        record(work, call, agent, "manual", decided_by, f"manual: {reason}")
    return call


def history(uow, call_id: str, limit: int, cursor: str | None) -> dict:
    query = (select(Assignment).where(Assignment.call_id == call_id)
             .order_by(Assignment.decided_at, Assignment.id).limit(limit + 1))
    after = decode_time_cursor(cursor)
    if after:
        query = query.where(tuple_(Assignment.decided_at, Assignment.id) > after)
    with uow.reader() as session:
        if session.get(Call, call_id) is None:
            raise NotFound(f"no call {call_id}")
        rows = list(session.scalars(query))
    return page(rows, limit, lambda a: (a.decided_at.isoformat(), a.id))
