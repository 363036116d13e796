"""Versioned event contracts: the payload of every event type, defined once.

Each contract is a ``msgspec.Struct``: msgspec validates and converts a payload in
native code, which is what lets every event, bulk ones included, go through its
contract (``shared.events.envelope``). Adding an optional field keeps a contract's
version; anything else is a new version (``CallCompletedV2``) registered beside the
old one. Unknown fields are ignored, so that an added optional field never breaks a
consumer. Money is a ``Decimal`` that travels as a decimal string; times are aware.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType, field

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
CONSENT_STATUSES = ("granted", "withdrawn")
FOLLOWUP_KINDS = ("callback", "retry", "opportunity", "escalation", "opt_out")
DEAL_STAGES = ("lead", "qualified", "proposal", "negotiation", "won", "lost")
ALLOCATION_KINDS = ("training", "promotion_material", "marketing_fund")
# The calls service's quality rules a completed call can hit (services/calls/quality.py).
# Consumers take any other name too: a rule added later must not make events invalid.
QUALITY_FLAGS = ("duration", "overlap", "rate", "outside_window", "checklist_incomplete")

Outcome = Literal[OUTCOMES]  # type: ignore[valid-type]
Channel = Literal[CHANNELS]  # type: ignore[valid-type]
AgentKind = Literal[AGENT_KINDS]  # type: ignore[valid-type]
ConsentStatus = Literal[CONSENT_STATUSES]  # type: ignore[valid-type]
FollowupKind = Literal[FOLLOWUP_KINDS]  # type: ignore[valid-type]
DealStage = Literal[DEAL_STAGES]  # type: ignore[valid-type]
AllocationKind = Literal[ALLOCATION_KINDS]  # type: ignore[valid-type]

Aware = Annotated[datetime, Meta(tz=True)]
Currency = Annotated[str, Meta(min_length=3, max_length=3)]
Percent = Annotated[int, Meta(ge=0, le=100)]
Positive = Annotated[int, Meta(ge=1)]
Money = Decimal  # finite: checked by ``Contract.__post_init__``


class Contract(msgspec.Struct):
    """A payload: unknown fields are ignored; money and floats must be finite."""

    FINITE: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        for name in self.FINITE:
            value = getattr(self, name)
            if value is not None and not _finite(value):
                raise ValueError(f"`{name}` must be a finite number")


def _finite(value: Decimal | float) -> bool:
    return value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)


# -- customer ---------------------------------------------------------------


class CustomerRegisteredV1(Contract, kw_only=True):
    FINITE = ("relationship_score", "satisfaction_trend")
    customer_id: str
    name: str
    phone: str | None = None
    segment: str
    preferred_language: str | None = None
    lifecycle_status: str = "active"
    registered_at: Aware
    kind: Literal["person", "company"] = "person"
    owner_team: str | None = None
    # Where the profile came from: "api", "import", "referral"; a referral names its call.
    source: str = "api"
    referred_by_call_id: str | None = None
    referred_by_customer_id: str | None = None
    # The contact context a call page shows (optional: older producers omit them).
    email: str | None = None
    address: dict | None = None
    relationship_score: float | None = None
    satisfaction_trend: float | None = None
    # The reference another system knows the customer by (the workspace finds by it).
    external_ref: str | None = None


class FieldChangeV1(Contract, kw_only=True):
    # Either may be absent (not null): a change that only names one side.
    old: Any | UnsetType = UNSET
    new: Any | UnsetType = UNSET


class CustomerUpdatedV1(Contract, kw_only=True):
    """A new version of a profile: ``changes`` maps each changed field to its old
    and new value (``{"segment": {"old": "retail", "new": "sme"}}``)."""

    FINITE = ("relationship_score", "satisfaction_trend")
    customer_id: str
    segment: str
    name: str | None = None
    changes: dict[str, FieldChangeV1] = field(default_factory=dict)
    version: int | None = None
    preferred_language: str | None = None
    lifecycle_status: str | None = None
    owner_team: str | None = None
    updated_at: Aware | None = None
    # The contact context a call page shows (optional: older producers omit them).
    email: str | None = None
    address: dict | None = None
    relationship_score: float | None = None
    satisfaction_trend: float | None = None
    # The reference another system knows the customer by (the workspace finds by it).
    external_ref: str | None = None


class CustomerMergedV1(Contract, kw_only=True):
    """``merged_id`` is absorbed into ``survivor_id``: re-point every record."""

    survivor_id: str
    merged_id: str
    merged_at: Aware
    segment: str | None = None


class CustomerConsentChangedV1(Contract, kw_only=True):
    customer_id: str
    channel: Channel
    purpose: str
    status: ConsentStatus
    source: str | None = None
    notice_version: str | None = None
    changed_at: Aware


class CustomerOptedOutV1(Contract, kw_only=True):
    """Stop direct marketing at once. ``channel``/``purpose`` of ``None`` mean all
    of them (a do-not-call request on every channel, say)."""

    customer_id: str
    channel: Channel | None = None
    purpose: str | None = None
    reason: str = "consent_withdrawn"
    contact_point: str | None = None
    opted_out_at: Aware


class CustomerErasedV1(Contract, kw_only=True):
    """Past retention or on request: erase or anonymise every personal datum."""

    customer_id: str
    erased_at: Aware
    # The profiles merged into it, erased with it (their copies elsewhere hold data too).
    merged_ids: list[str] = field(default_factory=list)


class CustomerGapsDetectedV1(Contract, kw_only=True):
    """Profile fields missing against the segment's requirements: the calls
    service puts them on the next call's checklist to confirm."""

    customer_id: str
    segment: str | None = None
    missing_fields: list[str]
    detected_at: Aware


