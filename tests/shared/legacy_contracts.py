"""The event contracts as marshmallow schemas, frozen as they were before the contracts
moved to msgspec (``shared.events.contracts``): ``test_event_loading`` checks that the
new contracts accept and load what these did.

(Their original docstring:) Versioned event contracts: the payload of every event type,
defined once.

Adding an optional field keeps a contract's version; anything else is a new
version (``CallCompletedV2``) registered beside the old one. Consumers exclude
unknown fields so that an added optional field never breaks them. Money travels
as a decimal string.
"""

from __future__ import annotations

from datetime import UTC

from marshmallow import EXCLUDE, Schema, fields, validate

OUTCOMES = (
    "reached",
    "no_answer",
    "busy",
    "wrong_number",
    "callback_requested",
    "not_interested",
    "interested",
    "sale_opportunity",
    "complaint",
    "do_not_call_requested",
)
CHANNELS = ("phone", "visit", "email", "video")
AGENT_KINDS = ("staff", "partner")


class Contract(Schema):
    class Meta:
        unknown = EXCLUDE


def _money(**kw):
    return fields.Decimal(as_string=True, places=None, allow_nan=False, **kw)


CONSENT_STATUSES = ("granted", "withdrawn")
FOLLOWUP_KINDS = ("callback", "retry", "opportunity", "escalation", "opt_out")
DEAL_STAGES = ("lead", "qualified", "proposal", "negotiation", "won", "lost")
ALLOCATION_KINDS = ("training", "promotion_material", "marketing_fund")
# The calls service's quality rules a completed call can hit (services/calls/quality.py).
# Consumers take any other name too: a rule added later must not make events invalid.
QUALITY_FLAGS = ("duration", "overlap", "rate", "outside_window", "checklist_incomplete")


# -- customer ---------------------------------------------------------------


class CustomerRegisteredV1(Contract):
    customer_id = fields.String(required=True)
    name = fields.String(required=True)
    phone = fields.String(load_default=None, allow_none=True)
    segment = fields.String(required=True)
    preferred_language = fields.String(load_default=None, allow_none=True)
    lifecycle_status = fields.String(load_default="active")
    registered_at = fields.AwareDateTime(required=True)
    kind = fields.String(load_default="person", validate=validate.OneOf(("person", "company")))
    owner_team = fields.String(load_default=None, allow_none=True)
    # Where the profile came from: "api", "import", "referral"; a referral names its call.
    source = fields.String(load_default="api")
    referred_by_call_id = fields.String(load_default=None, allow_none=True)
    referred_by_customer_id = fields.String(load_default=None, allow_none=True)
    # The contact context a call page shows (optional: older producers omit them).
    email = fields.String(load_default=None, allow_none=True)
    address = fields.Dict(load_default=None, allow_none=True)
    relationship_score = fields.Float(load_default=None, allow_none=True)
    satisfaction_trend = fields.Float(load_default=None, allow_none=True)
    # The reference another system knows the customer by (the workspace finds by it).
    external_ref = fields.String(load_default=None, allow_none=True)


class FieldChangeV1(Contract):
    old = fields.Raw(allow_none=True)
    new = fields.Raw(allow_none=True)


class CustomerUpdatedV1(Contract):
    """A new version of a profile: ``changes`` maps each changed field to its old
    and new value (``{"segment": {"old": "retail", "new": "sme"}}``)."""

    customer_id = fields.String(required=True)
    segment = fields.String(required=True)
    name = fields.String(load_default=None, allow_none=True)
    changes = fields.Dict(
        keys=fields.String(), values=fields.Nested(FieldChangeV1), load_default=dict
    )
    version = fields.Integer(load_default=None, allow_none=True)
    preferred_language = fields.String(load_default=None, allow_none=True)
    lifecycle_status = fields.String(load_default=None, allow_none=True)
    owner_team = fields.String(load_default=None, allow_none=True)
    updated_at = fields.AwareDateTime(load_default=None, allow_none=True)
    # The contact context a call page shows (optional: older producers omit them).
    email = fields.String(load_default=None, allow_none=True)
    address = fields.Dict(load_default=None, allow_none=True)
    relationship_score = fields.Float(load_default=None, allow_none=True)
    satisfaction_trend = fields.Float(load_default=None, allow_none=True)
    # The reference another system knows the customer by (the workspace finds by it).
    external_ref = fields.String(load_default=None, allow_none=True)


