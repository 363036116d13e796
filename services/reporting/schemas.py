"""What the report endpoints accept (marshmallow load schemas).

Every report takes ``format`` (json, csv or png); the period ``from``/``to`` (local
dates, both included) and the dimension filters where the report's read model has
them. A filter a report cannot honour is refused (422), never ignored. Answers are built
by the report modules and documented in docs/reporting.md; money is answered as
strings rounded to cents.
"""
from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.events.contracts import AGENT_KINDS, CHANNELS

CURRENCY = validate.Regexp(r"^[A-Z]{3}$", error="An ISO 4217 code in capitals, e.g. HKD.")
FORMATS = ("json", "csv", "png")
TIME_GROUPS = ("day", "week", "month")
DIMENSION_GROUPS = ("segment", "channel", "team", "agent_kind", "partner")


class _Base(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))


# A period a report can read: a window reaching back centuries would be read month by
# month and overflow the database's limit on one statement's terms.
IN_RANGE = validate.Range(min=date(2000, 1, 1), max=date(2099, 12, 31))


class _Period(_Base):
    start = fields.Date(data_key="from", load_default=None, validate=IN_RANGE)
    end = fields.Date(data_key="to", load_default=None, validate=IN_RANGE)

    @validates_schema
    def _ordered(self, data, **_kw):
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise ValidationError(f"{data['start']} is after 'to' ({data['end']}).", "from")


class _Segment(_Period):
    segment = fields.String(load_default=None, validate=validate.Length(1, 64))


class _Dimensions(_Segment):
    channel = fields.String(load_default=None, validate=validate.OneOf(CHANNELS))
    team = fields.String(load_default=None, validate=validate.Length(1, 64))
    agent_kind = fields.String(load_default=None, validate=validate.OneOf(AGENT_KINDS))
    partner = fields.String(load_default=None, validate=validate.Length(1, 64))


def _group_by(default, choices):
    return fields.String(load_default=default, validate=validate.OneOf(choices))


class ActivityArgs(_Dimensions):
    group_by = _group_by("day", TIME_GROUPS + DIMENSION_GROUPS)


class FindingsArgs(_Dimensions):
    group_by = _group_by("month", TIME_GROUPS + DIMENSION_GROUPS)


class AgentsArgs(_Dimensions):
    """Every filter of the activity report, and one agent (``agent``: its id)."""
    agent = fields.String(load_default=None, validate=validate.Length(1, 64))
    group_by = _group_by("agent", ("agent", "partner", "agent_kind"))


class OutsourcerArgs(_Segment):
    channel = fields.String(load_default=None, validate=validate.OneOf(CHANNELS))
    team = fields.String(load_default=None, validate=validate.Length(1, 64))


class CoverageArgs(_Base):
    segment = fields.String(load_default=None, validate=validate.Length(1, 64))
    min_days = fields.Integer(load_default=0, validate=validate.Range(0, 3650))
    limit = fields.Integer(load_default=200, validate=validate.Range(1, 10000))


class _Money(_Segment):
    currency = fields.String(load_default="HKD", validate=CURRENCY)


class SalesArgs(_Money):
    """Period, currency and segment apply to every figure (docs/reporting.md)."""


class PnlArgs(_Money):
    group_by = _group_by("segment", ("segment", "customer", "day", "month"))


class EffectivenessArgs(_Money):
    pass


class QualityArgs(_Base):
    segment = fields.String(load_default=None, validate=validate.Length(1, 64))


class FollowupArgs(CoverageArgs):
    days = fields.Integer(load_default=30, validate=validate.Range(1, 3650))
    min_propensity = fields.Integer(load_default=70, validate=validate.Range(0, 100))
