"""Relationship continuity: a customer stays with the agent who last completed a
call with them, or failing that with that agent's partner organisation, wherever the
assignment rules still allow it (qualified, within capacity). The rules themselves
are ``assignment``'s; this module only says whom to try first."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from services.calls.calls.tables import Call
from services.calls.people.tables import Agent


@dataclass(frozen=True)
class Previous:
    """Who served the customer last: the agent, its partner, and on which call."""

    agent_id: str
    partner_id: str | None
    call_id: str


def previous(session, customer_ids: set[str]) -> dict[str, Previous]:
    """The last completed call's agent of each customer (none for a new customer)."""
    if not customer_ids:
        return {}
    rows = session.execute(
        select(Call.customer_id, Call.agent_id, Call.partner_id, Call.id)
        .where(
            Call.customer_id.in_(customer_ids),
            Call.status == "completed",
            Call.agent_id.is_not(None),
        )
        .order_by(Call.customer_id, Call.completed_at, Call.id)
    )
    # Ordered oldest first, so each customer keeps its latest row.
    return {customer: Previous(agent, partner, call) for customer, agent, partner, call in rows}


def ranked(agents: list[Agent], last: Previous | None) -> list[tuple[Agent, str]]:
    """``agents`` (already in round-robin order) with each one's basis: the previous
    agent first, then the other agents of its partner, then everyone else in turn."""
    if last is None:
        return [(agent, "round_robin") for agent in agents]

    def rank(agent: Agent) -> int:
        if agent.id == last.agent_id:
            return 0
        return 1 if last.partner_id and agent.partner_id == last.partner_id else 2

    ordered = sorted(agents, key=rank)  # stable: round-robin order within each rank
    return [(agent, "continuity" if rank(agent) < 2 else "round_robin") for agent in ordered]
