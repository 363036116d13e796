"""Report routes: load the query, call one report use case, answer it as JSON, CSV
(``?format=csv``, streamed) or a PNG chart (``?format=png``)."""
from flask.views import MethodView
from marshmallow import RAISE

from services.reporting import config, schemas, services
from services.reporting.schemas_reports import (ActivityReport, CoverageReport, FindingsReport,
                                                FollowupReport, QualityReport)
from services.reporting.schemas_reports_sales import PnlReport, SalesReport
from services.reporting.schemas_reports_statistics import (AgentsReport, EffectivenessReport,
                                                           OutsourcerReport)
from services.reporting.render import respond
from shared.web.app import roles, service
from shared.web.blueprint import Blueprint

blp = Blueprint("reports", __name__, url_prefix="/reports",
                description="Reports answered from read models maintained from events")
READERS = ("analyst", "manager")
# A misspelt filter (?form=) must not quietly answer for another period.
STRICT = {"location": "query", "unknown": RAISE}
ROUTES = {
    "activity": (schemas.ActivityArgs, ActivityReport,
                 "Calls planned, completed, missed; plan adherence."),
    "coverage": (schemas.CoverageArgs, CoverageReport,
                 "Customers overdue against their call plan."),
    "findings": (schemas.FindingsArgs, FindingsReport,
                 "Outcome mix, satisfaction and propensity distributions, competitors."),
    "sales": (schemas.SalesArgs, SalesReport,
              "Revenue, pipeline, call-to-won funnel, sales cycle."),
    "pnl": (schemas.PnlArgs, PnlReport,
            "P&L by segment, customer, day or month, reconciled."),
    "call-effectiveness": (schemas.EffectivenessArgs, EffectivenessReport,
                           "Calls in a window against the change in the relationship."),
    "outsourcers": (schemas.OutsourcerArgs, OutsourcerReport,
                    "Own staff against each partner, with 95% CIs."),
    "agents": (schemas.AgentsArgs, AgentsReport,
               "Per agent, per partner or staff against partners: calls due and done, "
               "adherence, outcomes, satisfaction, propensity, conversion, checklist."),
    "data-quality": (schemas.QualityArgs, QualityReport,
                     "Open and resolved data-quality items."),
    "follow-ups": (schemas.FollowupArgs, FollowupReport,
                   "Proposed next actions per customer, with reasons."),
}


def answer(name: str, args: dict):
    ctx = service()
    fmt = args.pop("format", "json")
    report = services.report(name, ctx.uow, config.timezone(ctx.settings), args)
    return respond(name, report, fmt, services.REPORTS[name][0])


def _register(name: str, query, report, summary: str) -> None:
    """One report route, documented through flask-smorest: its query parameters,
    its JSON answer (built by the report module, so documented rather than dumped)
    and the CSV and PNG alternatives."""
    class Report(MethodView):
        @roles(*READERS)
        @blp.arguments(query, **STRICT)
        @blp.response(200, description=ANSWERS)
        @blp.alt_response(200, schema=report, description=ANSWERS, success=True)
        @blp.alt_response(200, content_type="text/csv", description=ANSWERS,
                          success=True, schema=TEXT)
        @blp.alt_response(200, content_type="image/png", description=ANSWERS,
                          success=True, schema=BINARY)
        def get(self, args):
            return answer(name, args)

    Report.get.__doc__ = f"{summary} See docs/reporting.md for definitions and methods."
    Report.__name__ = "Report_" + name.replace("-", "_")
    blp.add_url_rule(f"/{name}", endpoint=name.replace("-", "_"), view_func=Report)


ANSWERS = "The report as JSON; with ?format=csv its table, with ?format=png its chart."
TEXT = {"type": "string"}
BINARY = {"type": "string", "format": "binary"}
for _name, (_query, _report, _summary) in ROUTES.items():
    _register(_name, _query, _report, _summary)
