"""Bulk sales import routes: upload a file, follow its job, read its rejections."""

from flask import request, url_for
from flask.views import MethodView
from marshmallow import RAISE

from services.sales import config
from services.sales.imports import jobs as importer
from services.sales.imports.schemas import ImportArgs, ImportJobOut, RejectionPage
from shared.errors import Invalid
from shared.web.app import principal, require_roles, service
from shared.web.blueprint import Blueprint
from shared.web.idempotency import idempotent
from shared.web.pagination import PageArgs

IMPORT_MAX_BYTES = 1 << 30
FORMATS = {"text/csv": "csv", "application/x-ndjson": "jsonl", "application/jsonl": "jsonl"}

blp = Blueprint(
    "sale_imports",
    __name__,
    url_prefix="/sales/imports",
    description="Bulk import of sales with their lines (CSV or JSON Lines)",
)


@blp.before_request
def authorize():
    require_roles("manager")


@blp.route("")
class Imports(MethodView):
    @idempotent(streamed=True)
    @blp.arguments(ImportArgs, location="query", unknown=RAISE)
    @blp.response(202, ImportJobOut)
    def post(self, args):
        """Upload a CSV or JSON Lines file of sales (the body itself, or a multipart
        ``file``); answers at once with the job to poll. With an Idempotency-Key, a
        retry of the same file answers with the job the first upload started."""
        request.max_content_length = IMPORT_MAX_BYTES
        upload = request.files.get("file") if request.mimetype == "multipart/form-data" else None
        fmt = (
            args["format"]
            or FORMATS.get(upload.mimetype if upload else request.mimetype)
            or (
                "jsonl"
                if upload and (upload.filename or "").endswith((".jsonl", ".ndjson"))
                else "csv"
                if upload and (upload.filename or "").endswith(".csv")
                else None
            )
        )
        if fmt is None:
            raise Invalid(
                "send text/csv or application/x-ndjson, or say ?format=",
                errors={"format": ["Unknown upload format."]},
            )
        if request.mimetype == "multipart/form-data" and upload is None:
            raise Invalid(
                "a multipart upload needs its file in a part named file",
                errors={"file": ["Missing."]},
            )
        stream = upload.stream if upload else request.stream
        uow = service().uow
        job = importer.save_upload(service().settings, stream, fmt, principal().subject, uow)
        importer.start(uow, job.id, config.timezone(service().settings))
        return (
            importer.get_job(uow, job.id),
            202,
            {"Location": url_for("sale_imports.ImportJob", job_id=job.id)},
        )


@blp.route("/<string:job_id>")
class ImportJob(MethodView):
    @blp.response(200, ImportJobOut)
    def get(self, job_id):
        """An import's status, progress, counts and first rejected lines."""
        return importer.get_job(service().uow, job_id)


@blp.route("/<string:job_id>/rejections")
class Rejections(MethodView):
    @blp.arguments(PageArgs, location="query", unknown=RAISE)
    @blp.response(200, RejectionPage)
    def get(self, args, job_id):
        """Rejected lines by line number, with the field messages."""
        return importer.rejections(service().uow, job_id, args["limit"], args["cursor"])
