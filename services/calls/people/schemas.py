"""What the agents and partners API accepts and answers."""

from decimal import Decimal

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from services.calls.money import money_field
from services.calls.people.agents import check_kind
from services.calls.validation import NOT_BLANK, SEGMENT, SLUG, defaults_unless_editing
from shared.errors import Invalid
from shared.events.contracts import CHANNELS
from shared.web.pagination import PageArgs, page_schema

AGENT_ID = validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,35}$",
    error="Letters, digits, '.', '_', '@' and '-' (at most 36); the subject of the agent's token.",
)
LANGUAGE = validate.Regexp(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", error="A language tag (zh-HK).")


def _money(**kw):
    return fields.Decimal(
        as_string=True,
        places=None,
        allow_nan=False,
        validate=validate.Range(min=Decimal(0), max=Decimal("100000")),
        **kw,
    )


def _cents(value: Decimal | None) -> None:
    if value is not None and value.as_tuple().exponent < -4:
        raise ValidationError("At most four decimal places.")


class PartnerIn(Schema):
    name = fields.String(required=True, validate=[validate.Length(min=1, max=200), NOT_BLANK])
    fee_per_call = _money(required=True)
    currency = fields.String(load_default="HKD", validate=validate.Regexp(r"^[A-Z]{3}$"))
    active = fields.Boolean(load_default=True)

    @validates_schema
    def _places(self, data, **_kwargs):
        try:
            _cents(data.get("fee_per_call"))
        except ValidationError as exc:
            raise ValidationError(exc.messages, "fee_per_call") from None


class PartnerEdit(Schema):
    """A partner's changes: a new fee costs the calls completed after it; suspended
    returns its open calls to the pool and refuses its tokens until it is active again."""

    name = fields.String(validate=[validate.Length(min=1, max=200), NOT_BLANK])
    fee_per_call = _money()
    status = fields.String(validate=validate.OneOf(("active", "suspended")))

    @validates_schema
    def _something(self, data, **_kwargs):
        if not data:
            raise ValidationError("Send at least one of name, fee_per_call, status.")
        try:
            _cents(data.get("fee_per_call"))
        except ValidationError as exc:
            raise ValidationError(exc.messages, "fee_per_call") from None


class PartnerOut(Schema):
    id = fields.String()
    name = fields.String()
    fee_per_call = money_field("fee_per_call")
    currency = fields.String()
    active = fields.Boolean()
    status = fields.Function(
        lambda p: "active" if p.active else "suspended",
        metadata={"type": "string", "enum": ["active", "suspended"]},
    )
    created_at = fields.DateTime()


class TrainingIn(Schema):
    name = fields.String(required=True, validate=SLUG)
    expires_on = fields.Date(required=True)


def _agent_fields(edit: bool) -> dict:
    """The agent's fields: with defaults to create one, all optional to edit one."""
    opt = defaults_unless_editing(edit)
    return {
        "name": fields.String(
            required=not edit, validate=[validate.Length(min=1, max=200), NOT_BLANK]
        ),
        "team": opt(fields.String, allow_none=True, validate=validate.Length(max=64)),
        "languages": opt(
            fields.List,
            fields.String(validate=LANGUAGE),
            default=list,
            validate=validate.Length(max=20),
        ),
        "segments": opt(
            fields.List,
            fields.String(validate=SEGMENT),
            default=list,
            validate=validate.Length(max=50),
        ),
        "channels": opt(
            fields.List,
            fields.String(validate=validate.OneOf(CHANNELS)),
            default=list,
            validate=validate.Length(max=4),
        ),
        "certifications": opt(
            fields.List,
            fields.String(validate=SLUG),
            default=list,
            validate=validate.Length(max=50),
        ),
        "trainings": opt(
            fields.List, fields.Nested(TrainingIn), default=list, validate=validate.Length(max=50)
        ),
        "daily_capacity": fields.Integer(
            strict=True, required=not edit, validate=validate.Range(min=1, max=1000)
        ),
        "rate_per_minute": opt(_money, allow_none=True),
        "active": opt(fields.Boolean, default=True),
    }


class _AgentLoad(Schema):
    @post_load
    def _dates_as_text(self, data, **_kwargs):
        if "trainings" in data:
            data["trainings"] = [
                {"name": t["name"], "expires_on": t["expires_on"].isoformat()}
                for t in data["trainings"]
            ]
        return data

    @validates_schema
    def _places(self, data, **_kwargs):
        try:
            _cents(data.get("rate_per_minute"))
        except ValidationError as exc:
            raise ValidationError(exc.messages, "rate_per_minute") from None


class AgentEdit(_AgentLoad.from_dict(_agent_fields(edit=True))):
    pass


class AgentIn(_AgentLoad.from_dict(_agent_fields(edit=False))):
    id = fields.String(validate=AGENT_ID)
    kind = fields.String(required=True, validate=validate.OneOf(("staff", "partner")))
    partner_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=36))

    @validates_schema
    def _kind_fits(self, data, **_kwargs):
        try:
            check_kind(data)
        except Invalid as exc:
            raise ValidationError(exc.errors) from None


class TrainingOut(Schema):
    name = fields.String()
    expires_on = fields.String()


class AgentOut(Schema):
    id = fields.String()
    name = fields.String()
    kind = fields.String()
    partner_id = fields.String(allow_none=True)
    team = fields.String(allow_none=True)
    languages = fields.List(fields.String())
    segments = fields.List(fields.String())
    channels = fields.List(fields.String())
    certifications = fields.List(fields.String())
    trainings = fields.List(fields.Nested(TrainingOut))
    daily_capacity = fields.Integer()
    rate_per_minute = money_field("rate_per_minute")
    active = fields.Boolean()
    created_at = fields.DateTime()


class AgentListArgs(PageArgs):
    kind = fields.String(load_default=None, validate=validate.OneOf(("staff", "partner")))
    partner_id = fields.String(load_default=None, validate=validate.Length(max=36))
    team = fields.String(load_default=None, validate=validate.Length(max=64))


PartnerPage = page_schema(PartnerOut, "PartnerPage")
AgentPage = page_schema(AgentOut, "AgentPage")
