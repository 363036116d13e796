"""Report routes: load the query, call one report use case, answer it as JSON, CSV
(``?format=csv``, streamed) or a PNG chart (``?format=png``)."""
from flask.views import MethodView
from marshmallow import RAISE

from services.reporting import config, schemas, services
from services.reporting.render import respond
from shared.web.app import roles, service
from shared.web.blueprint import Blueprint

blp = Blueprint("reports", __name__, url_prefix="/reports",
                description="Reports answered from read models maintained from events")
READERS = ("analyst", "manager")
# A misspelt filter (?form=) must not quietly answer for another period.
STRICT = {"location": "query", "unknown": RAISE}
ROUTES = {
    "activity": (schemas.ActivityArgs, "Calls planned, completed, missed; plan adherence."),
    "coverage": (schemas.CoverageArgs, "Customers overdue against their call plan."),
    "findings": (schemas.FindingsArgs,
                 "Outcome mix, satisfaction and propensity distributions, competitors."),
    "sales": (schemas.SalesArgs, "Revenue, pipeline, call-to-won funnel, sales cycle."),
    "pnl": (schemas.PnlArgs, "P&L by segment, customer, day or month, reconciled."),
    "call-effectiveness": (schemas.EffectivenessArgs,
                           "Calls in a window against the change in the relationship."),
    "outsourcers": (schemas.OutsourcerArgs, "Own staff against each partner, with 95% CIs."),
    "data-quality": (schemas.QualityArgs, "Open and resolved data-quality items."),
    "follow-ups": (schemas.FollowupArgs, "Proposed next actions per customer, with reasons."),
}


def answer(name: str, args: dict):
    ctx = service()
    fmt = args.pop("format", "json")
    report = services.report(name, ctx.uow, config.timezone(ctx.settings), args)
    return respond(name, report, fmt, services.REPORTS[name][0])


def _register(name: str, schema, summary: str) -> None:
    class Report(MethodView):
        @roles(*READERS)
        @blp.arguments(schema, **STRICT)
        @blp.response(200, description=summary)
        @blp.alt_response(200, content_type="text/csv", description="?format=csv")
        @blp.alt_response(200, content_type="image/png", description="?format=png")
        def get(self, args):
            return answer(name, args)

    Report.get.__doc__ = f"{summary} See docs/reporting.md for definitions and methods."
    Report.__name__ = "Report_" + name.replace("-", "_")
    blp.add_url_rule(f"/{name}", view_func=Report.as_view(name.replace("-", "_")))


for _name, (_schema, _summary) in ROUTES.items():
    _register(_name, _schema, _summary)
