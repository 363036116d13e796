"""What the sales report accepts and answers: money as decimal strings rounded to
cents."""

from marshmallow import Schema, fields

from services.reporting.pnl.schemas import Figures, PnlRow
from services.reporting.reports.queries import MoneyQuery
from services.reporting.reports.schemas import (
    FIELD,
    NULLABLE,
    OpenPeriod,
    integer,
    many,
    money,
    ratio,
    text,
)
from shared.events.contracts import DEAL_STAGES


class SalesArgs(MoneyQuery):
    """Period, currency and segment apply to every figure (docs/reporting.md)."""


class Revenue(Schema):
    by_month = many(PnlRow)
    totals = fields.Nested(Figures, **FIELD)


class PipelineStage(Schema):
    stage = fields.String(**FIELD, metadata={"enum": list(DEAL_STAGES)})
    deals = integer()
    value = money()


class Funnel(Schema):
    calls_completed, opportunities, deals_from_calls, won_from_calls = (
        integer(),
        integer(),
        integer(),
        integer(),
    )
    lost_from_calls = integer()
    deals_from_opportunities = fields.Integer(
        **FIELD, metadata={"description": "The period's sale-opportunity calls that became a deal"}
    )
    deals_created, won, lost = integer(), integer(), integer()
    call_to_opportunity, opportunity_to_deal, deal_to_won, win_rate = (
        ratio(),
        ratio(),
        ratio(),
        ratio(),
    )


class Cycle(Schema):
    n = integer()
    mean_days = fields.Float(**NULLABLE)


class StageExit(Schema):
    stage = text()
    left, moved_forward, timed = integer(), integer(), integer()
    conversion = ratio()
    mean_days_in_stage = fields.Float(**NULLABLE)


class SalesReport(OpenPeriod):
    currency = text()
    segment = fields.String(**NULLABLE, metadata={"description": "The filter, if any"})
    revenue = fields.Nested(Revenue, **FIELD)
    pipeline = many(PipelineStage)
    funnel = fields.Nested(Funnel, **FIELD)
    cycle = fields.Nested(Cycle, **FIELD)
    stages = many(StageExit)
