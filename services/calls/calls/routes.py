"""Calls routes: load input, call one use case, dump output."""

import functools

from flask.views import MethodView

from services.calls.calls import outcomes, reads, unplanned
from services.calls.calls.outcome_schemas import (
    BulkOutcomesIn,
    BulkOutcomesOut,
    OutcomeIn,
    UnplannedCallIn,
)
from services.calls.calls.schemas import CallListArgs, CallOut, CallPage, QueueArgs, QueuePage
from shared.errors import NotFound
from shared.web.app import principal, roles, service
from shared.web.blueprint import Blueprint
from shared.web.idempotency import idempotent


def staff_only(view):
    """On routes about one call: a partner token learns nothing of any call here
    (404, as in the partner API), never a 403 that would tell it the call exists."""

    @functools.wraps(view)
    def guarded(*args, **kwargs):
        if principal().role == "partner":
            raise NotFound(f"no call {kwargs.get('call_id')}")
        return view(*args, **kwargs)

    return guarded


calls = Blueprint(
    "calls", __name__, url_prefix="/calls", description="Scheduled calls and their outcomes"
)
CALLERS = ("agent", "manager")
READERS = ("manager", "agent", "analyst")


@calls.route("")
class Calls(MethodView):
    @roles(*READERS)
    @calls.arguments(CallListArgs, location="query")
    @calls.response(200, CallPage)
    def get(self, args):
        """List calls by due time, optionally of one customer, plan or status."""
        return reads.list_calls(service().uow, args, args["limit"], args["cursor"])


queue_bp = Blueprint(
    "queue", __name__, url_prefix="/queue", description="The calling agent's own work list"
)


@queue_bp.route("")
class Queue(MethodView):
    @roles(*CALLERS)
    @queue_bp.arguments(QueueArgs, location="query")
    @queue_bp.response(200, QueuePage)
    def get(self, args):
        """Your open calls by due time, then priority, with what each needs: the
        customer's contact details, the checklist and the profile items to confirm;
        ``show`` narrows it to the due, overdue, callbacks or escalations."""
        return reads.queue(service().uow, principal(), args["limit"], args["cursor"], args["show"])


@calls.route("/outcomes")
class BulkOutcomes(MethodView):
    @roles(*CALLERS)
    @idempotent
    @calls.arguments(BulkOutcomesIn)
    @calls.response(200, BulkOutcomesOut)
    def post(self, data):
        """Record up to 1,000 outcomes at once; each item is judged on its own and
        answered in order (created, unchanged, or rejected with its reasons)."""
        return outcomes.record_outcomes(service().uow, data["outcomes"], principal())


@calls.route("/unplanned")
class Unplanned(MethodView):
    @roles(*CALLERS)
    @idempotent
    @calls.arguments(UnplannedCallIn)
    @calls.response(201, CallOut)
    def post(self, data):
        """Log an inbound or unplanned call against a known customer, with its outcome;
        an outbound one needs the customer's consent (409 with the reason otherwise)."""
        return unplanned.log_call(service().uow, data, principal()), 201


@calls.route("/<string:call_id>")
class Call(MethodView):
    @staff_only
    @roles(*READERS)
    @calls.response(200, CallOut)
    def get(self, call_id):
        """One call."""
        return reads.get_call(service().uow, call_id)


@calls.route("/<string:call_id>/outcome")
class Outcome(MethodView):
    @staff_only
    @roles(*CALLERS)
    @idempotent
    @calls.arguments(OutcomeIn)
    @calls.response(201, CallOut)
    @calls.alt_response(
        200, schema=CallOut, description="This same outcome was already recorded; nothing changed"
    )
    def post(self, data, call_id):
        """Record the call's outcome, once; satisfaction and propensity when reached."""
        call, created = outcomes.record_outcome(service().uow, call_id, data, principal())
        return call, 201 if created else 200
