"""What the sales import API accepts and answers (marshmallow, edges only)."""

from marshmallow import Schema, fields, validate

from shared.web.pagination import page_schema


class ImportArgs(Schema):
    format = fields.String(load_default=None, validate=validate.OneOf(("csv", "jsonl")))


class RejectionOut(Schema):
    line = fields.Integer()
    external_ref = fields.String(allow_none=True)
    reasons = fields.Dict(
        metadata={
            "description": "Field messages, as a 422 answer's "
            "``errors`` (``_row``: the row as a whole)."
        }
    )


class ImportJobOut(Schema):
    id = fields.String()
    format = fields.String()
    status = fields.String(
        metadata={
            "description": "queued, running, done or failed. A job whose process stopped "
            "stays running: another process of the service takes it up from its committed "
            "sales. It fails on an error, or if its upload is gone from the data folder."
        }
    )
    total_bytes = fields.Integer()
    bytes_read = fields.Integer()
    progress = fields.Float()
    rows_read = fields.Integer(metadata={"description": "Lines of the file read."})
    sales_read = fields.Integer()
    created = fields.Integer(metadata={"description": "Sales recorded."})
    lines_created = fields.Integer()
    skipped = fields.Integer(
        metadata={
            "description": "Sales whose external_ref was on file already: not recorded again."
        }
    )
    rejected = fields.Integer(
        metadata={"description": "Sales rejected (none of their lines written)."}
    )
    error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    heartbeat_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    rejections = fields.List(
        fields.Nested(RejectionOut),
        metadata={
            "description": "The first rejected lines by line number (all of them: ``/rejections``)."
        },
    )


RejectionPage = page_schema(RejectionOut, "SaleImportRejectionPage")
