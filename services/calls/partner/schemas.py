"""What the partner API answers: the call as a partner may see it, and the audit."""

from marshmallow import Schema, fields, validate

from services.calls.plans.schemas import ChecklistItemOut
from shared.web.pagination import PageArgs, page_schema


class PartnerCallArgs(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf(("scheduled", "completed")))


class PartnerCallFields(Schema):
    """The call as a partner sees it: no customer id, segment or history."""

    id = fields.String()
    channel = fields.String()
    due_at = fields.DateTime()
    window_end = fields.DateTime(allow_none=True)
    priority = fields.Integer()
    status = fields.String()
    agent_id = fields.String(allow_none=True)
    plan_version = fields.Integer(allow_none=True)
    kind = fields.String()
    outcome = fields.String(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)


class PartnerCustomerOut(Schema):
    name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    preferred_language = fields.String(allow_none=True)


class PartnerCallOut(Schema):
    call = fields.Nested(PartnerCallFields)
    customer = fields.Nested(PartnerCustomerOut)
    checklist = fields.List(fields.Nested(ChecklistItemOut))
    items_to_confirm = fields.List(fields.String())


class PartnerReadOut(Schema):
    id = fields.Integer()
    partner_id = fields.String()
    subject = fields.String()
    call_id = fields.String()
    customer_id = fields.String()
    fields_ = fields.String(data_key="fields", attribute="fields")
    endpoint = fields.String()
    read_at = fields.DateTime()


class PartnerReadArgs(PageArgs):
    partner_id = fields.String(load_default=None, validate=validate.Length(max=36))


PartnerCallPage = page_schema(PartnerCallOut, "PartnerCallPage")
PartnerReadPage = page_schema(PartnerReadOut, "PartnerReadPage")
