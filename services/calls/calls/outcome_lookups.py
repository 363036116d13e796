"""The rows recording outcomes reads again and again (customers, plans, plan
versions, agents, partners): read once per request, in bulk for an upload or in
the one statement that finds a single call, with misses remembered too.

It answers ``get(model, key)`` and ``scalar(statement)`` like a session, so the
rules that read through it need not know which. The objects are the session's own:
a change made to one is the change the session flushes."""

from __future__ import annotations

from functools import cache

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import Session

from services.calls.calls import reach
from services.calls.calls.tables import Call
from services.calls.customers.tables import Customer
from services.calls.people.tables import Agent, Partner
from services.calls.plans.tables import CallPlan, CallPlanVersion
from shared.auth import Principal


class Held:
    def __init__(self, session: Session):
        self.session = session
        self._found: dict = {}

    def get(self, model, key):
        if key is None:  # a call without a plan (inbound or unplanned)
            return None
        try:
            return self._found[model, key]
        except KeyError:
            found = self._found[model, key] = self.session.get(model, key)
            return found

    def put(self, model, key, row) -> None:
        """``row`` (or None: a miss) is what ``get(model, key)`` answers from now on."""
        self._found[model, key] = row

    def scalar(self, statement):
        return self.session.scalar(statement)

    def load(self, model, where, keys: set, key_of) -> None:
        """Load ``model`` rows matching ``where`` at once; ``keys`` not found are misses."""
        for row in self.session.scalars(select(model).where(where)):
            self._found[model, key_of(row)] = row
        for key in keys:
            self._found.setdefault((model, key), None)


def hold(session: Session, calls: list[Call], subject: str) -> Held:
    """Everything recording ``calls`` on behalf of ``subject`` looks up, in a few queries."""
    held = Held(session)
    if not calls:
        return held
    customers = {c.customer_id for c in calls}
    plans = {c.plan_id for c in calls}
    held.load(Customer, Customer.customer_id.in_(customers), customers, lambda r: r.customer_id)
    held.load(CallPlan, CallPlan.id.in_(plans), plans, lambda r: r.id)
    held.load(
        CallPlanVersion,
        CallPlanVersion.plan_id.in_(plans),
        {(c.plan_id, c.plan_version) for c in calls if c.plan_version is not None},
        lambda r: (r.plan_id, r.version),
    )
    agents = {c.agent_id for c in calls if c.agent_id} | {subject}
    held.load(Agent, Agent.id.in_(agents), agents, lambda r: r.id)
    partners = {
        a.partner_id for a in (held.get(Agent, a) for a in agents) if a is not None and a.partner_id
    }
    held.load(Partner, Partner.id.in_(partners), partners, lambda r: r.id)
    return held


def find(session: Session, caller: Principal, call_id: str) -> tuple[Call | None, Held]:
    """The call ``caller`` names (as ``reach.find``), locked for update, and held with
    it what recording its outcome looks up: its customer, plan, plan version, the
    agent who answers for it and that agent's partner, read in the same statement.
    One round trip where there were six; the objects are the session's, as
    ``session.get`` would have answered them."""
    held = Held(session)
    partner = caller.role == "partner"
    params = {"call_id": call_id, "subject": caller.subject}
    if partner:
        params["partner_id"] = caller.partner_id
    row = session.execute(_find_statement(partner), params).first()
    if row is None:
        return None, held
    call, customer, plan, version, agent, partner_row = row
    agent_id = call.agent_id or caller.subject
    held.put(Customer, call.customer_id, customer)
    held.put(CallPlan, call.plan_id, plan)
    held.put(CallPlanVersion, (call.plan_id, call.plan_version), version)
    held.put(Agent, agent_id, agent)
    if agent is not None and agent.partner_id:
        held.put(Partner, agent.partner_id, partner_row)
    return call, held


@cache
def _find_statement(partner: bool):
    """Built once: building a six-entity statement costs more than running it."""
    answering = func.coalesce(Call.agent_id, bindparam("subject"))
    query = (
        select(Call, Customer, CallPlan, CallPlanVersion, Agent, Partner)
        .outerjoin(Customer, Customer.customer_id == Call.customer_id)
        .outerjoin(CallPlan, CallPlan.id == Call.plan_id)
        .outerjoin(
            CallPlanVersion,
            and_(
                CallPlanVersion.plan_id == Call.plan_id,
                CallPlanVersion.version == Call.plan_version,
            ),
        )
        .outerjoin(Agent, Agent.id == answering)
        .outerjoin(Partner, Partner.id == Agent.partner_id)
        .where(Call.id == bindparam("call_id"))
        .with_for_update(of=Call)
    )
    if partner:  # ``reach.scope``'s conditions, the partner's id bound per request
        query = query.where(
            Call.partner_id == bindparam("partner_id"), Call.status.in_(reach.VISIBLE)
        )
    return query