class CustomerMergedV1(Contract):
    """``merged_id`` is absorbed into ``survivor_id``: re-point every record."""

    survivor_id = fields.String(required=True)
    merged_id = fields.String(required=True)
    merged_at = fields.AwareDateTime(required=True)
    segment = fields.String(load_default=None, allow_none=True)


class CustomerConsentChangedV1(Contract):
    customer_id = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    purpose = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(CONSENT_STATUSES))
    source = fields.String(load_default=None, allow_none=True)
    notice_version = fields.String(load_default=None, allow_none=True)
    changed_at = fields.AwareDateTime(required=True)


class CustomerOptedOutV1(Contract):
    """Stop direct marketing at once. ``channel``/``purpose`` of ``None`` mean all
    of them (a do-not-call request on every channel, say)."""

    customer_id = fields.String(required=True)
    channel = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(CHANNELS))
    purpose = fields.String(load_default=None, allow_none=True)
    reason = fields.String(load_default="consent_withdrawn")
    contact_point = fields.String(load_default=None, allow_none=True)
    opted_out_at = fields.AwareDateTime(required=True)


class CustomerErasedV1(Contract):
    """Past retention or on request: erase or anonymise every personal datum."""

    customer_id = fields.String(required=True)
    erased_at = fields.AwareDateTime(required=True)
    # The profiles merged into it, erased with it (their copies elsewhere hold data too).
    merged_ids = fields.List(fields.String(), load_default=list)


class CustomerGapsDetectedV1(Contract):
    """Profile fields missing against the segment's requirements: the calls
    service puts them on the next call's checklist to confirm."""

    customer_id = fields.String(required=True)
    segment = fields.String(load_default=None, allow_none=True)
    missing_fields = fields.List(fields.String(), required=True)
    detected_at = fields.AwareDateTime(required=True)


class CustomerQualityFlaggedV1(Contract):
    item_id = fields.String(required=True)
    customer_id = fields.String(load_default=None, allow_none=True)
    rule = fields.String(required=True)
    segment = fields.String(load_default=None, allow_none=True)
    detail = fields.String(load_default=None, allow_none=True)
    flagged_at = fields.AwareDateTime(required=True)


class CustomerQualityResolvedV1(Contract):
    item_id = fields.String(required=True)
    customer_id = fields.String(load_default=None, allow_none=True)
    rule = fields.String(required=True)
    segment = fields.String(load_default=None, allow_none=True)
    resolution = fields.String(load_default=None, allow_none=True)
    resolved_at = fields.AwareDateTime(required=True)


# -- calls ------------------------------------------------------------------


class CallScheduledV1(Contract):
    call_id = fields.String(required=True)
    plan_id = fields.String(required=True)
    customer_id = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    due_at = fields.AwareDateTime(required=True)
    segment = fields.String(load_default=None, allow_none=True)
    plan_version = fields.Integer(load_default=None, allow_none=True)
    purpose = fields.String(load_default=None, allow_none=True)
    priority = fields.Integer(load_default=None, allow_none=True)
    window_end = fields.AwareDateTime(load_default=None, allow_none=True)
    # The plan's coverage policy when the call was planned (shared.coverage).
    max_gap_days = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=1)
    )


class CallAssignedV1(Contract):
    call_id = fields.String(required=True)
    customer_id = fields.String(required=True)
    agent_id = fields.String(required=True)
    agent_kind = fields.String(required=True, validate=validate.OneOf(AGENT_KINDS))
    partner_id = fields.String(load_default=None, allow_none=True)
    team = fields.String(load_default=None, allow_none=True)
    reason = fields.String(load_default=None, allow_none=True)
    assigned_at = fields.AwareDateTime(required=True)
    # Why, as a code: continuity (the customer's previous agent or partner), round_robin,
    # manual, bulk. Optional: older events have none.
    basis = fields.String(load_default=None, allow_none=True)


class ReferralV1(Contract):
    name = fields.String(required=True)
    phone = fields.String(load_default=None, allow_none=True)
    email = fields.String(load_default=None, allow_none=True)
    segment = fields.String(load_default=None, allow_none=True)
    note = fields.String(load_default=None, allow_none=True)


