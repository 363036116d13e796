"""What the report endpoints accept and answer (marshmallow, edges only).

Money is answered as strings rounded to cents (see ``shared.types.to_cents``).
"""
from marshmallow import Schema, fields, validate

CURRENCY = validate.Regexp(r"^[A-Z]{3}$", error="An ISO 4217 code in capitals, e.g. HKD.")


class PeriodArgs(Schema):
    start = fields.Date(data_key="from", load_default=None)
    end = fields.Date(data_key="to", load_default=None)


class PnlArgs(PeriodArgs):
    currency = fields.String(load_default="HKD", validate=CURRENCY)


class ActivityCounts(Schema):
    planned = fields.Integer()
    completed = fields.Integer()
    outcomes = fields.Dict(keys=fields.String(), values=fields.Integer())


class ActivityDay(ActivityCounts):
    day = fields.Date()


class ActivityReport(Schema):
    start = fields.Date(data_key="from")
    end = fields.Date(data_key="to")
    timezone = fields.String()
    days = fields.List(fields.Nested(ActivityDay))
    totals = fields.Nested(ActivityCounts)


class PnlFigures(Schema):
    revenue = fields.Decimal(as_string=True)
    cost = fields.Decimal(as_string=True)
    margin = fields.Decimal(as_string=True)
    sales = fields.Integer()


class PnlSegment(PnlFigures):
    segment = fields.String()


class PnlReport(Schema):
    currency = fields.String()
    start = fields.Date(data_key="from", allow_none=True)
    end = fields.Date(data_key="to", allow_none=True)
    segments = fields.List(fields.Nested(PnlSegment))
    totals = fields.Nested(PnlFigures)
