"""Deal routes: open a deal, move it through the sales cycle, read its history."""

from flask import request, url_for
from flask.views import MethodView

from services.sales.deals import pipeline
from services.sales.deals.schemas import (
    DealIn,
    DealListArgs,
    DealOut,
    DealPage,
    StageChangeIn,
)
from shared.web.app import principal, require_roles, service
from shared.web.blueprint import Blueprint
from shared.web.idempotency import idempotent

blp = Blueprint(
    "deals",
    __name__,
    url_prefix="/deals",
    description="Deals through the sales cycle, with their stage history",
)


@blp.before_request
def authorize():
    require_roles(
        *(("manager", "agent") if request.method == "POST" else ("manager", "agent", "analyst"))
    )


@blp.route("")
class Deals(MethodView):
    @blp.arguments(DealListArgs, location="query")
    @blp.response(200, DealPage)
    def get(self, args):
        """Deals, newest first, optionally of one stage or customer."""
        return pipeline.list_deals(service().uow, args)

    @idempotent
    @blp.arguments(DealIn)
    @blp.response(201, DealOut)
    def post(self, data):
        """Open a deal at stage ``lead`` (409 if its source call already opened one)."""
        deal = pipeline.create_deal(service().uow, data, principal().subject)
        return deal, 201, {"Location": url_for("deals.DealDetail", deal_id=deal.id)}


@blp.route("/<string:deal_id>")
class DealDetail(MethodView):
    @blp.response(200, DealOut)
    def get(self, deal_id):
        """One deal with its stage history and the time spent in each stage."""
        return pipeline.get_deal(service().uow, deal_id)


@blp.route("/<string:deal_id>/stage")
class DealStage(MethodView):
    @blp.arguments(StageChangeIn)
    @blp.response(200, DealOut)
    def post(self, data, deal_id):
        """Move the deal one legal step: lead → qualified → proposal → negotiation →
        won, or to lost (with a ``lost_reason``) from any open stage; anything else
        is 409."""
        return pipeline.change_stage(service().uow, deal_id, data, principal().subject)