class CallCompletedV1(Contract):
    call_id = fields.String(required=True)
    plan_id = fields.String(load_default=None, allow_none=True)
    customer_id = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    completed_at = fields.AwareDateTime(required=True)
    duration_seconds = fields.Integer(load_default=0, validate=validate.Range(min=0))
    satisfaction = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=1, max=5)
    )
    propensity = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=0, max=100)
    )
    notes = fields.String(load_default=None, allow_none=True)
    segment = fields.String(load_default=None, allow_none=True)
    agent_id = fields.String(load_default=None, allow_none=True)
    agent_kind = fields.String(load_default="staff", validate=validate.OneOf(AGENT_KINDS))
    partner_id = fields.String(load_default=None, allow_none=True)
    team = fields.String(load_default=None, allow_none=True)
    cost = _money(load_default=None, allow_none=True)
    currency = fields.String(load_default="HKD", validate=validate.Length(equal=3))
    purpose = fields.String(load_default=None, allow_none=True)
    plan_version = fields.Integer(load_default=None, allow_none=True)
    due_at = fields.AwareDateTime(load_default=None, allow_none=True)
    # Share of required checklist items answered (1.0 = the guideline was followed).
    checklist_compliance = fields.Float(
        load_default=None, allow_none=True, validate=validate.Range(min=0, max=1)
    )
    competitor_mentions = fields.List(fields.String(), load_default=list)
    referrals = fields.List(fields.Nested(ReferralV1), load_default=list)
    # PDPO: the customer was told of the right to opt out on this contact.
    opt_out_notice_given = fields.Boolean(load_default=False)
    callback_at = fields.AwareDateTime(load_default=None, allow_none=True)
    # The customer confirmed these profile fields (gaps put on the checklist).
    confirmed_fields = fields.Dict(
        keys=fields.String(), values=fields.Raw(allow_none=True), load_default=dict
    )
    # planned, callback, retry, escalation, replan; inbound or unplanned (no due time).
    kind = fields.String(load_default=None, allow_none=True)
    # The quality rules the record hit when it was recorded (QUALITY_FLAGS), each once;
    # older events have none.
    quality_flags = fields.List(
        fields.String(validate=validate.Length(min=1, max=32)), load_default=list
    )


class CallMissedV1(Contract):
    call_id = fields.String(required=True)
    customer_id = fields.String(required=True)
    plan_id = fields.String(load_default=None, allow_none=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    due_at = fields.AwareDateTime(required=True)
    missed_at = fields.AwareDateTime(required=True)
    segment = fields.String(load_default=None, allow_none=True)
    agent_id = fields.String(load_default=None, allow_none=True)
    agent_kind = fields.String(load_default=None, allow_none=True)
    partner_id = fields.String(load_default=None, allow_none=True)
    team = fields.String(load_default=None, allow_none=True)
    replanned_call_id = fields.String(load_default=None, allow_none=True)


class CallCancelledV1(Contract):
    call_id = fields.String(required=True)
    customer_id = fields.String(required=True)
    channel = fields.String(load_default=None, allow_none=True)
    purpose = fields.String(load_default=None, allow_none=True)
    reason = fields.String(required=True)
    cancelled_at = fields.AwareDateTime(required=True)
    partner_id = fields.String(load_default=None, allow_none=True)


class FollowupCreatedV1(Contract):
    followup_id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(FOLLOWUP_KINDS))
    customer_id = fields.String(required=True)
    source_call_id = fields.String(required=True)
    due_at = fields.AwareDateTime(load_default=None, allow_none=True)
    call_id = fields.String(load_default=None, allow_none=True)
    reason = fields.String(load_default=None, allow_none=True)
    created_at = fields.AwareDateTime(required=True)


# -- sales ------------------------------------------------------------------


class DealCreatedV1(Contract):
    deal_id = fields.String(required=True)
    customer_id = fields.String(required=True)
    stage = fields.String(required=True, validate=validate.OneOf(DEAL_STAGES))
    probability = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=0, max=100)
    )
    expected_value = _money(load_default=None, allow_none=True)
    currency = fields.String(load_default="HKD", validate=validate.Length(equal=3))
    owner = fields.String(load_default=None, allow_none=True)
    source_call_id = fields.String(load_default=None, allow_none=True)
    segment = fields.String(load_default=None, allow_none=True)
    created_at = fields.AwareDateTime(required=True)


