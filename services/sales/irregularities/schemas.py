"""What the irregularities API accepts and answers."""

from marshmallow import Schema, fields, validate

from services.sales.irregularities import queries
from shared.web.pagination import PageArgs, page_schema


class IrregularityArgs(PageArgs):
    kind = fields.String(required=True, validate=validate.OneOf(queries.KINDS))
    days = fields.Integer(
        load_default=None,
        validate=validate.Range(min=0, max=3650),
        metadata={
            "description": "Override the return window or the stuck-deal threshold, in days."
        },
    )


class IrregularityOut(Schema):
    kind = fields.String()
    at = fields.DateTime()
    customer_id = fields.String()
    sale_id = fields.String()
    return_id = fields.String()
    deal_id = fields.String()
    detail = fields.String()


IrregularityPage = page_schema(IrregularityOut, "IrregularityPage")
