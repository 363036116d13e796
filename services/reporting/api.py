"""Report routes: load the query, call one report use case, answer it as JSON, CSV
(``?format=csv``, streamed) or a PNG chart (``?format=png``)."""

from flask.views import MethodView
from marshmallow import RAISE

from services.reporting import catalogue, config
from services.reporting.agents.schemas import (
    AgentsArgs,
    AgentsReport,
    OutsourcerArgs,
    OutsourcerReport,
)
from services.reporting.calls.schemas import (
    ActivityArgs,
    ActivityReport,
    CoverageArgs,
    CoverageReport,
    FindingsArgs,
    FindingsReport,
)
from services.reporting.customers.schemas import (
    FollowupArgs,
    FollowupReport,
    QualityArgs,
    QualityReport,
)
from services.reporting.pnl.schemas import PnlArgs, PnlReport
from services.reporting.relationships.schemas import EffectivenessArgs, EffectivenessReport
from services.reporting.reports.render import respond
from services.reporting.sales.schemas import SalesArgs, SalesReport
from shared.web.app import roles, service
from shared.web.blueprint import Blueprint

blp = Blueprint(
    "reports",
    __name__,
    url_prefix="/reports",
    description="Reports answered from read models maintained from events",
)
READERS = ("analyst", "manager")
# A misspelt filter (?form=) must not quietly answer for another period.
STRICT = {"location": "query", "unknown": RAISE}
ROUTES = {
    "activity": (ActivityArgs, ActivityReport, "Calls planned, completed, missed; plan adherence."),
    "coverage": (CoverageArgs, CoverageReport, "Customers overdue against their call plan."),
    "findings": (
        FindingsArgs,
        FindingsReport,
        "Outcome mix, satisfaction and propensity distributions, competitors.",
    ),
    "sales": (SalesArgs, SalesReport, "Revenue, pipeline, call-to-won funnel, sales cycle."),
    "pnl": (PnlArgs, PnlReport, "P&L by segment, customer, day or month, reconciled."),
    "call-effectiveness": (
        EffectivenessArgs,
        EffectivenessReport,
        "Calls in a window against the change in the relationship.",
    ),
    "outsourcers": (
        OutsourcerArgs,
        OutsourcerReport,
        "Own staff against each partner, with 95% CIs.",
    ),
    "agents": (
        AgentsArgs,
        AgentsReport,
        "Per agent, per partner or staff against partners: calls due and done, "
        "adherence, outcomes, satisfaction, propensity, conversion, checklist.",
    ),
    "data-quality": (QualityArgs, QualityReport, "Open and resolved data-quality items."),
    "follow-ups": (
        FollowupArgs,
        FollowupReport,
        "Proposed next actions per customer, with reasons.",
    ),
}


def answer(name: str, args: dict):
    ctx = service()
    fmt = args.pop("format", "json")
    report = catalogue.report(name, ctx.uow, config.timezone(ctx.settings), args)
    return respond(name, report, fmt, catalogue.REPORTS[name][0])


def _register(name: str, query, report, summary: str) -> None:
    """One report route, documented through flask-smorest: its query parameters,
    its JSON answer (built by the report module, so documented rather than dumped)
    and the CSV and PNG alternatives."""

    class Report(MethodView):
        @roles(*READERS)
        @blp.arguments(query, **STRICT)
        @blp.response(200, description=ANSWERS)
        @blp.alt_response(200, schema=report, description=ANSWERS, success=True)
        @blp.alt_response(
            200, content_type="text/csv", description=ANSWERS, success=True, schema=TEXT
        )
        @blp.alt_response(
            200, content_type="image/png", description=ANSWERS, success=True, schema=BINARY
        )
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
