"""The rows recording outcomes reads again and again (customers, plans, plan
versions, agents, partners): read once per request, in bulk for an upload or one
by one on first use, with misses remembered too.

It answers ``get(model, key)`` and ``scalar(statement)`` like a session, so the
rules that read through it need not know which. The objects are the session's own:
a change made to one is the change the session flushes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.calls.calls.tables import Call
from services.calls.customers.tables import Customer
from services.calls.people.tables import Agent, Partner
from services.calls.plans.tables import CallPlan, CallPlanVersion


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
