"""The merge route, on the customers blueprint: ``/customers/{id}/merge``."""

from flask.views import MethodView

from services.customer.merging import merging
from services.customer.merging.schemas import MergeIn
from services.customer.profiles import reads
from services.customer.profiles.routes import blp, etag
from services.customer.profiles.schemas import CustomerOut
from services.customer.web import ADMINS
from shared.web.app import principal, roles, service


@blp.route("/<string:customer_id>/merge")
class Merge(MethodView):
    @roles(*ADMINS)
    @blp.arguments(MergeIn)
    @blp.response(200, CustomerOut)
    def post(self, data, customer_id):
        """Merge ``duplicate_id`` into this customer, keeping both histories."""
        merging.merge(
            service().uow, customer_id, data["duplicate_id"], principal().subject, data["reason"]
        )
        customer = reads.get_customer(service().uow, customer_id)
        return customer, 200, etag(customer["version"])
