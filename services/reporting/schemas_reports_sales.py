"""What the sales and P&L reports answer as JSON, for the OpenAPI document (see
``schemas_reports``): money as decimal strings rounded to cents."""
from marshmallow import Schema, fields

from services.reporting.schemas_reports import (FIELD, NULLABLE, OpenPeriod, integer, many,
                                                money, ratio, text)
from shared.events.contracts import DEAL_STAGES
from shared.web.fields import DecimalString


class Figures(Schema):
    revenue, discounts, returns = money(), money(), money()
    cost_of_goods, cost_to_serve, allocations = money(), money(), money()
    cost, margin, net_contribution = money(), money(), money()
    sales = integer()


class PnlRow(Figures):
    """One group's figures, under the key the report is grouped by."""
    segment = fields.String()
    customer = fields.String()
    day = fields.Date()
    month = fields.String(metadata={"pattern": r"^\d{4}-\d{2}$"})


class LedgerDifference(Schema):
    day = fields.String(**FIELD, metadata={"description": "A date, or `total`"})
    measure = text()
    ledger, reporting, difference = DecimalString(**FIELD), DecimalString(**FIELD), \
        DecimalString(**FIELD)


class LedgerCheck(Schema):
    """Reporting's figures against the totals the sales ledger published, per day."""
    compared = fields.Boolean(**FIELD)
    balanced = fields.Boolean(**FIELD)
    days_published = fields.Integer()
    days_without_ledger_totals = fields.List(fields.Date())
    differences = many(LedgerDifference)
    timezone = fields.String(metadata={"description": "Set when the two count days apart"})
    why = fields.String(metadata={"description": "Set when nothing was compared"})


class Reconciliation(Schema):
    customers = integer()
    balanced = fields.Boolean(**FIELD)
    differences = fields.Dict(keys=fields.String(), values=DecimalString(), **FIELD)
    ledger = fields.Nested(LedgerCheck, **FIELD)


class PnlReport(OpenPeriod):
    currency, group_by = text(), text()
    segments = many(PnlRow)
    totals = fields.Nested(Figures, **FIELD)
    reconciliation = fields.Nested(Reconciliation, **FIELD)


class Revenue(Schema):
    by_month = many(PnlRow)
    totals = fields.Nested(Figures, **FIELD)


class PipelineStage(Schema):
    stage = fields.String(**FIELD, metadata={"enum": list(DEAL_STAGES)})
    deals = integer()
    value = money()


class Funnel(Schema):
    calls_completed, opportunities, deals_from_calls, won_from_calls = (
        integer(), integer(), integer(), integer())
    lost_from_calls = integer()
    deals_from_opportunities = fields.Integer(**FIELD, metadata={
        "description": "The period's sale-opportunity calls that became a deal"})
    deals_created, won, lost = integer(), integer(), integer()
    call_to_opportunity, opportunity_to_deal, deal_to_won, win_rate = (
        ratio(), ratio(), ratio(), ratio())


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
