"""What the calls API accepts and answers (marshmallow, edges only)."""
from datetime import datetime, timedelta, timezone

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from services.calls import recurrence, windows
from services.calls.models import STATUSES
from shared.events.contracts import CHANNELS, OUTCOMES
from shared.web.pagination import PageArgs, page_schema

SEGMENT = validate.Regexp(r"^[a-z0-9][a-z0-9_-]{0,63}$",
                          error="Lower-case letters, digits, '-' and '_' (at most 64).")
NOT_BLANK = validate.Regexp(r"^\s*\S", error="Must not be blank.")
# A client's clock a little ahead of ours is not a call completed in the future.
CLOCK_SKEW = timedelta(minutes=1)


def _money_text(value):
    from services.calls.people_schemas import money_text
    return money_text(value)


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


ANSWER_TYPES = ("yes_no", "text", "number", "choice", "rating")
SLUG = validate.Regexp(r"^[a-z0-9][a-z0-9_-]{0,63}$",
                       error="Lower-case letters, digits, '-' and '_' (at most 64).")
HHMM = validate.Regexp(r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$", error="A time as HH:MM.")


class WindowIn(Schema):
    days = fields.List(fields.String(validate=validate.OneOf(windows.DAYS)), required=True,
                       validate=validate.Length(min=1, max=7))
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
    options = fields.List(fields.String(validate=validate.Length(min=1, max=100)),
                          load_default=None, validate=validate.Length(min=2, max=50))

    @validates_schema
    def _options_for_choices(self, data, **_kwargs):
        if (data["answer_type"] == "choice") != bool(data.get("options")):
            raise ValidationError("Options are given for, and only for, a 'choice' item.",
                                  "options")


def _unique_ids(items: list) -> None:
    ids = [item["id"] for item in items]
    if len(ids) != len(set(ids)):
        raise ValidationError("Checklist item ids must be unique.")


def _plan_fields(edit: bool) -> dict:
    """The plan's fields: with defaults to create one, all optional to edit one."""
    def opt(field_cls, *args, default=None, **kw):
        if not edit:
            kw["load_default"] = default
        return field_cls(*args, **kw)
    return {
        "name": fields.String(required=not edit,
                              validate=[validate.Length(min=1, max=200), NOT_BLANK]),
        "segment": fields.String(validate=SEGMENT, load_only=True),
        "segments": opt(fields.List, fields.String(validate=SEGMENT), default=list,
                        validate=validate.Length(max=50)),
        "customer_ids": opt(fields.List, fields.String(validate=validate.Length(min=1, max=36)),
                            default=list, validate=validate.Length(max=10000)),
        "channel": fields.String(required=not edit, validate=validate.OneOf(CHANNELS)),
        "purpose": opt(fields.String, default="service", validate=SLUG),
        "rrule": fields.String(required=not edit, validate=[validate.Length(max=500), _rrule]),
        "timezone": opt(fields.String, default="Asia/Hong_Kong", validate=_timezone),
        "windows": opt(fields.List, fields.Nested(WindowIn), default=list,
                       validate=validate.Length(max=21)),
        "allow_holidays": opt(fields.Boolean, default=False),
        "starts_at": opt(fields.AwareDateTime, default=None),
        "ends_at": opt(fields.AwareDateTime, default=None, allow_none=True),
        "priority": opt(fields.Integer, strict=True, default=3,
                        validate=validate.Range(min=1, max=5)),
        "checklist": opt(fields.List, fields.Nested(ChecklistItemIn), default=list,
                         validate=[validate.Length(max=100), _unique_ids]),
        "required_trainings": opt(fields.List, fields.String(validate=SLUG), default=list),
        "required_certifications": opt(fields.List, fields.String(validate=SLUG), default=list),
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
            raise ValidationError("Give a segment, segments or customer_ids to call.",
                                  "segments")


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
    horizon_days = fields.Integer(strict=True, load_default=30,
                                  validate=validate.Range(min=1, max=366))


class ScheduleOut(Schema):
    created = fields.Integer()
    existing = fields.Integer()
    no_consent = fields.Integer(metadata={"description": "slots not planned: no consent"})
    capped = fields.Integer(metadata={"description": "slots not planned: frequency cap"})


class CallListArgs(PageArgs):
    customer_id = fields.String(load_default=None, validate=validate.Length(max=36))
    plan_id = fields.String(load_default=None, validate=validate.Length(max=36))
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    agent_id = fields.String(load_default=None, validate=validate.Length(max=36))
    partner_id = fields.String(load_default=None, validate=validate.Length(max=36))
    unassignable = fields.Boolean(load_default=False, metadata={
        "description": "only open calls no agent could take (see unassigned_reason)"})


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
    plan_version = fields.Integer(allow_none=True)
    purpose = fields.String(allow_none=True)
    window_end = fields.DateTime(allow_none=True)
    kind = fields.String()
    attempt = fields.Integer()
    source_call_id = fields.String(allow_none=True)
    for_role = fields.String()
    agent_id = fields.String(allow_none=True)
    partner_id = fields.String(allow_none=True)
    unassigned_reason = fields.String(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    answers = fields.Dict(allow_none=True)
    checklist_compliance = fields.Float(allow_none=True)
    competitor_mentions = fields.List(fields.String(), allow_none=True)
    referrals = fields.List(fields.Dict(), allow_none=True)
    confirmed_fields = fields.Dict(allow_none=True)
    opt_out_notice_given = fields.Boolean(allow_none=True)
    callback_at = fields.DateTime(allow_none=True)
    cost = fields.Function(lambda call: _money_text(call.cost), allow_none=True)


class ReferralIn(Schema):
    name = fields.String(required=True, validate=[validate.Length(min=1, max=200), NOT_BLANK])
    phone = fields.String(load_default=None, allow_none=True,
                          validate=validate.Regexp(r"^\+?[0-9 ()-]{6,20}$",
                                                   error="A phone number."))
    email = fields.Email(load_default=None, allow_none=True)
    segment = fields.String(load_default=None, allow_none=True, validate=SEGMENT)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))

    @validates_schema
    def _reachable(self, data, **_kwargs):
        if not (data.get("phone") or data.get("email")):
            raise ValidationError("A referral needs a phone or an e-mail address.", "phone")


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
    answers = fields.Dict(keys=fields.String(validate=validate.Length(max=64)),
                          values=fields.Raw(allow_none=False), load_default=dict,
                          validate=validate.Length(max=100))
    competitor_mentions = fields.List(
        fields.String(validate=[validate.Length(min=1, max=100), NOT_BLANK]),
        load_default=list, validate=validate.Length(max=20))
    referrals = fields.List(fields.Nested(ReferralIn), load_default=list,
                            validate=validate.Length(max=20))
    opt_out_notice_given = fields.Boolean(load_default=False)
    callback_at = fields.AwareDateTime(load_default=None, allow_none=True)
    confirmed_fields = fields.Dict(keys=fields.String(validate=validate.Length(max=64)),
                                   values=fields.Raw(allow_none=True), load_default=dict,
                                   validate=validate.Length(max=50))

    @validates_schema
    def _callback_time(self, data, **_kwargs):
        wanted, at = data["outcome"] == "callback_requested", data.get("callback_at")
        now = datetime.now(timezone.utc)
        if wanted and at is None:
            raise ValidationError("Required when the outcome is 'callback_requested'.",
                                  "callback_at")
        if not wanted and at is not None:
            raise ValidationError("Only given when the outcome is 'callback_requested'.",
                                  "callback_at")
        if at is not None and not (now - CLOCK_SKEW < at < now + timedelta(days=90)):
            raise ValidationError("Must be in the next 90 days.", "callback_at")

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


class QueueCustomerOut(Schema):
    customer_id = fields.String()
    name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    preferred_language = fields.String(allow_none=True)
    segment = fields.String(allow_none=True)


class QueueItemOut(Schema):
    call = fields.Nested(CallOut)
    customer = fields.Nested(QueueCustomerOut)
    checklist = fields.List(fields.Nested(ChecklistItemOut))
    items_to_confirm = fields.List(fields.String())


QueuePage = page_schema(QueueItemOut, "QueuePage")
PlanPage = page_schema(PlanOut, "CallPlanPage")
PlanVersionPage = page_schema(PlanVersionOut, "CallPlanVersionPage")
CallPage = page_schema(CallOut, "CallPage")