class CustomerQualityFlaggedV1(Contract, kw_only=True):
    item_id: str
    customer_id: str | None = None
    rule: str
    segment: str | None = None
    detail: str | None = None
    flagged_at: Aware


class CustomerQualityResolvedV1(Contract, kw_only=True):
    item_id: str
    customer_id: str | None = None
    rule: str
    segment: str | None = None
    resolution: str | None = None
    resolved_at: Aware


# -- calls ------------------------------------------------------------------


class CallScheduledV1(Contract, kw_only=True):
    call_id: str
    plan_id: str
    customer_id: str
    channel: Channel
    due_at: Aware
    segment: str | None = None
    plan_version: int | None = None
    purpose: str | None = None
    priority: int | None = None
    window_end: Aware | None = None
    # The plan's coverage policy when the call was planned (shared.coverage).
    max_gap_days: Positive | None = None


class CallAssignedV1(Contract, kw_only=True):
    call_id: str
    customer_id: str
    agent_id: str
    agent_kind: AgentKind
    partner_id: str | None = None
    team: str | None = None
    reason: str | None = None
    assigned_at: Aware
    # Why, as a code: continuity (the customer's previous agent or partner), round_robin,
    # manual, bulk. Optional: older events have none.
    basis: str | None = None


class ReferralV1(Contract, kw_only=True):
    name: str
    phone: str | None = None
    email: str | None = None
    segment: str | None = None
    note: str | None = None


