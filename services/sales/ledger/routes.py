"""Sales ledger routes: load input, call one use case, dump output.

The ledger is append-only, so there is no route to change or delete a sale: a
return or a cancellation is a new, reversing entry. Roles are checked for the
whole blueprint before any body is read, so a caller without the role gets 403
whatever it sent.
"""

from flask import request, url_for
from flask.views import MethodView

from services.sales import config
from services.sales.ledger import reversals, sales
from services.sales.ledger.schemas import (
    CancelIn,
    CancellationOut,
    ReturnIn,
    ReturnOut,
    SaleIn,
    SaleListArgs,
    SaleOut,
    SalePage,
)
from shared.web.app import principal, require_roles, service
from shared.web.blueprint import Blueprint
from shared.web.idempotency import idempotent

blp = Blueprint(
    "transactions",
    __name__,
    url_prefix="/transactions",
    description="The sales ledger: sales, returns and cancellations",
)
WRITERS = ("manager", "agent")
READERS = ("manager", "agent", "analyst")


@blp.before_request
def authorize():
    require_roles(*(WRITERS if request.method == "POST" else READERS))


def _zone():
    return config.timezone(service().settings)


@blp.route("")
class Transactions(MethodView):
    @blp.arguments(SaleListArgs, location="query")
    @blp.response(200, SalePage)
    def get(self, args):
        """List sales, newest first, optionally of one customer (lines in each sale's detail)."""
        return sales.list_sales(service().uow, args["customer_id"], args["limit"], args["cursor"])

    @idempotent
    @blp.arguments(SaleIn)
    @blp.response(201, SaleOut)
    def post(self, data):
        """Record a sale; totals are exact sums rounded once to the cent, half up.

        Money is sent as decimal strings ("19.99"). A line naming a catalogue SKU
        takes the product's price and unit cost in effect at the sale's time unless
        given. A customer not yet known here is accepted and answered with
        ``customer_known: false``."""
        sale = sales.record_sale(service().uow, data, principal().subject, _zone())
        return sale, 201, {"Location": url_for("transactions.Transaction", sale_id=sale.id)}


@blp.route("/<string:sale_id>")
class Transaction(MethodView):
    @blp.response(200, SaleOut)
    def get(self, sale_id):
        """One sale with its lines, returns and cancellation."""
        return sales.get_sale(service().uow, sale_id)


@blp.route("/<string:sale_id>/returns")
class Returns(MethodView):
    @idempotent
    @blp.arguments(ReturnIn)
    @blp.response(201, ReturnOut)
    def post(self, data, sale_id):
        """Return goods of a sale, by line number and quantity. Over all its returns
        a line can never take back more than was sold (422)."""
        entry = reversals.return_sale(service().uow, sale_id, data, principal().subject, _zone())
        return entry, 201, {"Location": url_for("transactions.Transaction", sale_id=sale_id)}


@blp.route("/<string:sale_id>/cancellation")
class Cancellation(MethodView):
    @idempotent
    @blp.arguments(CancelIn)
    @blp.response(201, CancellationOut)
    def post(self, data, sale_id):
        """Cancel a sale with a reversing entry (409 if it was cancelled already or
        has returns)."""
        entry = reversals.cancel_sale(
            service().uow, sale_id, data["reason"], principal().subject, _zone()
        )
        return entry, 201, {"Location": url_for("transactions.Transaction", sale_id=sale_id)}
