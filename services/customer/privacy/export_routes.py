"""Data-subject export routes: request an export across services, follow it, and
download it as one document once every service has answered."""

from flask import url_for
from flask.views import MethodView
from marshmallow import RAISE

from services.customer import config
from services.customer.privacy import exports
from services.customer.privacy.schemas import ExportOut
from services.customer.web import ADMINS, NoArgs
from shared.web.app import principal, roles, service
from shared.web.blueprint import Blueprint
from shared.web.idempotency import idempotent

exports_blp = Blueprint(
    "exports",
    __name__,
    url_prefix="/customers",
    description="Data-subject exports (PDPO data access requests)",
)


def timeout_seconds() -> float:
    return config.export_timeout(service().settings)


@exports_blp.route("/<string:customer_id>/exports")
class Exports(MethodView):
    @roles(*ADMINS)
    @idempotent
    @exports_blp.response(202, ExportOut)
    def post(self, customer_id):
        """Start an export of everything every service holds about the customer."""
        job = exports.request_export(
            service().uow, customer_id, principal().subject, timeout_seconds()
        )
        return (
            job,
            202,
            {"Location": url_for("exports.Export", customer_id=customer_id, export_id=job["id"])},
        )


@exports_blp.route("/<string:customer_id>/exports/<string:export_id>")
class Export(MethodView):
    @roles(*ADMINS)
    @exports_blp.arguments(NoArgs, location="query", unknown=RAISE)
    @exports_blp.response(200, ExportOut)
    def get(self, _args, customer_id, export_id):
        """The export's status; once complete, the whole document as a download."""
        job = exports.read(service().uow, customer_id, export_id)
        if job["status"] != "complete":
            return job
        name = f"customer-{customer_id}-export-{export_id}.json"
        return job, 200, {"Content-Disposition": f'attachment; filename="{name}"'}
