"""Calls routes: load input, call one use case, dump output."""
import functools

from flask import url_for
from flask.views import MethodView

from services.calls import (
    outcomes,
    plan_preview,
    rolling,
    scheduling,
    services,
    unplanned,
)
from services.calls import plans as plan_cases
from services.calls.outcome_schemas import (
    BulkOutcomesIn,
    BulkOutcomesOut,
    OutcomeIn,
    UnplannedCallIn,
)
from services.calls.plan_schemas import (
    PlanEdit,
    PlanIn,
    PlanOut,
    PlanPage,
    PlanVersionOut,
    PlanVersionPage,
    ScheduleIn,
    ScheduleOut,
)
from services.calls.preview_schemas import PreviewArgs, PreviewOut
from services.calls.schemas import CallListArgs, CallOut, CallPage, QueueArgs, QueuePage
from shared import clock
from shared.errors import NotFound
from shared.web.app import principal, roles, service
from shared.web.blueprint import Blueprint
from shared.web.idempotency import idempotent
from shared.web.pagination import PageArgs


def staff_only(view):
    """On routes about one call: a partner token learns nothing of any call here
    (404, as in the partner API), never a 403 that would tell it the call exists."""
    @functools.wraps(view)
    def guarded(*args, **kwargs):
        if principal().role == "partner":
            raise NotFound(f"no call {kwargs.get('call_id')}")
        return view(*args, **kwargs)
    return guarded


plans = Blueprint("call_plans", __name__, url_prefix="/call-plans",
                  description="Call plans: whom to call, how and how often")
calls = Blueprint("calls", __name__, url_prefix="/calls",
                  description="Scheduled calls and their outcomes")
PLANNERS = ("manager",)
CALLERS = ("agent", "manager")
READERS = ("manager", "agent", "analyst")


@plans.route("")
class Plans(MethodView):
    @roles(*READERS)
    @plans.arguments(PageArgs, location="query")
    @plans.response(200, PlanPage)
    def get(self, args):
        """List call plans, oldest first."""
        return plan_cases.list_plans(service().uow, args["limit"], args["cursor"])

    @roles(*PLANNERS)
    @idempotent
    @plans.arguments(PlanIn)
    @plans.response(201, PlanOut)
    def post(self, data):
        """Define a call plan: a segment, a channel and an RFC 5545 recurrence."""
        plan = plan_cases.create_plan(service().uow, data, principal().subject)
        return plan, 201, {"Location": url_for("call_plans.Plan", plan_id=plan.id)}


@plans.route("/preview")
class Preview(MethodView):
    @roles(*READERS)
    @plans.arguments(PreviewArgs, location="query")
    @plans.response(200, PreviewOut)
    def get(self, args):
        """The next ``count`` dates the rule gives in the time zone, and where the
        calling windows place each call (a plan editor's preview; nothing is saved)."""
        return plan_preview.preview(args["rrule"], args["timezone"], args["starts_at"],
                                    args["count"], args["window"], args["allow_holidays"],
                                    clock.now())


@plans.route("/<string:plan_id>")
class Plan(MethodView):
    @roles(*READERS)
    @plans.response(200, PlanOut)
    def get(self, plan_id):
        """One call plan, at its current version."""
        return plan_cases.get_plan(service().uow, plan_id)

    @roles(*PLANNERS)
    @plans.arguments(PlanEdit)
    @plans.response(200, PlanOut)
    def patch(self, data, plan_id):
        """Edit, pause (status paused), resume or end the plan: a new version. Calls
        ahead that it no longer asks for are cancelled; the rolling schedule plans
        the new ones. Calls already made keep their version."""
        return rolling.edit_plan(service().uow, plan_id, data, principal().subject)


@plans.route("/<string:plan_id>/versions")
class PlanVersions(MethodView):
    @roles(*READERS)
    @plans.arguments(PageArgs, location="query")
    @plans.response(200, PlanVersionPage)
    def get(self, args, plan_id):
        """Every version of the plan, oldest first."""
        return plan_cases.list_versions(service().uow, plan_id, args["limit"], args["cursor"])


@plans.route("/<string:plan_id>/versions/<int:version>")
class PlanVersion(MethodView):
    @roles(*READERS)
    @plans.response(200, PlanVersionOut)
    def get(self, plan_id, version):
        """The plan as it was at one version (the checklist a call was planned with)."""
        return plan_cases.get_version(service().uow, plan_id, version)


@plans.route("/<string:plan_id>/schedule")
class Schedule(MethodView):
    @roles(*PLANNERS)
    @idempotent
    @plans.arguments(ScheduleIn)
    @plans.response(200, ScheduleOut)
    def post(self, data, plan_id):
        """Optional: the periodic job extend-schedules keeps every active plan planned
        over its horizon. This plans the missing calls now (over the plan's horizon
        unless one is given); running it again adds none. 409 if the plan is paused
        or ended."""
        return scheduling.schedule_plan(service().uow, plan_id, data["horizon_days"])


@calls.route("")
class Calls(MethodView):
    @roles(*READERS)
    @calls.arguments(CallListArgs, location="query")
    @calls.response(200, CallPage)
    def get(self, args):
        """List calls by due time, optionally of one customer, plan or status."""
        return services.list_calls(service().uow, args, args["limit"], args["cursor"])


queue_bp = Blueprint("queue", __name__, url_prefix="/queue",
                     description="The calling agent's own work list")


@queue_bp.route("")
class Queue(MethodView):
    @roles(*CALLERS)
    @queue_bp.arguments(QueueArgs, location="query")
    @queue_bp.response(200, QueuePage)
    def get(self, args):
        """Your open calls by due time, then priority, with what each needs: the
        customer's contact details, the checklist and the profile items to confirm;
        ``show`` narrows it to the due, overdue, callbacks or escalations."""
        return services.queue(service().uow, principal(), args["limit"], args["cursor"],
                              args["show"])


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
        return services.get_call(service().uow, call_id)


@calls.route("/<string:call_id>/outcome")
class Outcome(MethodView):
    @staff_only
    @roles(*CALLERS)
    @idempotent
    @calls.arguments(OutcomeIn)
    @calls.response(201, CallOut)
    @calls.alt_response(200, schema=CallOut, description="This same outcome was already "
                        "recorded; nothing changed")
    def post(self, data, call_id):
        """Record the call's outcome, once; satisfaction and propensity when reached."""
        call, created = outcomes.record_outcome(service().uow, call_id, data, principal())
        return call, 201 if created else 200
