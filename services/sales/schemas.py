"""What the sales API accepts and answers (marshmallow, edges only).

Money comes in as decimal strings (``shared.web.fields.Money`` refuses floats and
more than four places) and goes out as strings: line amounts at the ledger's four
places, totals at two.
"""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate

from shared.web.fields import Money
from shared.web.pagination import PageArgs, page_schema

MAX_LINES = 500
# A till's clock may run a little ahead of ours; a sale dated later than this is a mistake.
CLOCK_SKEW = timedelta(minutes=5)
CURRENCY = validate.Regexp(r"^[A-Z]{3}$",
                           error="An ISO 4217 currency code: three upper-case letters.")
CUSTOMER_ID = validate.Length(min=1, max=64)
# apispec documents a Decimal as a number; on the wire it is a string.
DECIMAL_STRING = {"type": "string", "format": "decimal"}


def _not_in_future(value: datetime) -> None:
    if value > datetime.now(timezone.utc) + CLOCK_SKEW:
        raise ValidationError("A sale cannot be recorded in the future.")


class LineIn(Schema):
    sku = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    description = fields.String(load_default=None, validate=validate.Length(max=200))
    quantity = Money(required=True, metadata=DECIMAL_STRING,
                     validate=validate.Range(min=Decimal(0), min_inclusive=False))
    unit_price = Money(required=True, metadata=DECIMAL_STRING,
                       validate=validate.Range(min=Decimal(0)))
    unit_cost = Money(required=True, metadata=DECIMAL_STRING,
                      validate=validate.Range(min=Decimal(0)))


class SaleIn(Schema):
    customer_id = fields.String(required=True, validate=CUSTOMER_ID)
    currency = fields.String(load_default="HKD", validate=CURRENCY)
    recorded_at = fields.AwareDateTime(load_default=None, validate=_not_in_future)
    lines = fields.List(fields.Nested(LineIn), required=True,
                        validate=validate.Length(min=1, max=MAX_LINES))


class SaleListArgs(PageArgs):
    customer_id = fields.String(load_default=None, validate=CUSTOMER_ID)


def _amount(places: int):
    return fields.Decimal(places=places, as_string=True, metadata=DECIMAL_STRING)


class LineOut(Schema):
    line_no = fields.Integer()
    sku = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    quantity = _amount(4)
    unit_price = _amount(4)
    unit_cost = _amount(4)


class SaleOut(Schema):
    id = fields.String()
    customer_id = fields.String()
    customer_known = fields.Boolean()
    currency = fields.String()
    recorded_at = fields.DateTime()
    revenue = _amount(2)
    cost = _amount(2)
    created_at = fields.DateTime()
    created_by = fields.String()
    lines = fields.List(fields.Nested(LineOut))


class SaleSummaryOut(SaleOut):
    """A sale in a list: its totals without its lines."""

    class Meta:
        exclude = ("lines",)


SalePage = page_schema(SaleSummaryOut, "SalePage")
