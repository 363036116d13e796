"""What the P&L report accepts and answers: money as decimal strings rounded to
cents."""

from marshmallow import Schema, fields

from services.reporting.reports.queries import MoneyQuery, group_by
from services.reporting.reports.schemas import FIELD, OpenPeriod, integer, many, money, text
from shared.web.fields import DecimalString


class PnlArgs(MoneyQuery):
    group_by = group_by("segment", ("segment", "customer", "day", "month"))


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
    ledger, reporting, difference = (
        DecimalString(**FIELD),
        DecimalString(**FIELD),
        DecimalString(**FIELD),
    )


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
