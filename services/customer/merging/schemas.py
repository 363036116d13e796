"""What the merge route accepts (marshmallow, edges only)."""

from marshmallow import Schema, fields, validate


class MergeIn(Schema):
    duplicate_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    reason = fields.String(load_default=None, validate=validate.Length(max=500))
