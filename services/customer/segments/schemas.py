"""What the segment routes accept and answer, and the form of a segment code every
schema that names one checks (marshmallow, edges only)."""

from marshmallow import Schema, fields, validate

from services.customer.segments.segments import REQUIRABLE
from shared.web.pagination import page_schema

SEGMENT = validate.Regexp(
    r"^[a-z0-9][a-z0-9_-]{0,63}$", error="Lower-case letters, digits, '-' and '_' (at most 64)."
)


class SegmentIn(Schema):
    code = fields.String(required=True, validate=SEGMENT)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default=None, validate=validate.Length(max=2000))
    required_fields = fields.List(
        fields.String(validate=validate.OneOf(REQUIRABLE)), load_default=list
    )
    stale_after_days = fields.Integer(load_default=365, validate=validate.Range(min=1, max=3650))


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


SegmentPage = page_schema(SegmentOut, "SegmentPage")
