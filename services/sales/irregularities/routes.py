"""The irregularities route: sales, returns and deals that need a look."""

from flask.views import MethodView

from services.sales import config
from services.sales.irregularities import queries
from services.sales.irregularities.schemas import IrregularityArgs, IrregularityPage
from shared.web.app import roles, service
from shared.web.blueprint import Blueprint

blp = Blueprint(
    "irregularities",
    __name__,
    url_prefix="/irregularities",
    description="Sales, returns and deals that need a look",
)
READERS = ("manager", "analyst")


@blp.route("")
class Irregularities(MethodView):
    @roles(*READERS)
    @blp.arguments(IrregularityArgs, location="query")
    @blp.response(200, IrregularityPage)
    def get(self, args):
        """Irregularities of one ``kind``, newest first."""
        settings = service().settings
        days = args["days"]
        if days is None:
            days = (
                config.return_window_days(settings)
                if args["kind"] == "late_return"
                else config.stuck_deal_days(settings)
            )
        return queries.list_irregularities(
            service().uow, args["kind"], days, args["limit"], args["cursor"]
        )
