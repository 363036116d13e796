"""Versioned event contracts: the payload of every event type, defined once.

Adding an optional field keeps a contract's version; anything else is a new
version (``CallCompletedV2``) registered beside the old one. Consumers exclude
unknown fields so that an added optional field never breaks them. Money travels
as a decimal string.
"""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

OUTCOMES = (
    "reached", "no_answer", "busy", "wrong_number", "callback_requested",
    "not_interested", "interested", "sale_opportunity", "complaint",
    "do_not_call_requested",
)
CHANNELS = ("phone", "visit", "email", "video")
AGENT_KINDS = ("staff", "partner")


class Contract(Schema):
    class Meta:
        unknown = EXCLUDE


def _money(**kw):
    return fields.Decimal(as_string=True, places=None, allow_nan=False, **kw)


class CustomerRegisteredV1(Contract):
    customer_id = fields.String(required=True)
    name = fields.String(required=True)
    phone = fields.String(load_default=None, allow_none=True)
    segment = fields.String(required=True)
    preferred_language = fields.String(load_default=None, allow_none=True)
    lifecycle_status = fields.String(load_default="active")
    registered_at = fields.AwareDateTime(required=True)


class CustomerUpdatedV1(Contract):
    customer_id = fields.String(required=True)
    segment = fields.String(required=True)
    name = fields.String(load_default=None, allow_none=True)
    changes = fields.Dict(keys=fields.String(), load_default=dict)


class CallScheduledV1(Contract):
    call_id = fields.String(required=True)
    plan_id = fields.String(required=True)
    customer_id = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    due_at = fields.AwareDateTime(required=True)
    segment = fields.String(load_default=None, allow_none=True)


class CallCompletedV1(Contract):
    call_id = fields.String(required=True)
    plan_id = fields.String(load_default=None, allow_none=True)
    customer_id = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    completed_at = fields.AwareDateTime(required=True)
    duration_seconds = fields.Integer(load_default=0, validate=validate.Range(min=0))
    satisfaction = fields.Integer(load_default=None, allow_none=True,
                                  validate=validate.Range(min=1, max=5))
    propensity = fields.Integer(load_default=None, allow_none=True,
                                validate=validate.Range(min=0, max=100))
    notes = fields.String(load_default=None, allow_none=True)
    segment = fields.String(load_default=None, allow_none=True)
    agent_id = fields.String(load_default=None, allow_none=True)
    agent_kind = fields.String(load_default="staff", validate=validate.OneOf(AGENT_KINDS))
    partner_id = fields.String(load_default=None, allow_none=True)
    cost = _money(load_default=None, allow_none=True)
    currency = fields.String(load_default="HKD", validate=validate.Length(equal=3))


class SaleLineV1(Contract):
    sku = fields.String(load_default=None, allow_none=True)
    description = fields.String(load_default=None, allow_none=True)
    quantity = _money(required=True)
    unit_price = _money(required=True)
    unit_cost = _money(required=True)


class SaleRecordedV1(Contract):
    sale_id = fields.String(required=True)
    customer_id = fields.String(required=True)
    currency = fields.String(required=True, validate=validate.Length(equal=3))
    recorded_at = fields.AwareDateTime(required=True)
    lines = fields.List(fields.Nested(SaleLineV1), required=True,
                        validate=validate.Length(min=1))
    revenue = _money(required=True)
    cost = _money(required=True)


CONTRACTS: dict[tuple[str, int], type[Contract]] = {
    ("customer.registered", 1): CustomerRegisteredV1,
    ("customer.updated", 1): CustomerUpdatedV1,
    ("call.scheduled", 1): CallScheduledV1,
    ("call.completed", 1): CallCompletedV1,
    ("sale.recorded", 1): SaleRecordedV1,
}


def contract_for(event_type: str, version: int) -> type[Contract]:
    """The payload schema of one event type and version; KeyError if unknown."""
    return CONTRACTS[(event_type, version)]


def routing_key(event_type: str, version: int) -> str:
    """``<aggregate>.<past-tense-verb>.v<version>``, as the spec names them."""
    return f"{event_type}.v{version}"
