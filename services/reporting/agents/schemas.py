"""What the agents and outsourcer-parity reports accept and answer (statistics as
``Estimate``s)."""

from marshmallow import Schema, fields, validate

from services.reporting.reports.queries import DimensionsQuery, SegmentQuery, group_by
from services.reporting.reports.schemas import (
    FIELD,
    Estimate,
    OpenPeriod,
    Period,
    counts,
    integer,
    many,
    ratio,
    text,
)
from shared.events.contracts import CHANNELS


class AgentsArgs(DimensionsQuery):
    """Every filter of the activity report, and one agent (``agent``: its id)."""

    agent = fields.String(load_default=None, validate=validate.Length(1, 64))
    group_by = group_by("agent", ("agent", "partner", "agent_kind"))


class OutsourcerArgs(SegmentQuery):
    channel = fields.String(load_default=None, validate=validate.OneOf(CHANNELS))
    team = fields.String(load_default=None, validate=validate.Length(1, 64))


def _estimates():
    return fields.Dict(keys=fields.String(), values=fields.Nested(Estimate), **FIELD)


class PartnerParity(Schema):
    partner = text()
    metrics = _estimates()
    difference_from_staff = _estimates()
    below_parity = fields.List(fields.String(), **FIELD)
    flagged = fields.Boolean(**FIELD)


class OutsourcerReport(OpenPeriod):
    staff = _estimates()
    partners = many(PartnerParity)
    flagged = fields.List(fields.String(), **FIELD)


class AgentMean(Schema):
    n = integer()
    mean = fields.Float(required=True, allow_none=True)


class Checklist(Schema):
    n = fields.Integer(required=True, metadata={"description": "Completed calls with a checklist."})
    complete = fields.Integer(
        required=True, metadata={"description": "Of them, calls with every required item answered."}
    )
    compliance = ratio("complete ÷ n; null with no checklist.")


class AgentDeals(Schema):
    from_opportunities = fields.Integer(
        required=True,
        metadata={
            "description": "Deals opened from these sale-opportunity calls (deal.created "
            "naming the call as its source_call_id), whenever they opened."
        },
    )
    won = fields.Integer(required=True, metadata={"description": "Of them, deals won."})
    conversion = ratio("from_opportunities ÷ opportunities.")
    won_rate = ratio("won ÷ opportunities.")


class QualityFlags(Schema):
    flagged = fields.Integer(
        required=True,
        metadata={"description": "Completed calls whose record hit at least one quality rule."},
    )
    rate = ratio("flagged ÷ completed.")
    rules = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={
            "description": "Completed calls per rule hit "
            "(duration, overlap, rate, outside_window, "
            "checklist_incomplete); a call may hit several."
        },
    )


class AgentFigures(Schema):
    planned = integer()
    completed = integer()
    missed = integer()
    cancelled = integer()
    on_time = integer()
    outcomes = counts()
    adherence = ratio("Plan adherence (shared.coverage): on_time ÷ planned.")
    completion_rate = ratio("completed ÷ planned; can exceed 1 with unplanned calls.")
    satisfaction = fields.Nested(AgentMean, required=True)
    propensity = fields.Nested(AgentMean, required=True)
    opportunities = integer()
    conversion = ratio("Sale opportunities ÷ completed calls.")
    deals = fields.Nested(AgentDeals, required=True)
    checklist = fields.Nested(Checklist, required=True)
    quality_flags = fields.Nested(QualityFlags, required=True)


class AgentGroup(AgentFigures):
    key = fields.String(
        required=True,
        metadata={
            "description": 'Agent id, partner id or agent kind; "" for calls no one holds '
            "(by agent) or staff (by partner)."
        },
    )


class AgentsReport(Period):
    timezone = text()
    group_by = text()
    groups = many(AgentGroup)
    totals = fields.Nested(AgentFigures, required=True)
