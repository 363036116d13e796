"""What the data-quality and follow-ups reports accept and answer."""

from marshmallow import Schema, fields, validate

from services.reporting.calls.schemas import CoverageArgs
from services.reporting.reports.queries import ReportQuery
from services.reporting.reports.schemas import FIELD, NULLABLE, integer, many, text


class QualityArgs(ReportQuery):
    segment = fields.String(load_default=None, validate=validate.Length(1, 64))


class FollowupArgs(CoverageArgs):
    days = fields.Integer(load_default=30, validate=validate.Range(1, 3650))
    min_propensity = fields.Integer(load_default=70, validate=validate.Range(0, 100))


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
    action = fields.String(
        **FIELD, metadata={"enum": ["resolve_complaint", "call_now", "catch_up", "followup_due"]}
    )
    priority = integer()


class FollowupReport(Schema):
    as_of = fields.DateTime(**FIELD)
    days, min_propensity, proposals = integer(), integer(), integer()
    actions = many(FollowupAction)
