"""Planning routes beside the plans: missed-call sweeps, coverage compliance and
the company's contact-frequency cap."""

from flask.views import MethodView

from services.calls.calls import followups, missed, quality
from services.calls.plans import coverage as coverage_cases
from services.calls.plans import policy
from services.calls.plans.planning_schemas import (
    CoverageArgs,
    CoveragePage,
    FlagArgs,
    FlagPage,
    FollowupArgs,
    FollowupPage,
    PolicyIn,
    PolicyOut,
    SweepOut,
)
from shared.web.app import roles, service
from shared.web.blueprint import Blueprint

planning = Blueprint(
    "planning",
    __name__,
    url_prefix="",
    description="Missed calls, coverage compliance, contact policy",
)
MANAGERS = ("manager",)
READERS = ("manager", "agent", "analyst")


@planning.route("/calls/missed")
class MissedCalls(MethodView):
    @roles(*MANAGERS)
    @planning.response(200, SweepOut)
    def post(self):
        """Mark the calls whose window has closed as missed, and plan them again."""
        return missed.sweep_missed(service().uow)


@planning.route("/coverage")
class Coverage(MethodView):
    @roles(*READERS)
    @planning.arguments(CoverageArgs, location="query")
    @planning.response(200, CoveragePage)
    def get(self, args):
        """Per customer: days since the last qualified contact against its plans."""
        return coverage_cases.coverage(service().uow, args, args["limit"], args["cursor"])


@planning.route("/contact-policy")
class ContactPolicy(MethodView):
    @roles(*READERS)
    @planning.response(200, PolicyOut)
    def get(self):
        """The contact-frequency cap across every plan and channel (none until set)."""
        return policy.describe(service().uow)

    @roles(*MANAGERS)
    @planning.arguments(PolicyIn)
    @planning.response(200, PolicyOut)
    def put(self, data):
        """Set the cap: at most max_calls calls to a customer within per_days days."""
        return policy.set_policy(service().uow, data["max_calls"], data["per_days"])


@planning.route("/quality-flags")
class QualityFlags(MethodView):
    @roles("manager", "analyst")
    @planning.arguments(FlagArgs, location="query")
    @planning.response(200, FlagPage)
    def get(self, args):
        """Call records flagged as implausible, for review."""
        return quality.list_flags(service().uow, args, args["limit"], args["cursor"])


@planning.route("/followups")
class Followups(MethodView):
    @roles(*READERS)
    @planning.arguments(FollowupArgs, location="query")
    @planning.response(200, FollowupPage)
    def get(self, args):
        """Follow-ups created from outcomes: callbacks, retries, escalations, and the
        opportunities and opt-outs other services act on."""
        return followups.list_followups(service().uow, args, args["limit"], args["cursor"])
