"""What the outcome routes accept and answer: one outcome, or many in a bulk upload."""

from datetime import datetime, timedelta

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.calls.validation import NOT_BLANK, SEGMENT, SLUG
from shared import clock
from shared.events.contracts import CHANNELS, OUTCOMES

# A client's clock a little ahead of ours is not a call completed in the future.
CLOCK_SKEW = timedelta(minutes=1)


def _not_future(value: datetime) -> None:
    if value > clock.now() + CLOCK_SKEW:
        raise ValidationError("Must not be in the future.")


class ReferralIn(Schema):
    name = fields.String(required=True, validate=[validate.Length(min=1, max=200), NOT_BLANK])
    phone = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(r"^\+?[0-9 ()-]{6,20}$", error="A phone number."),
    )
    email = fields.Email(load_default=None, allow_none=True)
    segment = fields.String(load_default=None, allow_none=True, validate=SEGMENT)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))

    @validates_schema
    def _reachable(self, data, **_kwargs):
        if not (data.get("phone") or data.get("email")):
            raise ValidationError("A referral needs a phone or an e-mail address.", "phone")


class OutcomeIn(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    satisfaction = fields.Integer(
        strict=True, load_default=None, allow_none=True, validate=validate.Range(min=1, max=5)
    )
    propensity = fields.Integer(
        strict=True, load_default=None, allow_none=True, validate=validate.Range(min=0, max=100)
    )
    duration_seconds = fields.Integer(
        strict=True, load_default=0, validate=validate.Range(min=0, max=4 * 3600)
    )
    notes = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    completed_at = fields.AwareDateTime(load_default=None, validate=_not_future)
    answers = fields.Dict(
        keys=fields.String(validate=validate.Length(max=64)),
        values=fields.Raw(allow_none=False),
        load_default=dict,
        validate=validate.Length(max=100),
    )
    competitor_mentions = fields.List(
        fields.String(validate=[validate.Length(min=1, max=100), NOT_BLANK]),
        load_default=list,
        validate=validate.Length(max=20),
    )
    referrals = fields.List(
        fields.Nested(ReferralIn), load_default=list, validate=validate.Length(max=20)
    )
    opt_out_notice_given = fields.Boolean(load_default=False)
    callback_at = fields.AwareDateTime(load_default=None, allow_none=True)
    confirmed_fields = fields.Dict(
        keys=fields.String(validate=validate.Length(max=64)),
        values=fields.Raw(allow_none=True),
        load_default=dict,
        validate=validate.Length(max=50),
    )

    @validates_schema
    def _callback_time(self, data, **_kwargs):
        wanted, at = data["outcome"] == "callback_requested", data.get("callback_at")
        now = clock.now()
        if wanted and at is None:
            raise ValidationError(
                "Required when the outcome is 'callback_requested'.", "callback_at"
            )
        if not wanted and at is not None:
            raise ValidationError(
                "Only given when the outcome is 'callback_requested'.", "callback_at"
            )
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


class UnplannedCallIn(OutcomeIn):
    """An inbound or unplanned call, logged with its outcome (see ``unplanned``)."""

    customer_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    direction = fields.String(required=True, validate=validate.OneOf(("inbound", "outbound")))
    purpose = fields.String(load_default=None, validate=SLUG)


class BulkOutcomeItem(OutcomeIn):
    call_id = fields.String(required=True, validate=validate.Length(min=1, max=64))


MAX_BULK = 1000


class BulkOutcomesIn(Schema):
    # Items are validated one by one when recorded, so one bad item rejects only itself.
    outcomes = fields.List(
        fields.Raw(), required=True, validate=validate.Length(min=1, max=MAX_BULK)
    )


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
