"""What the activity, coverage and findings reports accept and answer."""

from marshmallow import Schema, fields, validate

from services.reporting.reports.queries import (
    DIMENSION_GROUPS,
    TIME_GROUPS,
    DimensionsQuery,
    ReportQuery,
    group_by,
)
from services.reporting.reports.schemas import (
    FIELD,
    NULLABLE,
    Distribution,
    Mean,
    Period,
    counts,
    integer,
    many,
    ratio,
    text,
)


class ActivityArgs(DimensionsQuery):
    group_by = group_by("day", TIME_GROUPS + DIMENSION_GROUPS)


class FindingsArgs(DimensionsQuery):
    group_by = group_by("month", TIME_GROUPS + DIMENSION_GROUPS)


class CoverageArgs(ReportQuery):
    segment = fields.String(load_default=None, validate=validate.Length(1, 64))
    min_days = fields.Integer(load_default=0, validate=validate.Range(0, 3650))
    limit = fields.Integer(load_default=200, validate=validate.Range(1, 10000))


class ActivityDay(Schema):
    day = fields.Date(**FIELD)
    planned, completed, missed = integer(), integer(), integer()
    outcomes = counts()


class ActivityCounts(Schema):
    planned, completed, missed = integer(), integer(), integer()
    cancelled, on_time = integer(), integer()
    outcomes = counts()
    adherence = ratio()
    completion_rate = ratio("Completed ÷ planned; above 1 when calls were added.")


class ActivityGroup(ActivityCounts):
    key = text()


class ActivityReport(Period):
    timezone, group_by = text(), text()
    days = many(ActivityDay)
    groups = many(ActivityGroup)
    totals = fields.Nested(ActivityCounts, **FIELD)


class OverdueSegment(Schema):
    segment = text()
    overdue, customers = integer(), integer()
    max_days = fields.Float(**FIELD)
    bands = counts()
    compliance = ratio()


class OverdueCustomer(Schema):
    customer_id, segment = text(), text()
    overdue_since = fields.DateTime(**FIELD)
    days_overdue = fields.Float(**FIELD)
    last_contact_at = fields.DateTime(**NULLABLE)


class CoverageReport(Schema):
    as_of = fields.DateTime(**FIELD)
    min_days, overdue_customers = integer(), integer()
    by_segment = many(OverdueSegment)
    customers = many(OverdueCustomer)


class OutcomeShare(Schema):
    outcome = text()
    calls = integer()
    share = ratio()


class TrendPoint(Schema):
    key = text()
    calls = integer()
    satisfaction = fields.Nested(Mean, **FIELD)
    propensity = fields.Nested(Mean, **FIELD)


class Competitor(Schema):
    competitor = text()
    mentions = integer()


class FindingsReport(Period):
    timezone, group_by = text(), text()
    calls = integer()
    outcomes = many(OutcomeShare)
    satisfaction = fields.Nested(Distribution, **FIELD)
    propensity = fields.Nested(Distribution, **FIELD)
    trend = many(TrendPoint)
    competitors = many(Competitor)
