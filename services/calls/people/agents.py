"""Agents and partners: staff agents, outsourcer agents of a partner organisation,
their qualifications, capacity and cost; a partner's suspension."""

from __future__ import annotations

from sqlalchemy import select, tuple_

from services.calls.calls.tables import Call
from services.calls.people.assignment import release
from services.calls.people.tables import Agent, Partner
from shared.clock import utcnow
from shared.errors import Conflict, Invalid, NotFound
from shared.web.pagination import decode_time_cursor, page


def create_partner(uow, data: dict) -> Partner:
    with uow() as work:
        partner = Partner(**data, created_at=utcnow())
        work.session.add(partner)
    return partner


def get_partner(uow, partner_id: str) -> Partner:
    with uow.reader() as session:
        partner = session.get(Partner, partner_id)
    if partner is None:
        raise NotFound(f"no partner {partner_id}")
    return partner


def update_partner(uow, partner_id: str, changes: dict, decided_by: str) -> Partner:
    """Change a partner's name, fee or status. A new fee costs the calls completed
    after it (the cost is taken when a call is completed). Suspending returns the
    partner's open calls to the pool at once, in the same transaction, for the
    ``assign-calls`` job to place; its tokens are refused from then on."""
    with uow() as work:
        partner = work.session.get(Partner, partner_id, with_for_update=True)
        if partner is None:
            raise NotFound(f"no partner {partner_id}")
        status = changes.pop("status", None)
        for name, value in changes.items():
            setattr(partner, name, value)
        if status == "suspended" and partner.active:
            partner.active = False
            calls = work.session.scalars(
                select(Call)
                .where(Call.partner_id == partner_id, Call.status == "scheduled")
                .with_for_update()
            )
            for call in calls:
                release(
                    work, call, "partner_suspended", decided_by, f"partner {partner.name} suspended"
                )
        elif status == "active":
            partner.active = True
    return partner


def partner_active(uow, partner_id: str | None) -> bool:
    """False for a suspended partner; True for an active or an unknown one (whose
    token then finds nothing of its own)."""
    with uow.reader() as session:
        return session.scalar(select(Partner.active).where(Partner.id == partner_id)) is not False


def list_partners(uow, limit: int, cursor: str | None) -> dict:
    return _page(uow, select(Partner), Partner, limit, cursor)


def create_agent(uow, data: dict) -> Agent:
    with uow() as work:
        if data.get("id") and work.session.get(Agent, data["id"]) is not None:
            raise Conflict(f"an agent {data['id']} already exists")
        _check_partner(work.session, data)
        agent = Agent(
            **{k: v for k, v in data.items() if v is not None or k != "id"}, created_at=utcnow()
        )
        work.session.add(agent)
    return agent


def update_agent(uow, agent_id: str, changes: dict) -> Agent:
    with uow() as work:
        agent = work.session.get(Agent, agent_id, with_for_update=True)
        if agent is None:
            raise NotFound(f"no agent {agent_id}")
        merged = {
            "kind": agent.kind,
            "partner_id": agent.partner_id,
            "rate_per_minute": agent.rate_per_minute,
            **changes,
        }
        check_kind(merged)
        _check_partner(work.session, merged)
        for name, value in changes.items():
            setattr(agent, name, value)
    return agent


def check_kind(data: dict) -> None:
    errors = {}
    # An empty partner id is a partner id too: it names no partner, and no row.
    if data["kind"] == "staff" and data.get("partner_id") is not None:
        errors["partner_id"] = ["A staff agent belongs to no partner."]
    if data["kind"] == "staff" and data.get("rate_per_minute") is None:
        errors["rate_per_minute"] = ["A staff agent needs a rate per minute."]
    if data["kind"] == "partner" and data.get("rate_per_minute") is not None:
        errors["rate_per_minute"] = ["A partner agent is paid by its partner's fee per call."]
    if errors:
        raise Invalid("the agent's kind does not fit", errors=errors)


def _check_partner(session, data: dict) -> None:
    if data["kind"] == "partner" and (
        not data.get("partner_id") or session.get(Partner, data["partner_id"]) is None
    ):
        raise Invalid(
            "an outsourcer agent needs a known partner",
            errors={"partner_id": ["No such partner."]},
        )


def get_agent(uow, agent_id: str) -> Agent:
    with uow.reader() as session:
        agent = session.get(Agent, agent_id)
    if agent is None:
        raise NotFound(f"no agent {agent_id}")
    return agent


def list_agents(uow, filters: dict, limit: int, cursor: str | None) -> dict:
    query = select(Agent)
    for name in ("kind", "partner_id", "team"):
        if filters.get(name):
            query = query.where(getattr(Agent, name) == filters[name])
    return _page(uow, query, Agent, limit, cursor)


def _page(uow, query, model, limit: int, cursor: str | None) -> dict:
    query = query.order_by(model.created_at, model.id).limit(limit + 1)
    after = decode_time_cursor(cursor)
    if after:
        query = query.where(tuple_(model.created_at, model.id) > after)
    with uow.reader() as session:
        rows = list(session.scalars(query))
    return page(rows, limit, lambda r: (r.created_at.isoformat(), r.id))
