"""What the calls API accepts and answers (marshmallow, edges only): calls and
the queue. Plans are in ``plans/schemas.py``, outcomes in
``outcome_schemas``."""

from marshmallow import Schema, fields, validate

from services.calls.calls.reads import QUEUE_VIEWS
from services.calls.calls.tables import STATUSES
from services.calls.money import money_field
from shared.web.pagination import PageArgs, page_schema


class CallListArgs(PageArgs):
    customer_id = fields.String(load_default=None, validate=validate.Length(max=36))
    plan_id = fields.String(load_default=None, validate=validate.Length(max=36))
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    agent_id = fields.String(load_default=None, validate=validate.Length(max=36))
    partner_id = fields.String(load_default=None, validate=validate.Length(max=36))
    unassignable = fields.Boolean(
        load_default=False,
        metadata={"description": "only open calls no agent could take (see unassigned_reason)"},
    )


class QueueArgs(PageArgs):
    show = fields.String(
        load_default="all",
        validate=validate.OneOf(QUEUE_VIEWS),
        metadata={
            "description": "due: due within a day or already; overdue: past its due time; "
            "callbacks; escalations"
        },
    )


class CallOut(Schema):
    id = fields.String()
    plan_id = fields.String(allow_none=True)
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
    cost = money_field("cost")


class QueueCustomerOut(Schema):
    customer_id = fields.String()
    name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    preferred_language = fields.String(allow_none=True)
    segment = fields.String(allow_none=True)


class QueueItemOut(Schema):
    call = fields.Nested(CallOut)
    customer = fields.Nested(QueueCustomerOut)
    # By name: the checklist's schema lives with the plans (``plans/schemas.py``).
    checklist = fields.List(fields.Nested("ChecklistItemOut"))
    items_to_confirm = fields.List(fields.String())


QueuePage = page_schema(QueueItemOut, "QueuePage")
CallPage = page_schema(CallOut, "CallPage")
