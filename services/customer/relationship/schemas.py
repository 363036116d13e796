"""What the timeline route answers (marshmallow, edges only)."""

from marshmallow import Schema, fields

from shared.web.pagination import page_schema


class ActivityOut(Schema):
    id = fields.String()
    customer_id = fields.String()
    kind = fields.String()
    occurred_at = fields.DateTime()
    summary = fields.Dict()


ActivityPage = page_schema(ActivityOut, "ActivityPage")
