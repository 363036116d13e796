"""What the webhook, withdrawal and calendar routes read and answer."""

from marshmallow import Schema, fields, validate

from services.calls.notifications.webhooks import KINDS
from shared.web.pagination import PageArgs, page_schema

SECRET = "Signs every delivery (see docs/calls.md); answered only when created."


class WebhookIn(Schema):
    url = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    kinds = fields.List(
        fields.String(validate=validate.OneOf(KINDS)),
        required=True,
        validate=validate.Length(min=1, max=len(KINDS)),
    )
    secret = fields.String(
        validate=validate.Length(min=24, max=200),
        metadata={"description": "Optional; Rapport makes one if absent."},
    )
    description = fields.String(validate=validate.Length(max=200))
    partner_id = fields.String(
        validate=validate.Length(max=36),
        metadata={"description": "A partner token's own partner (the default); nobody else's."},
    )


class WebhookOut(Schema):
    id = fields.String(required=True)
    url = fields.String(required=True)
    kinds = fields.List(fields.String(), required=True)
    partner_id = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    created_by = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)


class WebhookCreated(WebhookOut):
    secret = fields.String(required=True, metadata={"description": SECRET})


class DeliveryArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(("pending", "delivered", "failed")))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class DeliveryOut(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "pending, delivered or failed"})
    attempts = fields.Integer(required=True)
    next_attempt_at = fields.AwareDateTime(required=True)
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.AwareDateTime(required=True)
    delivered_at = fields.AwareDateTime(allow_none=True)
    payload = fields.Dict(required=True, metadata={"description": "The body sent"})


class WithdrawalArgs(PageArgs):
    acknowledged = fields.Boolean(metadata={"description": "false: those not yet acknowledged"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class WithdrawalOut(Schema):
    id = fields.String(required=True)
    call_id = fields.String(required=True)
    partner_id = fields.String(required=True)
    reason = fields.String(required=True)
    withdrawn_at = fields.AwareDateTime(required=True)
    acknowledged_at = fields.AwareDateTime(allow_none=True)
    acknowledged_by = fields.String(allow_none=True)


class CalendarTokenOut(Schema):
    token = fields.String(
        required=True, metadata={"description": "Shown once; a new one replaces the old"}
    )
    url = fields.String(required=True)


class CalendarArgs(Schema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=200))


DeliveryPage = page_schema(DeliveryOut, "WebhookDeliveryPage")
WithdrawalPage = page_schema(WithdrawalOut, "WithdrawalPage")
WebhookPage = page_schema(WebhookOut, "WebhookPage")
