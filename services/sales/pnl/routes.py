"""Routes for allocations and the P&L."""

from flask import url_for
from flask.views import MethodView

from services.sales import config
from services.sales.pnl import costs, statement
from services.sales.pnl.schemas import (
    AllocationIn,
    AllocationOut,
    AllocationPage,
    PnlArgs,
    PnlOut,
)
from shared.web.app import principal, roles, service
from shared.web.blueprint import Blueprint
from shared.web.idempotency import idempotent
from shared.web.pagination import PageArgs

blp_allocations = Blueprint(
    "allocations",
    __name__,
    url_prefix="/allocations",
    description="Training, promotion material and marketing fund "
    "allocated, and how they landed on customers",
)
blp_pnl = Blueprint("pnl", __name__, url_prefix="/pnl", description="Profit and loss")
READERS = ("manager", "analyst")


@blp_allocations.route("")
class Allocations(MethodView):
    @roles(*READERS)
    @blp_allocations.arguments(PageArgs, location="query")
    @blp_allocations.response(200, AllocationPage)
    def get(self, args):
        """Allocations, newest first, each with its shares."""
        return costs.list_allocations(service().uow, args["limit"], args["cursor"])

    @roles("manager")
    @idempotent
    @blp_allocations.arguments(AllocationIn)
    @blp_allocations.response(201, AllocationOut)
    def post(self, data):
        """Allocate an amount (whole cents) to a team, channel and/or segment for a
        period; it is apportioned to the customers they served in it, by calls or by
        revenue, every cent to exactly one customer."""
        ctx = service()
        data["rule"] = data["rule"] or config.allocation_rule(ctx.settings)
        allocation = costs.record_allocation(
            ctx.uow, data, principal().subject, config.timezone(ctx.settings)
        )
        return (
            allocation,
            201,
            {"Location": url_for("allocations.Allocation", allocation_id=allocation.id)},
        )


@blp_allocations.route("/<string:allocation_id>")
class Allocation(MethodView):
    @roles(*READERS)
    @blp_allocations.response(200, AllocationOut)
    def get(self, allocation_id):
        """One allocation with its shares."""
        return costs.get_allocation(service().uow, allocation_id)


@blp_pnl.route("")
class Pnl(MethodView):
    @roles(*READERS)
    @blp_pnl.arguments(PnlArgs, location="query")
    @blp_pnl.response(200, PnlOut)
    def get(self, args):
        """Revenue, discounts, returns, cost of goods, gross margin, cost to serve,
        allocations and net contribution, grouped by ``group_by``, over local days
        ``from``..``to`` (both included). One currency: without ``currency``, a
        period holding more than one is refused (422)."""
        return statement.report(
            service().uow, args["group_by"], args["currency"], args["start"], args["end"]
        )
