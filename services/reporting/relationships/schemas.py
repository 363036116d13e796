"""What the call-effectiveness report accepts and answers (statistics as
``Estimate``s)."""

from marshmallow import Schema, fields

from services.reporting.reports.queries import MoneyQuery
from services.reporting.reports.schemas import FIELD, Estimate, Mean, Period, integer, many, text


class EffectivenessArgs(MoneyQuery):
    pass


class Correlations(Schema):
    satisfaction = fields.Nested(Estimate, **FIELD)
    relationship = fields.Nested(Estimate, **FIELD)
    revenue = fields.Nested(Estimate, **FIELD)


class Cohorts(Schema):
    measure = text()
    on_plan = fields.Nested(Mean, **FIELD)
    under_called = fields.Nested(Mean, **FIELD)
    difference = fields.Nested(Estimate, **FIELD)


class Proposal(Schema):
    change = fields.String(
        **FIELD, metadata={"enum": ["none", "keep_or_increase", "review", "reduce"]}
    )
    reason = text()


class SegmentEffect(Schema):
    segment = text()
    customers = integer()
    correlations = fields.Nested(Correlations, **FIELD)
    cohorts = fields.Nested(Cohorts, **FIELD)
    proposal = fields.Nested(Proposal, **FIELD)


class Halves(Schema):
    first = fields.List(fields.Date(), **FIELD)
    second = fields.List(fields.Date(), **FIELD)


class EffectivenessReport(Period):
    """A window shorter than two calendar months answers only the period, no
    segments and ``insufficient``."""

    currency = fields.String()
    halves = fields.Nested(Halves)
    segments = many(SegmentEffect)
    all = fields.Nested(SegmentEffect)
    insufficient = fields.String()
