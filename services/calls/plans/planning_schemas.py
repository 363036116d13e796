"""What the planning routes accept and answer: sweeps, coverage, contact policy,
quality flags and follow-ups."""

from marshmallow import Schema, fields, validate

from services.calls.validation import SEGMENT
from shared.events.contracts import QUALITY_FLAGS
from shared.web.pagination import PageArgs, page_schema


class SweepOut(Schema):
    missed = fields.Integer()
    replanned = fields.Integer()


class CoverageArgs(PageArgs):
    customer_id = fields.String(load_default=None, validate=validate.Length(max=36))
    segment = fields.String(load_default=None, validate=SEGMENT)
    overdue = fields.Boolean(load_default=False)


class CoverageOut(Schema):
    customer_id = fields.String()
    segment = fields.String()
    required_days = fields.Integer()
    last_contact_at = fields.DateTime(allow_none=True)
    days_since_contact = fields.Float(allow_none=True)
    due_by = fields.DateTime(allow_none=True)
    compliant = fields.Boolean()


CoveragePage = page_schema(CoverageOut, "CoveragePage")


class PolicyIn(Schema):
    max_calls = fields.Integer(
        strict=True, required=True, allow_none=True, validate=validate.Range(min=1, max=1000)
    )
    per_days = fields.Integer(strict=True, load_default=7, validate=validate.Range(min=1, max=366))


class PolicyOut(Schema):
    max_calls = fields.Integer(allow_none=True)
    per_days = fields.Integer(allow_none=True)
    updated_at = fields.DateTime(allow_none=True)


class FlagArgs(PageArgs):
    rule = fields.String(load_default=None, validate=validate.OneOf(QUALITY_FLAGS))
    agent_id = fields.String(load_default=None, validate=validate.Length(max=200))
    call_id = fields.String(load_default=None, validate=validate.Length(max=36))


class FlagOut(Schema):
    id = fields.String()
    call_id = fields.String()
    agent_id = fields.String(allow_none=True)
    rule = fields.String()
    detail = fields.String()
    created_at = fields.DateTime()


class FollowupArgs(PageArgs):
    kind = fields.String(
        load_default=None,
        validate=validate.OneOf(("callback", "retry", "opportunity", "escalation", "opt_out")),
    )
    customer_id = fields.String(load_default=None, validate=validate.Length(max=36))


class FollowupOut(Schema):
    id = fields.String()
    kind = fields.String()
    customer_id = fields.String()
    source_call_id = fields.String()
    call_id = fields.String(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    reason = fields.String(allow_none=True)
    created_at = fields.DateTime()


FlagPage = page_schema(FlagOut, "QualityFlagPage")
FollowupPage = page_schema(FollowupOut, "FollowupPage")
