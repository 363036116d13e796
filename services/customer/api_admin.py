"""Data administration routes: segments, duplicates, data quality, import, export."""
from flask import Response, request, stream_with_context, url_for
from flask.views import MethodView
from marshmallow import RAISE

from services.customer import duplicates, exporter, importer, quality, segments
from services.customer.schemas import NoArgs
from services.customer.schemas_admin import (
    DataQualityOut,
    DuplicateArgs,
    DuplicatePage,
    ExportArgs,
    ImportArgs,
    ImportJobOut,
    QualityArgs,
    QualityItemOut,
    RejectionPage,
    ResolveIn,
    ScanOut,
    SegmentIn,
    SegmentOut,
    SegmentPatch,
)
from shared.errors import Invalid
from shared.web.app import principal, roles, service
from shared.web.blueprint import Blueprint
from shared.web.pagination import PageArgs, decode_cursor, encode_cursor

ADMINS = ("manager",)
READERS = ("manager", "agent", "analyst")
IMPORT_MAX_BYTES = 1 << 30
FORMATS = {"text/csv": "csv", "application/x-ndjson": "jsonl", "application/jsonl": "jsonl"}

segments_blp = Blueprint("segments", __name__, url_prefix="/segments",
                         description="Market segments and what their profiles must carry")
quality_blp = Blueprint("data_quality", __name__, url_prefix="",
                        description="Duplicates, irregularities and fix-it items")
transfer_blp = Blueprint("transfer", __name__, url_prefix="/customers",
                         description="Bulk import and export")


@segments_blp.route("")
class Segments(MethodView):
    @roles(*READERS)
    @segments_blp.arguments(NoArgs, location="query", unknown=RAISE)
    @segments_blp.response(200, SegmentOut(many=True))
    def get(self, _args):
        """Every segment."""
        return segments.list_segments(service().uow)

    @roles(*ADMINS)
    @segments_blp.arguments(SegmentIn)
    @segments_blp.response(201, SegmentOut)
    def post(self, data):
        """Create a segment."""
        return segments.create_segment(service().uow, data)


@segments_blp.route("/<string:code>")
class Segment(MethodView):
    @roles(*READERS)
    @segments_blp.arguments(NoArgs, location="query", unknown=RAISE)
    @segments_blp.response(200, SegmentOut)
    def get(self, _args, code):
        return segments.get_segment(service().uow, code)

    @roles(*ADMINS)
    @segments_blp.arguments(SegmentPatch)
    @segments_blp.response(200, SegmentOut)
    def patch(self, data, code):
        """Change a segment's name, required fields or staleness threshold."""
        return segments.update_segment(service().uow, code, data)


@quality_blp.route("/duplicates")
class Duplicates(MethodView):
    @roles(*ADMINS)
    @quality_blp.arguments(DuplicateArgs, location="query", unknown=RAISE)
    @quality_blp.response(200, DuplicatePage)
    def get(self, args):
        """Candidate duplicate pairs over the whole base, best first."""
        with service().uow.reader() as session:
            pairs, comparisons = duplicates.find_all(session, args["min_score"])
        start = 0
        key = decode_cursor(args["cursor"], 1)
        if key is not None:
            start = key[0] if isinstance(key[0], int) and key[0] >= 0 else 0
        chunk = pairs[start:start + args["limit"]]
        more = start + args["limit"] < len(pairs)
        return {"items": chunk, "comparisons": comparisons,
                "next_cursor": encode_cursor(start + args["limit"]) if more else None}


@quality_blp.route("/data-quality")
class DataQuality(MethodView):
    @roles(*READERS)
    @quality_blp.arguments(QualityArgs, location="query", unknown=RAISE)
    @quality_blp.response(200, DataQualityOut)
    def get(self, args):
        """Open items by rule and segment, and the list of fix-it items."""
        limit, cursor = args.pop("limit"), args.pop("cursor")
        return {**quality.summary(service().uow),
                **quality.list_items(service().uow, args, limit, cursor)}


@quality_blp.route("/data-quality/scan")
class Scan(MethodView):
    @roles(*ADMINS)
    @quality_blp.response(200, ScanOut)
    def post(self):
        """Evaluate every rule over the base now."""
        return quality.scan(service().uow, principal().subject)


@quality_blp.route("/data-quality/items/<string:item_id>/resolve")
class Resolve(MethodView):
    @roles(*ADMINS)
    @quality_blp.arguments(ResolveIn)
    @quality_blp.response(200, QualityItemOut)
    def post(self, data, item_id):
        """Mark an item fixed, saying how."""
        return quality.resolve(service().uow, item_id, principal().subject,
                               data["resolution"])


@transfer_blp.route("/import")
class Import(MethodView):
    @roles(*ADMINS)
    @transfer_blp.arguments(ImportArgs, location="query", unknown=RAISE)
    @transfer_blp.response(202, ImportJobOut)
    def post(self, args):
        """Upload a CSV or JSON Lines file (the body itself, or a multipart ``file``);
        answers at once with the job to poll."""
        request.max_content_length = IMPORT_MAX_BYTES
        upload = request.files.get("file") if request.mimetype == "multipart/form-data" \
            else None
        fmt = args["format"] or FORMATS.get(
            upload.mimetype if upload else request.mimetype) or (
            "jsonl" if upload and upload.filename.endswith((".jsonl", ".ndjson"))
            else "csv" if upload and upload.filename.endswith(".csv") else None)
        if fmt is None:
            raise Invalid("send text/csv or application/x-ndjson, or say ?format=",
                          errors={"format": ["Unknown upload format."]})
        stream = upload.stream if upload else request.stream
        job = importer.save_upload(service().settings, stream, fmt, principal().subject,
                                   service().uow)
        importer.start(service().uow, job.id)
        return importer.get_job(service().uow, job.id), 202, {
            "Location": url_for("transfer.ImportJob", job_id=job.id)}


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
    @transfer_blp.alt_response(200, content_type="text/csv", schema={"type": "string"},
                               description="The customers as CSV.", success=True)
    def get(self, args):
        """Customers (of one segment) as CSV in the import's columns, streamed."""
        body = exporter.segment_csv(service().uow, args["segment"])
        return Response(stream_with_context(body), mimetype="text/csv", headers={
            "Content-Disposition": "attachment; filename=customers.csv"})

