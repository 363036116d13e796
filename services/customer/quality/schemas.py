"""What the data-quality routes accept and answer: duplicate pairs, fix-it items
and the summary by rule and segment (marshmallow, edges only)."""

from marshmallow import Schema, fields, validate

from services.customer.segments.schemas import SEGMENT
from shared.web.pagination import PageArgs


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
