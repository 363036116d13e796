"""What the products API accepts and answers."""

from marshmallow import Schema, fields, validate

from services.sales.catalogue.products import in_effect
from services.sales.wire import CURRENCY, DECIMAL_STRING, amount_field
from shared.clock import utcnow
from shared.web.fields import Money
from shared.web.pagination import PageArgs, page_schema

SKU = validate.Length(min=1, max=64)
NOT_NEGATIVE = validate.Range(min=0)


class PriceIn(Schema):
    price = Money(required=True, metadata=DECIMAL_STRING, validate=NOT_NEGATIVE)
    unit_cost = Money(required=True, metadata=DECIMAL_STRING, validate=NOT_NEGATIVE)
    effective_from = fields.AwareDateTime(load_default=None)


class ProductIn(PriceIn):
    sku = fields.String(required=True, validate=SKU)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    category = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    currency = fields.String(load_default="HKD", validate=CURRENCY)


class ProductListArgs(PageArgs):
    category = fields.String(load_default=None, validate=validate.Length(min=1, max=100))


class PriceOut(Schema):
    effective_from = fields.DateTime()
    price = amount_field(4)
    unit_cost = amount_field(4)
    recorded_at = fields.DateTime()
    recorded_by = fields.String()


class ProductOut(Schema):
    sku = fields.String()
    name = fields.String()
    category = fields.String(allow_none=True)
    currency = fields.String()
    current = fields.Method(
        "_current",
        metadata={"description": "The price and unit cost in effect now (null before the first)."},
    )
    prices = fields.List(fields.Nested(PriceOut))
    created_at = fields.DateTime()

    def _current(self, product):
        price = in_effect(product, utcnow())
        return PriceOut().dump(price) if price else None


ProductPage = page_schema(ProductOut, "ProductPage")
