"""Call plan routes: load input, call one use case, dump output."""

from flask import url_for
from flask.views import MethodView

from services.calls.plans import plans as plan_cases
from services.calls.plans import preview as plan_preview
from services.calls.plans import rolling, scheduling
from services.calls.plans.preview_schemas import PreviewArgs, PreviewOut
from services.calls.plans.schemas import (
    PlanEdit,
    PlanIn,
    PlanOut,
    PlanPage,
    PlanVersionOut,
    PlanVersionPage,
    ScheduleIn,
    ScheduleOut,
)
from shared import clock
from shared.web.app import principal, roles, service
from shared.web.blueprint import Blueprint
from shared.web.idempotency import idempotent
from shared.web.pagination import PageArgs

plans = Blueprint(
    "call_plans",
    __name__,
    url_prefix="/call-plans",
    description="Call plans: whom to call, how and how often",
)
PLANNERS = ("manager",)
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
        return plan_preview.preview(
            args["rrule"],
            args["timezone"],
            args["starts_at"],
            args["count"],
            args["window"],
            args["allow_holidays"],
            clock.now(),
        )


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
