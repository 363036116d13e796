"""What the report endpoints answer as JSON, for the OpenAPI document: the pieces
every report shares and the call-side reports (``schemas_reports_sales`` and
``schemas_reports_statistics`` hold the others).

The report modules build their answers as dicts (``render.plain`` turns dates into
ISO strings and money into decimal strings); these schemas document them and are
checked against real answers by the contract suite (tests/contract), which fails on
a member the document does not name, a missing one it requires, or a wrong type.
"""
from marshmallow import Schema, fields

from shared.web.fields import DecimalString

FIELD = {"required": True}
NULLABLE = {"required": True, "allow_none": True}


def integer():
    return fields.Integer(**FIELD)


def ratio(description: str = "A share from 0 to 1; null when there is nothing to divide by."):
    return fields.Float(**NULLABLE, metadata={"description": description})


def text():
    return fields.String(**FIELD)


def many(schema):
    return fields.List(fields.Nested(schema), **FIELD)


def counts():
    return fields.Dict(keys=fields.String(), values=fields.Integer(), **FIELD)


def money():
    return DecimalString(**FIELD, metadata={"description": "Rounded to cents."})


class Period(Schema):
    start = fields.Date(data_key="from", **FIELD)
    end = fields.Date(data_key="to", **FIELD)


class OpenPeriod(Schema):
    """The period as asked; null where the query left it open."""
    start = fields.Date(data_key="from", **NULLABLE)
    end = fields.Date(data_key="to", **NULLABLE)


class Estimate(Schema):
    """A statistic, or why there is none (``insufficient``): members as the method has
    them (a rate with ``k``; a mean with ``sd``; a difference with ``ci95``)."""
    n = fields.Raw(required=True, metadata={"oneOf": [
        {"type": "integer"}, {"type": "array", "items": {"type": "integer"},
                              "minItems": 2, "maxItems": 2}],
        "description": "Observations, or those of each group compared."})
    insufficient = fields.String()
    k = fields.Integer()
    rate = fields.Float(allow_none=True)
    mean = fields.Float(allow_none=True)
    sd = fields.Float()
    rho = fields.Float()
    difference = fields.Float()
    df = fields.Float()
    p_value = fields.Float()
    ci95 = fields.List(fields.Float(), metadata={"minItems": 2, "maxItems": 2})


class Mean(Schema):
    n = integer()
    mean = fields.Float(**NULLABLE)
    sd = fields.Float(metadata={"description": "Present from two observations."})


class Distribution(Mean):
    distribution = counts()


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


class QualityRule(Schema):
    rule, segment = text(), text()
    open, resolved = integer(), integer()
    mean_hours_to_resolve = fields.Float(**NULLABLE)


class MissingField(Schema):
    field = text()
    customers = integer()


class QualityReport(Schema):
    open, resolved, customers_with_gaps = integer(), integer(), integer()
    rules = many(QualityRule)
    missing_fields = many(MissingField)


class FollowupAction(Schema):
    customer_id, segment, reason = text(), text(), text()
    action = fields.String(**FIELD, metadata={
        "enum": ["resolve_complaint", "call_now", "catch_up", "followup_due"]})
    priority = integer()


class FollowupReport(Schema):
    as_of = fields.DateTime(**FIELD)
    days, min_propensity, proposals = integer(), integer(), integer()
    actions = many(FollowupAction)
