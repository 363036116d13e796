"""What the import and export routes accept and answer: an upload's format, the
job's progress and counts, its rejected rows (marshmallow, edges only)."""

from marshmallow import Schema, fields, validate

from services.customer.segments.schemas import SEGMENT
from shared.web.pagination import page_schema


class ImportArgs(Schema):
    format = fields.String(load_default=None, validate=validate.OneOf(("csv", "jsonl")))


class ImportJobOut(Schema):
    id = fields.String()
    format = fields.String()
    status = fields.String(
        metadata={
            "description": "queued, running, done or failed. A job whose process stopped "
            "stays running: another process of the service takes it up from its committed "
            "rows. It fails on an error, or if its upload is gone from the data folder."
        }
    )
    total_bytes = fields.Integer()
    bytes_read = fields.Integer()
    progress = fields.Float()
    rows_read = fields.Integer()
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    rejected = fields.Integer()
    error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)


class RejectionOut(Schema):
    line = fields.Integer()
    reasons = fields.Dict()


class ExportArgs(Schema):
    segment = fields.String(load_default=None, validate=SEGMENT)


RejectionPage = page_schema(RejectionOut, "RejectionPage")
