"""The partner API (partner tokens only) and the audit of partner reads."""

import functools

from flask.views import MethodView

from services.calls.calls import outcomes
from services.calls.calls.outcome_schemas import BulkOutcomesIn, BulkOutcomesOut, OutcomeIn
from services.calls.partner import calls as partner
from services.calls.partner.schemas import (
    PartnerCallArgs,
    PartnerCallOut,
    PartnerCallPage,
    PartnerReadArgs,
    PartnerReadPage,
)
from services.calls.people import agents as people
from shared.errors import Forbidden
from shared.web.app import principal, roles, service
from shared.web.blueprint import Blueprint
from shared.web.idempotency import idempotent

partner_bp = Blueprint(
    "partner",
    __name__,
    url_prefix="/partner",
    description="For outsourcers: the calls assigned to your agents",
)
audit_bp = Blueprint(
    "partner_reads",
    __name__,
    url_prefix="/partner-reads",
    description="The audit of partner reads of customer data",
)


def partners_only(view):
    """403 for any token but a partner's, an admin's too, before anything of the
    request is read: every answer here is scoped to, and audited under, the
    caller's partner, and staff have the /calls routes for the same work."""

    @functools.wraps(view)
    def guarded(*args, **kwargs):
        if principal().role != "partner":
            raise Forbidden("the partner API is for partner credentials; staff use /calls")
        # Looked up on every request, so a suspension refuses tokens issued before it.
        if not people.partner_active(service().uow, principal().partner_id):
            raise Forbidden("partner suspended")
        return view(*args, **kwargs)

    return guarded


@partner_bp.route("/calls")
class PartnerCalls(MethodView):
    @partners_only
    @partner_bp.arguments(PartnerCallArgs, location="query")
    @partner_bp.response(200, PartnerCallPage)
    def get(self, args):
        """Your agents' calls by due time (open ones unless you ask for completed),
        with only the customer details needed to make each call."""
        return partner.list_calls(
            service().uow, principal(), args["status"], args["limit"], args["cursor"]
        )


@partner_bp.route("/calls/<string:call_id>")
class PartnerCall(MethodView):
    @partners_only
    @partner_bp.response(200, PartnerCallOut)
    def get(self, call_id):
        """One of your agents' calls; any other call is not found."""
        return partner.get_call(service().uow, principal(), call_id)

    @partners_only
    def put(self, call_id):
        """Not offered (405); another partner's call is 404."""
        partner.refuse_method(service().uow, principal(), call_id)

    patch = delete = post = put


def _audit_replay(answer: dict) -> None:
    partner.audit_replay(service().uow, principal(), answer)


@partner_bp.route("/calls/<string:call_id>/outcome")
class PartnerOutcome(MethodView):
    @partners_only
    @idempotent(on_replay=_audit_replay)  # a replayed answer is a read too
    @partner_bp.arguments(OutcomeIn)
    @partner_bp.response(201, PartnerCallOut)
    @partner_bp.alt_response(200, schema=PartnerCallOut, description="Already recorded")
    def post(self, data, call_id):
        """Record the outcome of one of your agents' calls, once."""
        view, created = partner.record_outcome(service().uow, principal(), call_id, data)
        return view, 201 if created else 200

    @partners_only
    def get(self, call_id):
        """Not offered (405: read the call); another partner's call is 404."""
        partner.refuse_method(service().uow, principal(), call_id)

    put = patch = delete = get


@partner_bp.route("/outcomes")
class PartnerOutcomes(MethodView):
    @partners_only
    @idempotent
    @partner_bp.arguments(BulkOutcomesIn)
    @partner_bp.response(200, BulkOutcomesOut)
    def post(self, data):
        """Up to 1,000 outcomes at once, each judged on its own and answered in order;
        send an Idempotency-Key to make the whole upload safe to retry."""
        return outcomes.record_outcomes(service().uow, data["outcomes"], principal())


@audit_bp.route("")
class PartnerReads(MethodView):
    @roles("manager")
    @audit_bp.arguments(PartnerReadArgs, location="query")
    @audit_bp.response(200, PartnerReadPage)
    def get(self, args):
        """Every partner read of customer data: who, which call, which fields, when."""
        return partner.list_reads(service().uow, args["partner_id"], args["limit"], args["cursor"])
