"""What the plan routes accept and answer: plans, their versions and schedules."""

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from services.calls.plans import recurrence, windows
from services.calls.plans.tables import PLAN_STATUSES
from services.calls.validation import NOT_BLANK, SEGMENT, SLUG, defaults_unless_editing
from shared.events.contracts import CHANNELS
from shared.web.pagination import page_schema


def _rrule(value: str) -> None:
    try:
        recurrence.normalise(value)
    except recurrence.RuleError as exc:
        raise ValidationError(str(exc)) from exc


def _timezone(value: str) -> None:
    if not recurrence.is_timezone(value):
        raise ValidationError("Not an IANA time zone name (such as Asia/Hong_Kong).")


ANSWER_TYPES = ("yes_no", "text", "number", "choice", "rating")
HORIZON = validate.Range(min=1, max=366)
HHMM = validate.Regexp(r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$", error="A time as HH:MM.")


class WindowIn(Schema):
    days = fields.List(
        fields.String(validate=validate.OneOf(windows.DAYS)),
        required=True,
        validate=validate.Length(min=1, max=7),
    )
    start = fields.String(required=True, validate=HHMM)
    end = fields.String(required=True, validate=HHMM)

    @validates_schema
    def _opens(self, data, **_kwargs):
        if data["start"] >= data["end"]:
            raise ValidationError("The window never opens: start must be before end.", "end")

    @post_load
    def _end_of_day(self, data, **_kwargs):
        return {**data, "end": "23:59" if data["end"] == "24:00" else data["end"]}


class ChecklistItemIn(Schema):
    id = fields.String(required=True, validate=SLUG)
    question = fields.String(required=True, validate=[validate.Length(min=1, max=300), NOT_BLANK])
    required = fields.Boolean(load_default=True)
    answer_type = fields.String(required=True, validate=validate.OneOf(ANSWER_TYPES))
    options = fields.List(
        fields.String(validate=validate.Length(min=1, max=100)),
        load_default=None,
        validate=validate.Length(min=2, max=50),
    )

    @validates_schema
    def _options_for_choices(self, data, **_kwargs):
        if (data["answer_type"] == "choice") != bool(data.get("options")):
            raise ValidationError(
                "Options are given for, and only for, a 'choice' item.", "options"
            )


def _unique_ids(items: list) -> None:
    ids = [item["id"] for item in items]
    if len(ids) != len(set(ids)):
        raise ValidationError("Checklist item ids must be unique.")


def _plan_fields(edit: bool) -> dict:
    """The plan's fields: with defaults to create one, all optional to edit one."""
    opt = defaults_unless_editing(edit)
    return {
        "name": fields.String(
            required=not edit, validate=[validate.Length(min=1, max=200), NOT_BLANK]
        ),
        "segment": fields.String(validate=SEGMENT, load_only=True),
        "segments": opt(
            fields.List,
            fields.String(validate=SEGMENT),
            default=list,
            validate=validate.Length(max=50),
        ),
        "customer_ids": opt(
            fields.List,
            fields.String(validate=validate.Length(min=1, max=36)),
            default=list,
            validate=validate.Length(max=10000),
        ),
        "channel": fields.String(required=not edit, validate=validate.OneOf(CHANNELS)),
        "purpose": opt(fields.String, default="service", validate=SLUG),
        "rrule": fields.String(required=not edit, validate=[validate.Length(max=500), _rrule]),
        "timezone": opt(fields.String, default="Asia/Hong_Kong", validate=_timezone),
        "windows": opt(
            fields.List, fields.Nested(WindowIn), default=list, validate=validate.Length(max=21)
        ),
        "allow_holidays": opt(fields.Boolean, default=False),
        "starts_at": opt(fields.AwareDateTime, default=None),
        "ends_at": opt(fields.AwareDateTime, default=None, allow_none=True),
        "priority": opt(
            fields.Integer, strict=True, default=3, validate=validate.Range(min=1, max=5)
        ),
        "checklist": opt(
            fields.List,
            fields.Nested(ChecklistItemIn),
            default=list,
            validate=[validate.Length(max=100), _unique_ids],
        ),
        "required_trainings": opt(fields.List, fields.String(validate=SLUG), default=list),
        "required_certifications": opt(fields.List, fields.String(validate=SLUG), default=list),
        "horizon_days": opt(
            fields.Integer,
            strict=True,
            default=30,
            validate=HORIZON,
            metadata={"description": "how many days ahead the plan's calls are kept planned"},
        ),
        "status": opt(
            fields.String,
            default="active",
            validate=validate.OneOf(PLAN_STATUSES),
            metadata={
                "description": "active plans keep their calls planned ahead; "
                "pausing or ending one cancels its calls ahead (an ended plan "
                "stays ended)"
            },
        ),
    }


class _PlanLoad(Schema):
    @validates_schema
    def _dates_in_order(self, data, **_kwargs):
        if data.get("ends_at") and data.get("starts_at") and data["ends_at"] <= data["starts_at"]:
            raise ValidationError("Must be after starts_at.", "ends_at")

    @post_load
    def _segment_is_a_target(self, data, **_kwargs):
        segment = data.pop("segment", None)
        if segment:
            data["segments"] = [segment, *[s for s in data.get("segments") or [] if s != segment]]
        return data


class PlanIn(_PlanLoad.from_dict(_plan_fields(edit=False))):
    @validates_schema
    def _has_a_target(self, data, **_kwargs):
        if not (data.get("segment") or data.get("segments") or data.get("customer_ids")):
            raise ValidationError("Give a segment, segments or customer_ids to call.", "segments")


class PlanEdit(_PlanLoad.from_dict(_plan_fields(edit=True))):
    pass


class WindowOut(Schema):
    days = fields.List(fields.String())
    start = fields.String()
    end = fields.String()


class ChecklistItemOut(Schema):
    id = fields.String()
    question = fields.String()
    required = fields.Boolean()
    answer_type = fields.String()
    options = fields.List(fields.String(), allow_none=True)


class PlanOut(Schema):
    id = fields.String()
    name = fields.String()
    segment = fields.String(allow_none=True)
    segments = fields.List(fields.String())
    customer_ids = fields.List(fields.String())
    channel = fields.String()
    purpose = fields.String()
    rrule = fields.String()
    timezone = fields.String()
    windows = fields.List(fields.Nested(WindowOut))
    allow_holidays = fields.Boolean()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime(allow_none=True)
    priority = fields.Integer()
    checklist = fields.List(fields.Nested(ChecklistItemOut))
    required_trainings = fields.List(fields.String())
    required_certifications = fields.List(fields.String())
    horizon_days = fields.Integer()
    status = fields.String()
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime(allow_none=True)


class PlanVersionOut(Schema):
    plan_id = fields.String()
    version = fields.Integer()
    snapshot = fields.Dict()
    created_at = fields.DateTime()
    created_by = fields.String(allow_none=True)


class ScheduleIn(Schema):
    horizon_days = fields.Integer(
        strict=True,
        load_default=None,
        validate=HORIZON,
        metadata={"description": "days ahead to plan; the plan's own horizon if left out"},
    )


class ScheduleOut(Schema):
    created = fields.Integer()
    existing = fields.Integer()
    no_consent = fields.Integer(metadata={"description": "slots not planned: no consent"})
    capped = fields.Integer(metadata={"description": "slots not planned: frequency cap"})


PlanPage = page_schema(PlanOut, "CallPlanPage")
PlanVersionPage = page_schema(PlanVersionOut, "CallPlanVersionPage")
