"""What the manager's assignment board shows: every agent (grouped by partner) with
its open calls today and within the lead time, its capacity and today's load as the
capacity rule counts it (``assignment.local_day``: scheduled and completed calls of
the Hong Kong day), and the open calls no agent could take with the assigner's
reasons. A read use case; the bulk form posts to ``reassignment.reassign_many``."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import select

from services.calls.calls.tables import Call
from services.calls.people.assignment import local_day
from services.calls.people.tables import Agent, Partner
from services.calls.plans.tables import CallPlan
from services.calls.workspace.form import ZONE

LEAD_DAYS = 7  # as POST /calls/assign's default ``within_days``
UNASSIGNABLE_SHOWN = 100
FILTERS = ("agent_id", "partner_id", "segment", "plan_id")


def end_of_today(now: datetime) -> datetime:
    day = local_day(now)
    return datetime(day.year, day.month, day.day, tzinfo=ZONE) + timedelta(days=1)


def board(uow, now: datetime, lead_days: int = LEAD_DAYS) -> dict:
    today, lead_end = end_of_today(now), now + timedelta(days=lead_days)
    with uow.reader() as session:
        agents = list(
            session.scalars(
                select(Agent).order_by(Agent.partner_id.is_not(None), Agent.partner_id, Agent.id)
            )
        )
        partners = {p.id: p for p in session.scalars(select(Partner).order_by(Partner.name))}
        open_today, open_lead, load = Counter(), Counter(), Counter()
        rows = session.execute(
            select(Call.agent_id, Call.due_at, Call.status).where(
                Call.agent_id.is_not(None),
                Call.status.in_(("scheduled", "completed")),
                Call.due_at < max(today, lead_end),
            )
        )
        day = local_day(now)
        for agent_id, due_at, status in rows:
            if status == "scheduled" and due_at < today:
                open_today[agent_id] += 1
            if status == "scheduled" and due_at < lead_end:
                open_lead[agent_id] += 1
            if local_day(due_at) == day:
                load[agent_id] += 1
        unassignable = list(
            session.scalars(
                select(Call)
                .where(
                    Call.status == "scheduled",
                    Call.agent_id.is_(None),
                    Call.for_role == "agent",
                    Call.unassigned_reason.is_not(None),
                )
                .order_by(Call.due_at, Call.id)
                .limit(UNASSIGNABLE_SHOWN)
            )
        )
        plans = list(session.scalars(select(CallPlan).order_by(CallPlan.name, CallPlan.id)))
    rows = [
        {
            "agent": a,
            "partner": partners.get(a.partner_id),
            "today": open_today[a.id],
            "lead": open_lead[a.id],
            "load": load[a.id],
            "capacity": a.daily_capacity,
            "full": load[a.id] >= a.daily_capacity,
        }
        for a in agents
    ]
    return {
        "agents": rows,
        "partners": list(partners.values()),
        "plans": plans,
        "unassignable": unassignable,
        "lead_days": lead_days,
        "day": day,
    }


def body(form) -> dict:
    """The body of POST /calls/reassign from the posted form (empty fields omitted,
    so the schema's own rule names the missing filter)."""
    out = {name: form[name].strip() for name in FILTERS if form.get(name, "").strip()}
    out["to_agent_id"] = form.get("to_agent_id", "").strip() or None
    out["reason"] = form.get("reason", "")
    return out


def field_errors(errors: dict | None) -> dict:
    """The API's ``errors`` by form field; the schema-wide refusal goes to the filters."""
    flat: dict = {}
    for name, value in (errors or {}).items():
        key = "filters" if name == "_schema" else name
        flat.setdefault(key, []).extend(
            [str(m) for m in value] if isinstance(value, list) else [str(value)]
        )
    return flat
