"""What the customer API accepts and answers (marshmallow, edges only)."""
from marshmallow import Schema, fields, validate

from shared.web.fields import Phone
from shared.web.pagination import PageArgs, page_schema

SEGMENT = validate.Regexp(r"^[a-z0-9][a-z0-9_-]{0,63}$",
                          error="Lower-case letters, digits, '-' and '_' (at most 64).")


class CustomerIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    phone = Phone(required=True)
    segment = fields.String(required=True, validate=SEGMENT)
    preferred_language = fields.String(
        load_default=None, validate=validate.Regexp(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"))


class CustomerOut(Schema):
    id = fields.String()
    name = fields.String()
    phone = fields.String()
    segment = fields.String()
    preferred_language = fields.String(allow_none=True)
    lifecycle_status = fields.String()
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    last_contacted_at = fields.DateTime(allow_none=True)
    calls_completed = fields.Integer()
    satisfaction = fields.Integer(allow_none=True)
    propensity = fields.Integer(allow_none=True)


class CustomerListArgs(PageArgs):
    segment = fields.String(load_default=None, validate=SEGMENT)


class ActivityOut(Schema):
    id = fields.String()
    kind = fields.String()
    occurred_at = fields.DateTime()
    summary = fields.Dict()


CustomerPage = page_schema(CustomerOut, "CustomerPage")
ActivityPage = page_schema(ActivityOut, "ActivityPage")
