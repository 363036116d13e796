"""The timeline route, on the customers blueprint: ``/customers/{id}/activities``."""

from flask.views import MethodView
from marshmallow import RAISE

from services.customer.profiles.routes import blp
from services.customer.relationship import timeline
from services.customer.relationship.schemas import ActivityPage
from services.customer.web import READERS
from shared.web.app import roles, service
from shared.web.pagination import PageArgs


@blp.route("/<string:customer_id>/activities")
class Activities(MethodView):
    @roles(*READERS)
    @blp.arguments(PageArgs, location="query", unknown=RAISE)
    @blp.response(200, ActivityPage)
    def get(self, args, customer_id):
        """The customer's timeline of calls and sales, newest first."""
        return timeline.list_activities(service().uow, customer_id, args["limit"], args["cursor"])
