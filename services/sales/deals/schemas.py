"""What the deals API accepts and answers."""

from decimal import Decimal

from marshmallow import Schema, fields, validate

from services.sales.deals import pipeline
from services.sales.wire import CURRENCY, CUSTOMER_ID, DECIMAL_STRING, TEXT, amount_field
from shared.clock import utcnow
from shared.events.contracts import DEAL_STAGES
from shared.web.fields import Money
from shared.web.pagination import PageArgs, page_schema


class DealIn(Schema):
    customer_id = fields.String(required=True, validate=CUSTOMER_ID)
    title = fields.String(load_default=None, validate=validate.Length(min=1, max=200))
    amount = Money(
        load_default=None, metadata=DECIMAL_STRING, validate=validate.Range(min=Decimal(0))
    )
    currency = fields.String(load_default="HKD", validate=CURRENCY)
    owner = fields.String(load_default=None, validate=validate.Length(min=1, max=200))
    source_call_id = fields.String(load_default=None, validate=validate.Length(min=1, max=64))


class StageChangeIn(Schema):
    to_stage = fields.String(required=True, validate=validate.OneOf(DEAL_STAGES))
    lost_reason = fields.String(load_default=None, validate=TEXT)
    amount = Money(
        load_default=None, metadata=DECIMAL_STRING, validate=validate.Range(min=Decimal(0))
    )
    note = fields.String(load_default=None, validate=TEXT)


class DealListArgs(PageArgs):
    stage = fields.String(load_default=None, validate=validate.OneOf(DEAL_STAGES))
    customer_id = fields.String(load_default=None, validate=CUSTOMER_ID)


class StageOut(Schema):
    stage = fields.String()
    entered_at = fields.DateTime()
    left_at = fields.DateTime(allow_none=True)
    seconds = fields.Integer(allow_none=True)
    probability = fields.Integer()
    changed_by = fields.String()
    note = fields.String(allow_none=True)


class DealOut(Schema):
    id = fields.String()
    customer_id = fields.String()
    title = fields.String(allow_none=True)
    stage = fields.String()
    stage_entered_at = fields.DateTime()
    probability = fields.Integer()
    amount = amount_field(4, allow_none=True)
    expected_value = fields.Method("_expected", allow_none=True, metadata=DECIMAL_STRING)
    currency = fields.String()
    owner = fields.String(allow_none=True)
    source_call_id = fields.String(allow_none=True)
    segment = fields.String(allow_none=True)
    lost_reason = fields.String(allow_none=True)
    created_at = fields.DateTime()
    created_by = fields.String()
    history = fields.Method("_history")
    allowed_next = fields.Method("_allowed")

    def _expected(self, deal):
        value = pipeline.expected_value(deal)
        return None if value is None else f"{value:f}"

    def _history(self, deal):
        return StageOut(many=True).dump(pipeline.stage_times(deal, utcnow()))

    def _allowed(self, deal):
        return list(pipeline.TRANSITIONS[deal.stage])


DealPage = page_schema(DealOut, "DealPage")
