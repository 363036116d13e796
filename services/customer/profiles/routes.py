"""Profile routes: list and search, register, read (now or as of a time), change,
and a profile's version history. ``blp`` is the customers blueprint: the routes of
other packages about one customer (its timeline, consents, merge, export,
erasure) are on it too."""

from flask import request, url_for
from flask.views import MethodView
from marshmallow import RAISE

from services.customer.profiles import profiles, reads
from services.customer.profiles.schemas import (
    AsOfArgs,
    CustomerIn,
    CustomerListArgs,
    CustomerOut,
    CustomerPage,
    CustomerPatch,
    VersionPage,
)
from services.customer.web import READERS, WRITERS
from shared.errors import Invalid
from shared.web.app import principal, roles, service
from shared.web.blueprint import Blueprint
from shared.web.idempotency import idempotent
from shared.web.pagination import PageArgs

blp = Blueprint(
    "customers",
    __name__,
    url_prefix="/customers",
    description="Customer profiles, their permanent record and consent",
)


def etag(version: int) -> dict:
    return {"ETag": f'W/"{version}"'}


def if_match() -> int | None:
    """The version named by If-Match (``W/"3"`` or ``"3"``), if one was sent."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    value = header.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise Invalid(
            "If-Match must be an ETag this API issued",
            errors={"If-Match": ["Not an ETag of this resource."]},
        )
    return int(value)


@blp.route("")
class Customers(MethodView):
    @roles(*READERS)
    @blp.arguments(CustomerListArgs, location="query", unknown=RAISE)
    @blp.response(200, CustomerPage)
    def get(self, args):
        """List live customers, oldest first, filtered by segment, status, team, phone."""
        limit, cursor = args.pop("limit"), args.pop("cursor")
        return reads.list_customers(service().uow, args, limit, cursor)

    @roles(*WRITERS)
    @idempotent
    @blp.arguments(CustomerIn)
    @blp.response(201, CustomerOut)
    def post(self, data):
        """Register a customer. A likely duplicate answers 409 with the candidates
        unless ``confirm_duplicate`` is true."""
        customer = profiles.register_customer(service().uow, data, principal().subject)
        return (
            customer,
            201,
            {
                "Location": url_for("customers.Customer", customer_id=customer["id"]),
                **etag(customer["version"]),
            },
        )


@blp.route("/<string:customer_id>")
class Customer(MethodView):
    @roles(*READERS)
    @blp.arguments(AsOfArgs, location="query", unknown=RAISE)
    @blp.response(200, CustomerOut)
    def get(self, args, customer_id):
        """A profile and its relationship state; with ``as_of``, the profile as it
        was then."""
        if args["as_of"] is not None:
            return reads.as_of(service().uow, customer_id, args["as_of"])
        customer = reads.get_customer(service().uow, customer_id)
        return customer, 200, etag(customer["version"])

    @roles(*WRITERS)
    @blp.arguments(CustomerPatch)
    @blp.response(200, CustomerOut)
    def patch(self, data, customer_id):
        """Change a profile: a new version. With If-Match, a stale version answers 412;
        an ``external_ref`` another customer has answers 409. Archive by setting
        ``lifecycle_status`` to ``archived``; nothing is deleted."""
        customer = profiles.update_customer(
            service().uow, customer_id, data, principal().subject, if_match()
        )
        return customer, 200, etag(customer["version"])


@blp.route("/<string:customer_id>/history")
class History(MethodView):
    @roles(*READERS)
    @blp.arguments(PageArgs, location="query", unknown=RAISE)
    @blp.response(200, VersionPage)
    def get(self, args, customer_id):
        """Every version of the profile (and of profiles merged into it), newest first."""
        return reads.history(service().uow, customer_id, args["limit"], args["cursor"])
