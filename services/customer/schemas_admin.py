"""What the customer API accepts and answers for data administration: segments,
duplicates, data quality, imports (marshmallow, edges only)."""
from marshmallow import Schema, fields, validate

from services.customer.schemas import SEGMENT
from services.customer.segments import REQUIRABLE
from shared.web.pagination import PageArgs, page_schema


class SegmentIn(Schema):
    code = fields.String(required=True, validate=SEGMENT)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default=None, validate=validate.Length(max=2000))
    required_fields = fields.List(fields.String(validate=validate.OneOf(REQUIRABLE)),
                                  load_default=list)
    stale_after_days = fields.Integer(load_default=365,
                                      validate=validate.Range(min=1, max=3650))


class SegmentPatch(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    description = fields.String(allow_none=True, validate=validate.Length(max=2000))
    required_fields = fields.List(fields.String(validate=validate.OneOf(REQUIRABLE)))
    stale_after_days = fields.Integer(validate=validate.Range(min=1, max=3650))


class SegmentOut(Schema):
    code = fields.String()
    name = fields.String()
    description = fields.String(allow_none=True)
    required_fields = fields.List(fields.String())
    stale_after_days = fields.Integer()


class DuplicateArgs(PageArgs):
    min_score = fields.Float(load_default=0.85, validate=validate.Range(min=0.5, max=1))


class PairOut(Schema):
    customer_id = fields.String()
    other_id = fields.String()
    score = fields.Float()
    reason = fields.String()


class DuplicatePage(Schema):
    items = fields.List(fields.Nested(PairOut))
    next_cursor = fields.String(allow_none=True)
    comparisons = fields.Integer()


class QualityArgs(PageArgs):
    rule = fields.String(load_default=None, validate=validate.Length(max=32))
    segment = fields.String(load_default=None, validate=SEGMENT)
    status = fields.String(load_default="open", validate=validate.OneOf(("open", "resolved")))
    customer_id = fields.String(load_default=None, validate=validate.Length(max=36))


class QualityItemOut(Schema):
    id = fields.String()
    rule = fields.String()
    customer_id = fields.String(allow_none=True)
    segment = fields.String(allow_none=True)
    detail = fields.String()
    status = fields.String()
    created_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)
    resolved_by = fields.String(allow_none=True)
    resolution = fields.String(allow_none=True)


class ResolveIn(Schema):
    resolution = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ScanOut(Schema):
    findings = fields.Integer()
    raised = fields.Integer()
    resolved = fields.Integer()


class DataQualityOut(Schema):
    customers = fields.Integer()
    open_items = fields.Integer()
    by_rule = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_rule_and_segment = fields.List(fields.Dict())
    items = fields.List(fields.Nested(QualityItemOut))
    next_cursor = fields.String(allow_none=True)


class ImportArgs(Schema):
    format = fields.String(load_default=None, validate=validate.OneOf(("csv", "jsonl")))


class ImportJobOut(Schema):
    id = fields.String()
    format = fields.String()
    status = fields.String()
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
