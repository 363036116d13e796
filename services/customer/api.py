"""Customer routes: load input, call one use case, dump output."""
from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from services.customer import services
from services.customer.schemas import (
    ActivityPage,
    CustomerIn,
    CustomerListArgs,
    CustomerOut,
    CustomerPage,
)
from shared.web.app import roles, service
from shared.web.idempotency import idempotent
from shared.web.pagination import PageArgs

blp = Blueprint("customers", __name__, url_prefix="/customers",
                description="Customer profiles and their activity record")
WRITERS = ("manager", "agent")
READERS = ("manager", "agent", "analyst")


@blp.route("")
class Customers(MethodView):
    @roles(*READERS)
    @blp.arguments(CustomerListArgs, location="query")
    @blp.response(200, CustomerPage)
    def get(self, args):
        """List customers, oldest first, optionally of one segment."""
        return services.list_customers(service().uow, args["segment"], args["limit"],
                                       args["cursor"])

    @roles(*WRITERS)
    @idempotent
    @blp.arguments(CustomerIn)
    @blp.response(201, CustomerOut)
    def post(self, data):
        """Register a customer; the phone is normalised to E.164."""
        customer = services.register_customer(service().uow, data)
        return customer, 201, {"Location": url_for("customers.Customer",
                                                   customer_id=customer.id),
                               "ETag": f'W/"{customer.version}"'}


@blp.route("/<string:customer_id>")
class Customer(MethodView):
    @roles(*READERS)
    @blp.response(200, CustomerOut)
    def get(self, customer_id):
        """One customer's profile and relationship state."""
        customer = services.get_customer(service().uow, customer_id)
        return customer, 200, {"ETag": f'W/"{customer.version}"'}


@blp.route("/<string:customer_id>/activities")
class Activities(MethodView):
    @roles(*READERS)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, ActivityPage)
    def get(self, args, customer_id):
        """The customer's timeline, newest first."""
        return services.list_activities(service().uow, customer_id, args["limit"],
                                        args["cursor"])
