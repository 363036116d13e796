"""Report routes: load the query, call one report use case, dump the answer."""
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from services.reporting import config, services
from services.reporting.schemas import ActivityReport, PeriodArgs, PnlArgs, PnlReport
from shared.web.app import roles, service

blp = Blueprint("reports", __name__, url_prefix="/reports",
                description="Reports answered from read models maintained from events")
READERS = ("analyst", "manager")
# A misspelt filter (?form=) must not quietly answer for another period.
STRICT = {"location": "query", "unknown": RAISE}


@blp.route("/activity")
class Activity(MethodView):
    @roles(*READERS)
    @blp.arguments(PeriodArgs, **STRICT)
    @blp.response(200, ActivityReport)
    def get(self, args):
        """Calls planned and completed per local day, completed ones by outcome.

        ``from``/``to`` are local dates in the reporting time zone, both included;
        by default the last 30 days up to today. Only days with data are listed."""
        ctx = service()
        return services.activity_report(ctx.uow, config.timezone(ctx.settings),
                                        args["start"], args["end"])


@blp.route("/pnl")
class Pnl(MethodView):
    @roles(*READERS)
    @blp.arguments(PnlArgs, **STRICT)
    @blp.response(200, PnlReport)
    def get(self, args):
        """Revenue, cost and margin of one currency by customer segment.

        Sales of customers not yet known here count under segment ``unknown``.
        Each figure is the exact sum rounded once to cents, half-up (ROUND_HALF_UP),
        so a total may differ by a cent from the sum of rounded segment figures.
        ``from``/``to`` are optional local dates, both included."""
        return services.pnl_report(service().uow, args["currency"], args["start"], args["end"])
