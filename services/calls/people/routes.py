"""Agents, partners and assignment routes."""

from flask import url_for
from flask.views import MethodView

from services.calls.calls.routes import staff_only
from services.calls.calls.schemas import CallOut
from services.calls.people import agents as people
from services.calls.people import assignment, reassignment
from services.calls.people.assignment_schemas import (
    AssignIn,
    AssignmentPage,
    AssignOut,
    BulkReassignIn,
    BulkReassignOut,
    ReassignIn,
)
from services.calls.people.schemas import (
    AgentEdit,
    AgentIn,
    AgentListArgs,
    AgentOut,
    AgentPage,
    PartnerEdit,
    PartnerIn,
    PartnerOut,
    PartnerPage,
)
from shared.web.app import principal, roles, service
from shared.web.blueprint import Blueprint
from shared.web.idempotency import idempotent
from shared.web.pagination import PageArgs

people_bp = Blueprint(
    "people",
    __name__,
    url_prefix="",
    description="Staff and outsourcer agents, partners, assignment",
)
MANAGERS = ("manager",)
READERS = ("manager", "analyst")


@people_bp.route("/partners")
class Partners(MethodView):
    @roles(*READERS)
    @people_bp.arguments(PageArgs, location="query")
    @people_bp.response(200, PartnerPage)
    def get(self, args):
        """Partner organisations (outsourcers), oldest first."""
        return people.list_partners(service().uow, args["limit"], args["cursor"])

    @roles(*MANAGERS)
    @idempotent
    @people_bp.arguments(PartnerIn)
    @people_bp.response(201, PartnerOut)
    def post(self, data):
        """Register an outsourcer with its fee per completed call."""
        partner = people.create_partner(service().uow, data)
        return partner, 201, {"Location": url_for("people.Partner", partner_id=partner.id)}


@people_bp.route("/partners/<string:partner_id>")
class Partner(MethodView):
    @roles(*READERS)
    @people_bp.response(200, PartnerOut)
    def get(self, partner_id):
        return people.get_partner(service().uow, partner_id)

    @roles(*MANAGERS)
    @people_bp.arguments(PartnerEdit)
    @people_bp.response(200, PartnerOut)
    def patch(self, data, partner_id):
        """Change the fee per call (for calls completed from now on) or suspend the
        partner (its open calls return to the pool, its tokens stop working) and
        make it active again."""
        return people.update_partner(service().uow, partner_id, data, principal().subject)


@people_bp.route("/agents")
class Agents(MethodView):
    @roles(*READERS)
    @people_bp.arguments(AgentListArgs, location="query")
    @people_bp.response(200, AgentPage)
    def get(self, args):
        """Agents, optionally of one kind, partner or team."""
        return people.list_agents(service().uow, args, args["limit"], args["cursor"])

    @roles(*MANAGERS)
    @idempotent
    @people_bp.arguments(AgentIn)
    @people_bp.response(201, AgentOut)
    def post(self, data):
        """Add a staff agent (rate per minute) or a partner's agent; its id is the
        subject of its token."""
        agent = people.create_agent(service().uow, data)
        return agent, 201, {"Location": url_for("people.Agent", agent_id=agent.id)}


@people_bp.route("/agents/<string:agent_id>")
class Agent(MethodView):
    @roles(*READERS)
    @people_bp.response(200, AgentOut)
    def get(self, agent_id):
        return people.get_agent(service().uow, agent_id)

    @roles(*MANAGERS)
    @people_bp.arguments(AgentEdit)
    @people_bp.response(200, AgentOut)
    def patch(self, data, agent_id):
        """Change qualifications, trainings, capacity, rate or activity."""
        return people.update_agent(service().uow, agent_id, data)


@people_bp.route("/calls/assign")
class Assign(MethodView):
    @roles(*MANAGERS)
    @idempotent
    @people_bp.arguments(AssignIn)
    @people_bp.response(200, AssignOut)
    def post(self, data):
        """Assign open calls due within ``within_days`` (or the given ones)."""
        return assignment.assign_open(
            service().uow, principal().subject, data["call_ids"], data["within_days"]
        )


@people_bp.route("/calls/reassign")
class BulkReassign(MethodView):
    @roles(*MANAGERS)
    @idempotent
    @people_bp.arguments(BulkReassignIn)
    @people_bp.response(200, BulkReassignOut)
    def post(self, data):
        """Move a manager's choice of open calls (by agent, partner, segment and/or
        plan) to one qualified agent with room, or back to the pool for the
        assignment rules; at most ``limit`` a request, all or none of them."""
        filters = {
            name: data.get(name) for name in ("agent_id", "partner_id", "segment", "plan_id")
        }
        return reassignment.reassign_many(
            service().uow,
            filters,
            data["to_agent_id"],
            data["reason"],
            principal().subject,
            data["limit"],
        )


@people_bp.route("/calls/<string:call_id>/assignment")
class Reassign(MethodView):
    @staff_only
    @roles(*MANAGERS)
    @idempotent
    @people_bp.arguments(ReassignIn)
    @people_bp.response(200, CallOut)
    def post(self, data, call_id):
        """Reassign the call by hand, with a reason, to another qualified agent."""
        return reassignment.reassign(
            service().uow, call_id, data["agent_id"], data["reason"], principal().subject
        )


@people_bp.route("/calls/<string:call_id>/assignments")
class Assignments(MethodView):
    @staff_only
    @roles(*READERS)
    @people_bp.arguments(PageArgs, location="query")
    @people_bp.response(200, AssignmentPage)
    def get(self, args, call_id):
        """Every assignment decision about the call, with its reason, oldest first."""
        return reassignment.history(service().uow, call_id, args["limit"], args["cursor"])
