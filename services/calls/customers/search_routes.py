"""``GET /customers/search``: the workspace's customer search as an API (the use case
is services/calls/workspace/find.py; the search page calls the same one)."""

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from services.calls.workspace import find
from shared.web.app import roles, service
from shared.web.blueprint import Blueprint
from shared.web.pagination import PageArgs, page_schema


class FindArgs(PageArgs):
    # One box: an external reference, a phone in any format, an e-mail, or (part of) a name.
    q = fields.String(required=True, validate=validate.Length(min=1, max=200))


class FoundCustomer(Schema):
    customer_id = fields.String()
    name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    external_ref = fields.String(allow_none=True)
    segment = fields.String()
    preferred_language = fields.String(allow_none=True)
    lifecycle_status = fields.String()


FoundPage = page_schema(FoundCustomer, "FoundCustomerPage")

customers_bp = Blueprint(
    "customer_search",
    __name__,
    url_prefix="/customers",
    description="Finding a customer this service knows",
)


@customers_bp.route("/search")
class Search(MethodView):
    @roles("agent", "manager")
    @customers_bp.arguments(FindArgs, location="query")
    @customers_bp.response(200, FoundPage)
    def get(self, args):
        """Customers known here whose external reference (exactly), phone (any format),
        e-mail (any case) or name (accent- and case-insensitive word prefixes, any
        order) is ``q``; best first."""
        return find.search(service().uow, args["q"], args["limit"], args["cursor"])