class CallCompletedV1(Contract, kw_only=True):
    FINITE = ("cost", "checklist_compliance")
    call_id: str
    plan_id: str | None = None
    customer_id: str
    channel: Channel
    outcome: Outcome
    completed_at: Aware
    duration_seconds: Annotated[int, Meta(ge=0)] = 0
    satisfaction: Annotated[int, Meta(ge=1, le=5)] | None = None
    propensity: Percent | None = None
    notes: str | None = None
    segment: str | None = None
    agent_id: str | None = None
    agent_kind: AgentKind = "staff"
    partner_id: str | None = None
    team: str | None = None
    cost: Money | None = None
    currency: Currency = "HKD"
    purpose: str | None = None
    plan_version: int | None = None
    due_at: Aware | None = None
    # Share of required checklist items answered (1.0 = the guideline was followed).
    checklist_compliance: Annotated[float, Meta(ge=0, le=1)] | None = None
    competitor_mentions: list[str] = field(default_factory=list)
    referrals: list[ReferralV1] = field(default_factory=list)
    # PDPO: the customer was told of the right to opt out on this contact.
    opt_out_notice_given: bool = False
    callback_at: Aware | None = None
    # The customer confirmed these profile fields (gaps put on the checklist).
    confirmed_fields: dict[str, Any] = field(default_factory=dict)
    # planned, callback, retry, escalation, replan; inbound or unplanned (no due time).
    kind: str | None = None
    # The quality rules the record hit when it was recorded (QUALITY_FLAGS), each once;
    # older events have none.
    quality_flags: list[Annotated[str, Meta(min_length=1, max_length=32)]] = field(
        default_factory=list
    )


class CallMissedV1(Contract, kw_only=True):
    call_id: str
    customer_id: str
    plan_id: str | None = None
    channel: Channel
    due_at: Aware
    missed_at: Aware
    segment: str | None = None
    agent_id: str | None = None
    agent_kind: str | None = None
    partner_id: str | None = None
    team: str | None = None
    replanned_call_id: str | None = None


class CallCancelledV1(Contract, kw_only=True):
    call_id: str
    customer_id: str
    channel: str | None = None
    purpose: str | None = None
    reason: str
    cancelled_at: Aware
    partner_id: str | None = None


class FollowupCreatedV1(Contract, kw_only=True):
    followup_id: str
    kind: FollowupKind
    customer_id: str
    source_call_id: str
    due_at: Aware | None = None
    call_id: str | None = None
    reason: str | None = None
    created_at: Aware


# -- sales ------------------------------------------------------------------


class DealCreatedV1(Contract, kw_only=True):
    FINITE = ("expected_value",)
    deal_id: str
    customer_id: str
    stage: DealStage
    probability: Percent | None = None
    expected_value: Money | None = None
    currency: Currency = "HKD"
    owner: str | None = None
    source_call_id: str | None = None
    segment: str | None = None
    created_at: Aware


class DealStageChangedV1(Contract, kw_only=True):
    FINITE = ("expected_value",)
    deal_id: str
    customer_id: str
    from_stage: DealStage
    to_stage: DealStage
    probability: Percent | None = None
    expected_value: Money | None = None
    currency: Currency = "HKD"
    lost_reason: str | None = None
    seconds_in_previous_stage: int | None = None
    segment: str | None = None
    changed_at: Aware


class SaleLineV1(Contract, kw_only=True):
    FINITE = ("quantity", "unit_price", "unit_cost", "discount")
    sku: str | None = None
    description: str | None = None
    quantity: Money
    unit_price: Money
    unit_cost: Money
    discount: Money | None = None


class SaleRecordedV1(Contract, kw_only=True):
    FINITE = ("revenue", "cost", "discount")
    sale_id: str
    customer_id: str
    currency: Currency
    recorded_at: Aware
    lines: Annotated[list[SaleLineV1], Meta(min_length=1)]
    revenue: Money
    cost: Money
    discount: Money | None = None
    segment: str | None = None
    deal_id: str | None = None
    source_call_id: str | None = None
    # The sale's own reference (an invoice number), when it was given one.
    external_ref: str | None = None


class SaleReturnedV1(Contract, kw_only=True):
    """A return against ``sale_id``: ``revenue`` is the amount refunded and
    ``cost`` the cost of goods taken back, both positive."""

    FINITE = ("revenue", "cost")
    return_id: str
    sale_id: str
    customer_id: str
    currency: Currency
    returned_at: Aware
    lines: list[SaleLineV1] = field(default_factory=list)
    revenue: Money
    cost: Money
    segment: str | None = None


