"""What the transactions API accepts and answers (marshmallow, edges only): line
amounts at the ledger's four places, totals at two (``services.sales.wire``)."""

from datetime import datetime, timedelta
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate

from services.sales.wire import (
    CURRENCY,
    CUSTOMER_ID,
    DECIMAL_STRING,
    TEXT,
    amount_field,
)
from shared import clock
from shared.events.contracts import AGENT_KINDS, CHANNELS
from shared.web.fields import Money
from shared.web.pagination import PageArgs, page_schema

MAX_LINES = 500
# A till's clock may run a little ahead of ours; a sale dated later than this is a mistake.
CLOCK_SKEW = timedelta(minutes=5)


def not_in_future(value: datetime) -> None:
    if value > clock.now() + CLOCK_SKEW:
        raise ValidationError("Cannot be in the future.")


class LineIn(Schema):
    sku = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=64),
        metadata={
            "description": "A catalogue product; its price and unit "
            "cost at the sale's time are used when not given."
        },
    )
    description = fields.String(load_default=None, validate=validate.Length(max=200))
    quantity = Money(
        required=True,
        metadata=DECIMAL_STRING,
        validate=validate.Range(min=Decimal(0), min_inclusive=False),
    )
    unit_price = Money(
        load_default=None, metadata=DECIMAL_STRING, validate=validate.Range(min=Decimal(0))
    )
    unit_cost = Money(
        load_default=None, metadata=DECIMAL_STRING, validate=validate.Range(min=Decimal(0))
    )
    discount = Money(
        load_default=Decimal(0),
        metadata={**DECIMAL_STRING, "description": "An amount off the whole line, not per unit."},
        validate=validate.Range(min=Decimal(0)),
    )


EXTERNAL_REF = validate.Length(min=1, max=100)


class SaleIn(Schema):
    external_ref = fields.String(
        load_default=None,
        validate=EXTERNAL_REF,
        metadata={
            "description": "The sale's reference where it came from (an invoice number): "
            "a second sale with the same reference is refused (409)."
        },
    )
    customer_id = fields.String(required=True, validate=CUSTOMER_ID)
    currency = fields.String(load_default="HKD", validate=CURRENCY)
    recorded_at = fields.AwareDateTime(load_default=None, validate=not_in_future)
    lines = fields.List(
        fields.Nested(LineIn), required=True, validate=validate.Length(min=1, max=MAX_LINES)
    )
    deal_id = fields.String(load_default=None, validate=validate.Length(min=1, max=36))
    source_call_id = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    channel = fields.String(load_default=None, validate=validate.OneOf(CHANNELS))
    team = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    agent_kind = fields.String(load_default=None, validate=validate.OneOf(AGENT_KINDS))
    approval_reason = fields.String(
        load_default=None,
        validate=TEXT,
        metadata={
            "description": "Why a sale below cost was approved; without one it is listed "
            "as an irregularity."
        },
    )


class ReturnLineIn(Schema):
    line_no = fields.Integer(required=True, validate=validate.Range(min=1))
    quantity = Money(
        required=True,
        metadata=DECIMAL_STRING,
        validate=validate.Range(min=Decimal(0), min_inclusive=False),
    )


class ReturnIn(Schema):
    lines = fields.List(
        fields.Nested(ReturnLineIn), required=True, validate=validate.Length(min=1, max=MAX_LINES)
    )
    returned_at = fields.AwareDateTime(load_default=None, validate=not_in_future)
    reason = fields.String(load_default=None, validate=TEXT)


class CancelIn(Schema):
    reason = fields.String(required=True, validate=TEXT)


class SaleListArgs(PageArgs):
    customer_id = fields.String(load_default=None, validate=CUSTOMER_ID)


class LineOut(Schema):
    line_no = fields.Integer()
    sku = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    quantity = amount_field(4)
    unit_price = amount_field(4)
    unit_cost = amount_field(4)
    discount = amount_field(4)


class ReturnLineOut(Schema):
    line_no = fields.Integer()
    quantity = amount_field(4)
    revenue = fields.Decimal(
        places=2, as_string=True, attribute="revenue_cents", metadata=DECIMAL_STRING
    )
    cost = fields.Decimal(places=2, as_string=True, attribute="cost_cents", metadata=DECIMAL_STRING)


class ReturnOut(Schema):
    id = fields.String()
    sale_id = fields.String()
    customer_id = fields.String()
    currency = fields.String()
    returned_at = fields.DateTime()
    revenue = amount_field(2)
    cost = amount_field(2)
    reason = fields.String(allow_none=True)
    created_at = fields.DateTime()
    created_by = fields.String()
    lines = fields.List(fields.Nested(ReturnLineOut))


class CancellationOut(Schema):
    sale_id = fields.String()
    cancelled_at = fields.DateTime()
    reason = fields.String(allow_none=True)
    created_by = fields.String()


class SaleOut(Schema):
    id = fields.String()
    external_ref = fields.String(allow_none=True)
    customer_id = fields.String()
    customer_known = fields.Boolean()
    currency = fields.String()
    recorded_at = fields.DateTime()
    revenue = amount_field(2)
    discount = amount_field(2)
    cost = amount_field(2)
    segment = fields.String(allow_none=True)
    channel = fields.String(allow_none=True)
    team = fields.String(allow_none=True)
    agent_kind = fields.String(allow_none=True)
    deal_id = fields.String(allow_none=True)
    source_call_id = fields.String(allow_none=True)
    below_cost = fields.Boolean()
    approval_reason = fields.String(allow_none=True)
    created_at = fields.DateTime()
    created_by = fields.String()
    lines = fields.List(fields.Nested(LineOut))
    returns = fields.List(fields.Nested(ReturnOut))
    cancellation = fields.Nested(CancellationOut, allow_none=True)


class SaleSummaryOut(SaleOut):
    """A sale in a list: its totals without its lines, returns or cancellation."""

    class Meta:
        exclude = ("lines", "returns", "cancellation")


SalePage = page_schema(SaleSummaryOut, "SalePage")
