"""PDPO routes about one customer, on the customers blueprint: its consents, the
export of everything held about it here, and its erasure. The export across
services has its own blueprint (``export_routes``)."""

from flask.views import MethodView
from marshmallow import RAISE

from services.customer.privacy import consent, erasure, subject_access
from services.customer.privacy.schemas import (
    ConsentIn,
    ConsentOut,
    ConsentsOut,
    ErasureIn,
    SubjectExport,
)
from services.customer.profiles import reads
from services.customer.profiles.routes import blp
from services.customer.profiles.schemas import CustomerOut
from services.customer.web import ADMINS, READERS, WRITERS, NoArgs
from shared.web.app import principal, roles, service
from shared.web.idempotency import idempotent


@blp.route("/<string:customer_id>/consents")
class Consents(MethodView):
    @roles(*READERS)
    @blp.arguments(NoArgs, location="query", unknown=RAISE)
    @blp.response(200, ConsentsOut)
    def get(self, _args, customer_id):
        """Current consent per channel and purpose, and the whole record."""
        return consent.overview(service().uow, customer_id)

    @roles(*WRITERS)
    @idempotent
    @blp.arguments(ConsentIn)
    @blp.response(201, ConsentOut)
    def post(self, data, customer_id):
        """Record a grant or a withdrawal; a withdrawal announces the opt-out at once."""
        return consent.record(service().uow, customer_id, data, principal().subject)


@blp.route("/<string:customer_id>/export")
class Export(MethodView):
    @roles(*ADMINS)
    @blp.arguments(NoArgs, location="query", unknown=RAISE)
    @blp.response(200, SubjectExport)
    def get(self, _args, customer_id):
        """Everything held about this customer (a data access request)."""
        return subject_access.subject(service().uow, customer_id)


@blp.route("/<string:customer_id>/erasure")
class Erasure(MethodView):
    @roles(*ADMINS)
    @blp.arguments(ErasureIn)
    @blp.response(200, CustomerOut)
    def post(self, data, customer_id):
        """Erase what identifies the customer here and, by event, everywhere."""
        erasure.erase(service().uow, customer_id, principal().subject, data["reason"])
        return reads.get_customer(service().uow, customer_id)
