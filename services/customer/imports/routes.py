"""Import and export routes: upload a file to import and follow its job, read its
rejected rows, and download customers as CSV in the import's columns."""

from flask import Response, request, stream_with_context, url_for
from flask.views import MethodView
from marshmallow import RAISE

from services.customer.imports import csv_export
from services.customer.imports import jobs as importer
from services.customer.imports.schemas import (
    ExportArgs,
    ImportArgs,
    ImportJobOut,
    RejectionPage,
)
from services.customer.web import ADMINS, NoArgs
from shared.errors import Invalid
from shared.web.app import principal, roles, service
from shared.web.blueprint import Blueprint
from shared.web.idempotency import idempotent
from shared.web.pagination import PageArgs

IMPORT_MAX_BYTES = 1 << 30
FORMATS = {"text/csv": "csv", "application/x-ndjson": "jsonl", "application/jsonl": "jsonl"}

transfer_blp = Blueprint(
    "transfer", __name__, url_prefix="/customers", description="Bulk import and export"
)


@transfer_blp.route("/import")
class Import(MethodView):
    @roles(*ADMINS)
    @idempotent(streamed=True)
    @transfer_blp.arguments(ImportArgs, location="query", unknown=RAISE)
    @transfer_blp.response(202, ImportJobOut)
    def post(self, args):
        """Upload a CSV or JSON Lines file (the body itself, or a multipart ``file``);
        answers at once with the job to poll. With an Idempotency-Key, a retry of
        the same file answers with the job the first upload started."""
        request.max_content_length = IMPORT_MAX_BYTES
        upload = request.files.get("file") if request.mimetype == "multipart/form-data" else None
        fmt = (
            args["format"]
            or FORMATS.get(upload.mimetype if upload else request.mimetype)
            or (
                "jsonl"
                if upload and upload.filename.endswith((".jsonl", ".ndjson"))
                else "csv"
                if upload and upload.filename.endswith(".csv")
                else None
            )
        )
        if fmt is None:
            raise Invalid(
                "send text/csv or application/x-ndjson, or say ?format=",
                errors={"format": ["Unknown upload format."]},
            )
        stream = upload.stream if upload else request.stream
        job = importer.save_upload(
            service().settings, stream, fmt, principal().subject, service().uow
        )
        importer.start(service().uow, job.id)
        return (
            importer.get_job(service().uow, job.id),
            202,
            {"Location": url_for("transfer.ImportJob", job_id=job.id)},
        )


@transfer_blp.route("/import/<string:job_id>")
class ImportJob(MethodView):
    @roles(*ADMINS)
    @transfer_blp.arguments(NoArgs, location="query", unknown=RAISE)
    @transfer_blp.response(200, ImportJobOut)
    def get(self, _args, job_id):
        """An import's progress and counts."""
        return importer.get_job(service().uow, job_id)


@transfer_blp.route("/import/<string:job_id>/rejections")
class Rejections(MethodView):
    @roles(*ADMINS)
    @transfer_blp.arguments(PageArgs, location="query", unknown=RAISE)
    @transfer_blp.response(200, RejectionPage)
    def get(self, args, job_id):
        """Rejected rows by line number, with the reasons."""
        return importer.rejections(service().uow, job_id, args["limit"], args["cursor"])


@transfer_blp.route("/export")
class Export(MethodView):
    @roles(*ADMINS)
    @transfer_blp.arguments(ExportArgs, location="query", unknown=RAISE)
    @transfer_blp.alt_response(
        200,
        content_type="text/csv",
        schema={"type": "string"},
        description="The customers as CSV.",
        success=True,
    )
    def get(self, args):
        """Customers (of one segment) as CSV in the import's columns, streamed."""
        body = csv_export.segment_csv(service().uow, args["segment"])
        return Response(
            stream_with_context(body),
            mimetype="text/csv",
            headers={"Content-Disposition": "attachment; filename=customers.csv"},
        )