class DealStageChangedV1(Contract):
    deal_id = fields.String(required=True)
    customer_id = fields.String(required=True)
    from_stage = fields.String(required=True, validate=validate.OneOf(DEAL_STAGES))
    to_stage = fields.String(required=True, validate=validate.OneOf(DEAL_STAGES))
    probability = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=0, max=100)
    )
    expected_value = _money(load_default=None, allow_none=True)
    currency = fields.String(load_default="HKD", validate=validate.Length(equal=3))
    lost_reason = fields.String(load_default=None, allow_none=True)
    seconds_in_previous_stage = fields.Integer(load_default=None, allow_none=True)
    segment = fields.String(load_default=None, allow_none=True)
    changed_at = fields.AwareDateTime(required=True)


class SaleLineV1(Contract):
    sku = fields.String(load_default=None, allow_none=True)
    description = fields.String(load_default=None, allow_none=True)
    quantity = _money(required=True)
    unit_price = _money(required=True)
    unit_cost = _money(required=True)
    discount = _money(load_default=None, allow_none=True)


class SaleRecordedV1(Contract):
    sale_id = fields.String(required=True)
    customer_id = fields.String(required=True)
    currency = fields.String(required=True, validate=validate.Length(equal=3))
    recorded_at = fields.AwareDateTime(required=True)
    lines = fields.List(fields.Nested(SaleLineV1), required=True, validate=validate.Length(min=1))
    revenue = _money(required=True)
    cost = _money(required=True)
    discount = _money(load_default=None, allow_none=True)
    segment = fields.String(load_default=None, allow_none=True)
    deal_id = fields.String(load_default=None, allow_none=True)
    source_call_id = fields.String(load_default=None, allow_none=True)
    # The sale's own reference (an invoice number), when it was given one.
    external_ref = fields.String(load_default=None, allow_none=True)


class SaleReturnedV1(Contract):
    """A return against ``sale_id``: ``revenue`` is the amount refunded and
    ``cost`` the cost of goods taken back, both positive."""

    return_id = fields.String(required=True)
    sale_id = fields.String(required=True)
    customer_id = fields.String(required=True)
    currency = fields.String(required=True, validate=validate.Length(equal=3))
    returned_at = fields.AwareDateTime(required=True)
    lines = fields.List(fields.Nested(SaleLineV1), load_default=list)
    revenue = _money(required=True)
    cost = _money(required=True)
    segment = fields.String(load_default=None, allow_none=True)


class SaleCancelledV1(Contract):
    """The sale is reversed in full by a reversing entry: ``revenue`` (net of
    discounts), ``discount`` and ``cost`` are the reversed sale's, as it carried
    them (``discount`` is absent from events before it was added)."""

    sale_id = fields.String(required=True)
    customer_id = fields.String(required=True)
    currency = fields.String(required=True, validate=validate.Length(equal=3))
    revenue = _money(required=True)
    cost = _money(required=True)
    discount = _money(load_default=None, allow_none=True)
    reason = fields.String(load_default=None, allow_none=True)
    segment = fields.String(load_default=None, allow_none=True)
    cancelled_at = fields.AwareDateTime(required=True)


class AllocationShareV1(Contract):
    customer_id = fields.String(required=True)
    amount = _money(required=True)


class AllocationRecordedV1(Contract):
    allocation_id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(ALLOCATION_KINDS))
    amount = _money(required=True)
    currency = fields.String(required=True, validate=validate.Length(equal=3))
    team = fields.String(load_default=None, allow_none=True)
    channel = fields.String(load_default=None, allow_none=True)
    segment = fields.String(load_default=None, allow_none=True)
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    rule = fields.String(required=True)
    # How the amount landed on customers: the shares sum exactly to ``amount``.
    shares = fields.List(fields.Nested(AllocationShareV1), load_default=list)
    recorded_at = fields.AwareDateTime(required=True)