class SaleCancelledV1(Contract, kw_only=True):
    """The sale is reversed in full by a reversing entry: ``revenue`` (net of
    discounts), ``discount`` and ``cost`` are the reversed sale's, as it carried
    them (``discount`` is absent from events before it was added)."""

    FINITE = ("revenue", "cost", "discount")
    sale_id: str
    customer_id: str
    currency: Currency
    revenue: Money
    cost: Money
    discount: Money | None = None
    reason: str | None = None
    segment: str | None = None
    cancelled_at: Aware


class AllocationShareV1(Contract, kw_only=True):
    FINITE = ("amount",)
    customer_id: str
    amount: Money


class AllocationRecordedV1(Contract, kw_only=True):
    FINITE = ("amount",)
    allocation_id: str
    kind: AllocationKind
    amount: Money
    currency: Currency
    team: str | None = None
    channel: str | None = None
    segment: str | None = None
    period_start: date
    period_end: date
    rule: str
    # How the amount landed on customers: the shares sum exactly to ``amount``.
    shares: list[AllocationShareV1] = field(default_factory=list)
    recorded_at: Aware


# -- data-subject export -----------------------------------------------------


class SubjectExportRequestedV1(Contract, kw_only=True):
    """A data access request (PDPO): every service that holds records about the
    customer answers with ``subject.export_contributed``. ``customer_ids`` is the
    customer and every profile merged into it, so absorbed records are found."""

    export_id: str
    customer_id: str
    customer_ids: Annotated[list[str], Meta(min_length=1)]
    requested_at: Aware


class SubjectExportContributedV1(Contract, kw_only=True):
    """One service's records about the subject, part ``part`` of ``parts`` (a large
    contribution is cut into parts, see ``shared.events.export_parts``). ``sections``
    maps a section name (``calls``, ``deals``…) to its records, in wire form."""

    export_id: str
    customer_id: str
    service: str
    part: Positive
    parts: Positive
    sections: dict[str, list[dict]]
    contributed_at: Aware


# -- ledger (sales) -----------------------------------------------------------


class LedgerTotalsPublishedV1(Contract, kw_only=True):
    """The sales ledger's own totals of one local day (in ``timezone``, the sales
    service's) and currency, re-published with a higher ``revision`` by every
    ledger write that changes them: the newest revision is the day's figure.
    ``revenue`` is at list price (sales less cancelled ones); every amount is an
    exact sum of entries each rounded to the cent once, when it was recorded."""

    FINITE = (
        "revenue",
        "discounts",
        "returns",
        "cost_of_goods",
        "cost_to_serve",
        "allocations",
        "net_contribution",
    )
    day: date
    currency: Currency
    timezone: str
    revision: Positive
    revenue: Money
    discounts: Money
    returns: Money
    cost_of_goods: Money
    cost_to_serve: Money
    allocations: Money
    net_contribution: Money
    calls: int


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
    ("subject.export_requested", 1): SubjectExportRequestedV1,
    ("subject.export_contributed", 1): SubjectExportContributedV1,
    ("ledger.totals_published", 1): LedgerTotalsPublishedV1,
}

# Events that carry one data subject's records to one recipient: a service that keeps
# every event it sees (reporting's log) keeps no copy of these.
SUBJECT_RECORDS = frozenset({"subject.export_contributed"})


def contract_for(event_type: str, version: int) -> type[Contract]:
    """The payload contract of one event type and version; KeyError if unknown."""
    return CONTRACTS[(event_type, version)]


def routing_key(event_type: str, version: int) -> str:
    """``<aggregate>.<past-tense-verb>.v<version>``, as the spec names them."""
    return f"{event_type}.v{version}"


def json_schema(event_type: str, version: int) -> dict[str, Any]:
    """The contract as JSON Schema (for documentation and other languages' producers)."""
    return msgspec.json.schema(contract_for(event_type, version))
