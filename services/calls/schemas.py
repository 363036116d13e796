"""What the calls API accepts and answers (marshmallow, edges only)."""
from datetime import datetime, timedelta, timezone

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.calls import recurrence
from services.calls.models import STATUSES
from shared.events.contracts import CHANNELS, OUTCOMES
from shared.web.pagination import PageArgs, page_schema

SEGMENT = validate.Regexp(r"^[a-z0-9][a-z0-9_-]{0,63}$",
                          error="Lower-case letters, digits, '-' and '_' (at most 64).")
NOT_BLANK = validate.Regexp(r"^\s*\S", error="Must not be blank.")
# A client's clock a little ahead of ours is not a call completed in the future.
CLOCK_SKEW = timedelta(minutes=1)


def _rrule(value: str) -> None:
    try:
        recurrence.normalise(value)
    except recurrence.RuleError as exc:
        raise ValidationError(str(exc)) from exc


def _timezone(value: str) -> None:
    if not recurrence.is_timezone(value):
        raise ValidationError("Not an IANA time zone name (such as Asia/Hong_Kong).")


def _not_future(value: datetime) -> None:
    if value > datetime.now(timezone.utc) + CLOCK_SKEW:
        raise ValidationError("Must not be in the future.")


class PlanIn(Schema):
    name = fields.String(required=True, validate=[validate.Length(min=1, max=200), NOT_BLANK])
    segment = fields.String(required=True, validate=SEGMENT)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    rrule = fields.String(required=True, validate=[validate.Length(max=500), _rrule])
    timezone = fields.String(load_default="Asia/Hong_Kong", validate=_timezone)
    starts_at = fields.AwareDateTime(load_default=None)
    priority = fields.Integer(strict=True, load_default=3, validate=validate.Range(min=1, max=5))


class PlanOut(Schema):
    id = fields.String()
    name = fields.String()
    segment = fields.String()
    channel = fields.String()
    rrule = fields.String()
    timezone = fields.String()
    starts_at = fields.DateTime()
    priority = fields.Integer()
    created_at = fields.DateTime()


class ScheduleIn(Schema):
    horizon_days = fields.Integer(strict=True, load_default=30,
                                  validate=validate.Range(min=1, max=366))


class ScheduleOut(Schema):
    created = fields.Integer()
    existing = fields.Integer()


class CallListArgs(PageArgs):
    customer_id = fields.String(load_default=None, validate=validate.Length(max=36))
    plan_id = fields.String(load_default=None, validate=validate.Length(max=36))
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))


class CallOut(Schema):
    id = fields.String()
    plan_id = fields.String()
    customer_id = fields.String()
    channel = fields.String()
    due_at = fields.DateTime()
    status = fields.String()
    priority = fields.Integer()
    created_at = fields.DateTime()
    outcome = fields.String(allow_none=True)
    satisfaction = fields.Integer(allow_none=True)
    propensity = fields.Integer(allow_none=True)
    duration_seconds = fields.Integer(allow_none=True)
    notes = fields.String(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)
    completed_by = fields.String(allow_none=True)


class OutcomeIn(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    satisfaction = fields.Integer(strict=True, load_default=None, allow_none=True,
                                  validate=validate.Range(min=1, max=5))
    propensity = fields.Integer(strict=True, load_default=None, allow_none=True,
                                validate=validate.Range(min=0, max=100))
    duration_seconds = fields.Integer(strict=True, load_default=0,
                                      validate=validate.Range(min=0, max=4 * 3600))
    notes = fields.String(load_default=None, allow_none=True,
                          validate=validate.Length(max=2000))
    completed_at = fields.AwareDateTime(load_default=None, validate=_not_future)

    @validates_schema
    def _findings_only_when_reached(self, data, **_kwargs):
        outcome, errors = data["outcome"], {}
        for name in ("satisfaction", "propensity"):
            if outcome == "reached" and data[name] is None:
                errors[name] = ["Required when the outcome is 'reached'."]
            elif outcome != "reached" and data[name] is not None:
                errors[name] = [f"Only recorded when the outcome is 'reached', not '{outcome}'."]
        if errors:
            raise ValidationError(errors)


class BulkOutcomeItem(OutcomeIn):
    call_id = fields.String(required=True, validate=validate.Length(min=1, max=64))


MAX_BULK = 1000


class BulkOutcomesIn(Schema):
    # Items are validated one by one when recorded, so one bad item rejects only itself.
    outcomes = fields.List(fields.Raw(), required=True,
                           validate=validate.Length(min=1, max=MAX_BULK))


class BulkResultOut(Schema):
    index = fields.Integer()
    call_id = fields.String(allow_none=True)
    result = fields.String(metadata={"enum": ["created", "unchanged", "rejected"]})
    status = fields.Integer()
    problem = fields.String()
    detail = fields.String()
    errors = fields.Raw()


class BulkOutcomesOut(Schema):
    created = fields.Integer()
    unchanged = fields.Integer()
    rejected = fields.Integer()
    results = fields.List(fields.Nested(BulkResultOut))


PlanPage = page_schema(PlanOut, "CallPlanPage")
CallPage = page_schema(CallOut, "CallPage")
