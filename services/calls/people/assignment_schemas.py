"""What the assignment routes accept and answer: assigning, reassigning one call or
many, and the history of a call's assignment decisions."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.calls.validation import NOT_BLANK, SEGMENT
from shared.web.pagination import page_schema

ID = validate.Length(min=1, max=36)


class AssignIn(Schema):
    call_ids = fields.List(
        fields.String(validate=validate.Length(max=36)),
        load_default=None,
        validate=validate.Length(min=1, max=10000),
    )
    within_days = fields.Integer(
        strict=True, load_default=7, validate=validate.Range(min=0, max=90)
    )


class AssignOut(Schema):
    assigned = fields.Integer()
    unassignable = fields.Integer()


class ReassignIn(Schema):
    agent_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    reason = fields.String(required=True, validate=[validate.Length(min=1, max=300), NOT_BLANK])


class BulkReassignIn(Schema):
    """Which open calls (every filter given must match; at least one), to whom (or
    back to the pool when no ``to_agent_id``), why, and at most how many at once."""

    agent_id = fields.String(validate=ID)
    partner_id = fields.String(validate=ID)
    segment = fields.String(validate=SEGMENT)
    plan_id = fields.String(validate=ID)
    to_agent_id = fields.String(load_default=None, allow_none=True, validate=ID)
    reason = fields.String(required=True, validate=[validate.Length(min=1, max=300), NOT_BLANK])
    limit = fields.Integer(strict=True, load_default=500, validate=validate.Range(min=1, max=1000))

    @validates_schema
    def _a_filter(self, data, **_kwargs):
        if not any(
            data.get(name) is not None for name in ("agent_id", "partner_id", "segment", "plan_id")
        ):
            raise ValidationError("Name the calls: agent_id, partner_id, segment or plan_id.")


class BulkReassignOut(Schema):
    matched = fields.Integer(metadata={"description": "Open calls taken by this request."})
    reassigned = fields.Integer(metadata={"description": "Of them, now with an agent."})
    unassignable = fields.Integer(metadata={"description": "Back in the pool, no one fit."})
    more = fields.Boolean(metadata={"description": "More calls match: send it again."})


class AssignmentOut(Schema):
    id = fields.String()
    call_id = fields.String()
    agent_id = fields.String(allow_none=True)
    partner_id = fields.String(allow_none=True)
    mode = fields.String()
    basis = fields.String(allow_none=True)
    reason = fields.String()
    decided_by = fields.String()
    decided_at = fields.DateTime()


AssignmentPage = page_schema(AssignmentOut, "AssignmentPage")