CONTRACTS: dict[tuple[str, int], type[Contract]] = {
    ("customer.registered", 1): CustomerRegisteredV1,
    ("customer.updated", 1): CustomerUpdatedV1,
    ("customer.merged", 1): CustomerMergedV1,
    ("customer.consent_changed", 1): CustomerConsentChangedV1,
    ("customer.opted_out", 1): CustomerOptedOutV1,
    ("customer.erased", 1): CustomerErasedV1,
    ("customer.gaps_detected", 1): CustomerGapsDetectedV1,
    ("customer.quality_flagged", 1): CustomerQualityFlaggedV1,
    ("customer.quality_resolved", 1): CustomerQualityResolvedV1,
    ("call.scheduled", 1): CallScheduledV1,
    ("call.assigned", 1): CallAssignedV1,
    ("call.completed", 1): CallCompletedV1,
    ("call.missed", 1): CallMissedV1,
    ("call.cancelled", 1): CallCancelledV1,
    ("followup.created", 1): FollowupCreatedV1,
    ("deal.created", 1): DealCreatedV1,
    ("deal.stage_changed", 1): DealStageChangedV1,
    ("sale.recorded", 1): SaleRecordedV1,
    ("sale.returned", 1): SaleReturnedV1,
    ("sale.cancelled", 1): SaleCancelledV1,
    ("allocation.recorded", 1): AllocationRecordedV1,
}


def contract_for(event_type: str, version: int) -> type[Contract]:
    """The payload schema of one event type and version; KeyError if unknown."""
    return CONTRACTS[(event_type, version)]


def routing_key(event_type: str, version: int) -> str:
    """``<aggregate>.<past-tense-verb>.v<version>``, as the spec names them."""
    return f"{event_type}.v{version}"


# -- data-subject export -----------------------------------------------------


class SubjectExportRequestedV1(Contract):
    """A data access request (PDPO): every service that holds records about the
    customer answers with ``subject.export_contributed``. ``customer_ids`` is the
    customer and every profile merged into it, so absorbed records are found."""

    export_id = fields.String(required=True)
    customer_id = fields.String(required=True)
    customer_ids = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    requested_at = fields.AwareDateTime(required=True)


class SubjectExportContributedV1(Contract):
    """One service's records about the subject, part ``part`` of ``parts`` (a large
    contribution is cut into parts, see ``shared.events.export_parts``). ``sections``
    maps a section name (``calls``, ``deals``…) to its records, in wire form."""

    export_id = fields.String(required=True)
    customer_id = fields.String(required=True)
    service = fields.String(required=True)
    part = fields.Integer(required=True, validate=validate.Range(min=1))
    parts = fields.Integer(required=True, validate=validate.Range(min=1))
    sections = fields.Dict(keys=fields.String(), values=fields.List(fields.Dict()), required=True)
    contributed_at = fields.AwareDateTime(required=True)


# Events that carry one data subject's records to one recipient: a service that keeps
# every event it sees (reporting's log) keeps no copy of these.
SUBJECT_RECORDS = frozenset({"subject.export_contributed"})

CONTRACTS.update(
    {
        ("subject.export_requested", 1): SubjectExportRequestedV1,
        ("subject.export_contributed", 1): SubjectExportContributedV1,
    }
)


# -- ledger (sales) -----------------------------------------------------------


class LedgerTotalsPublishedV1(Contract):
    """The sales ledger's own totals of one local day (in ``timezone``, the sales
    service's) and currency, re-published with a higher ``revision`` by every
    ledger write that changes them: the newest revision is the day's figure.
    ``revenue`` is at list price (sales less cancelled ones); every amount is an
    exact sum of entries each rounded to the cent once, when it was recorded."""

    day = fields.Date(required=True)
    currency = fields.String(required=True, validate=validate.Length(equal=3))
    timezone = fields.String(required=True)
    revision = fields.Integer(required=True, validate=validate.Range(min=1))
    revenue = _money(required=True)
    discounts = _money(required=True)
    returns = _money(required=True)
    cost_of_goods = _money(required=True)
    cost_to_serve = _money(required=True)
    allocations = _money(required=True)
    net_contribution = _money(required=True)
    calls = fields.Integer(required=True)


CONTRACTS[("ledger.totals_published", 1)] = LedgerTotalsPublishedV1


class EnvelopeSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    event_id = fields.UUID(required=True)
    event_type = fields.String(required=True, validate=validate.Regexp(r"^[a-z_]+\.[a-z_]+$"))
    event_version = fields.Integer(required=True, validate=validate.Range(min=1))
    occurred_at = fields.AwareDateTime(required=True, default_timezone=UTC)
    producer = fields.String(required=True)
    correlation_id = fields.String(required=True)
    causation_id = fields.String(load_default=None, allow_none=True)
    payload = fields.Dict(required=True)
