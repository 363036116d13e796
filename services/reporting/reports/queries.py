"""What every report endpoint accepts (marshmallow load schemas), as bases each
report's query schema (in its package's ``schemas``) is made from.

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


class ReportQuery(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))


# A period a report can read: a window reaching back centuries would be read month by
# month and overflow the database's limit on one statement's terms.
IN_RANGE = validate.Range(min=date(2000, 1, 1), max=date(2099, 12, 31))


class PeriodQuery(ReportQuery):
    start = fields.Date(data_key="from", load_default=None, validate=IN_RANGE)
    end = fields.Date(data_key="to", load_default=None, validate=IN_RANGE)

    @validates_schema
    def _ordered(self, data, **_kw):
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise ValidationError(f"{data['start']} is after 'to' ({data['end']}).", "from")


class SegmentQuery(PeriodQuery):
    segment = fields.String(load_default=None, validate=validate.Length(1, 64))


class DimensionsQuery(SegmentQuery):
    channel = fields.String(load_default=None, validate=validate.OneOf(CHANNELS))
    team = fields.String(load_default=None, validate=validate.Length(1, 64))
    agent_kind = fields.String(load_default=None, validate=validate.OneOf(AGENT_KINDS))
    partner = fields.String(load_default=None, validate=validate.Length(1, 64))


def group_by(default, choices):
    return fields.String(load_default=default, validate=validate.OneOf(choices))


class MoneyQuery(SegmentQuery):
    currency = fields.String(load_default="HKD", validate=CURRENCY)
