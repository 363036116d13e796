"""What the allocations and P&L APIs accept and answer."""

from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.sales import config
from services.sales.pnl import statement
from services.sales.wire import CURRENCY, DECIMAL_STRING, TEXT, amount_field
from shared.events.contracts import ALLOCATION_KINDS, CHANNELS
from shared.web.fields import Money
from shared.web.pagination import page_schema


class AllocationIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(ALLOCATION_KINDS))
    amount = Money(
        places=2,
        required=True,
        metadata=DECIMAL_STRING,
        validate=validate.Range(min=Decimal("0.01")),
    )
    currency = fields.String(load_default="HKD", validate=CURRENCY)
    team = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    channel = fields.String(load_default=None, validate=validate.OneOf(CHANNELS))
    segment = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    rule = fields.String(
        load_default=None,
        validate=validate.OneOf(config.ALLOCATION_RULES),
        metadata={
            "description": "calls or revenue; the service's SALES_ALLOCATION_RULE when not given."
        },
    )
    note = fields.String(load_default=None, validate=TEXT)


class ShareOut(Schema):
    customer_id = fields.String()
    weight = fields.Decimal(as_string=True, metadata=DECIMAL_STRING)
    amount = amount_field(2)


class AllocationOut(Schema):
    id = fields.String()
    kind = fields.String()
    amount = amount_field(2)
    currency = fields.String()
    team = fields.String(allow_none=True)
    channel = fields.String(allow_none=True)
    segment = fields.String(allow_none=True)
    period_start = fields.Date()
    period_end = fields.Date()
    rule = fields.String()
    note = fields.String(allow_none=True)
    recorded_at = fields.DateTime()
    recorded_by = fields.String()
    shares = fields.List(fields.Nested(ShareOut))


AllocationPage = page_schema(AllocationOut, "AllocationPage")


class PnlArgs(Schema):
    group_by = fields.String(load_default="customer", validate=validate.OneOf(statement.GROUPS))
    start = fields.Date(data_key="from", load_default=None)
    end = fields.Date(data_key="to", load_default=None)
    currency = fields.String(load_default=None, validate=CURRENCY)

    @validates_schema
    def _ordered(self, data, **_kw):
        if data["start"] and data["end"] and data["start"] > data["end"]:
            raise ValidationError(f"{data['start']} is after 'to' ({data['end']}).", "from")


class Figures(Schema):
    revenue = amount_field(2)
    discounts = amount_field(2)
    returns = amount_field(2)
    cost_of_goods = amount_field(2)
    gross_margin = amount_field(2)
    cost_to_serve = amount_field(2)
    allocations = amount_field(2)
    net_contribution = amount_field(2)
    calls = fields.Integer()


class GroupFigures(Figures):
    key = fields.String(allow_none=True)


class PnlOut(Schema):
    currency = fields.String()
    group_by = fields.String()
    start = fields.Date(data_key="from", allow_none=True)
    end = fields.Date(data_key="to", allow_none=True)
    groups = fields.List(fields.Nested(GroupFigures))
    totals = fields.Nested(Figures)
