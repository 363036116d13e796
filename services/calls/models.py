"""The calls service's tables: its projection of customers, call plans, calls, and
the service's outbox and inbox."""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, validates

from shared.clock import utcnow
from shared.messaging.tables import InboxMixin, OutboxMixin
from shared.periodic import PeriodicJobMixin
from shared.search_keys import as_phone, name_key
from shared.types import Money, UTCDateTime
from shared.web.idempotency import IdempotencyMixin

STATUSES = ("scheduled", "completed", "cancelled", "missed")
PLAN_STATUSES = ("active", "paused", "ended")
# Calls cancelled because their plan changed, paused or ended free their slot, so
# that the plan's new version (or its resumption) plans the slot again.
PLAN_REASONS = ("plan_changed", "plan_paused", "plan_ended")
HOLDS_SLOT = ("(cancel_reason IS NULL OR cancel_reason NOT IN "
              "('plan_changed', 'plan_paused', 'plan_ended'))")
KINDS = ("planned", "callback", "retry", "escalation", "replan", "inbound", "unplanned")


class Base(DeclarativeBase):
    pass


class Outbox(OutboxMixin, Base):
    pass


class Inbox(InboxMixin, Base):
    pass


class PeriodicJob(PeriodicJobMixin, Base):
    pass


class IdempotencyKey(IdempotencyMixin, Base):
    pass


def new_id() -> str:
    return str(uuid.uuid4())


class Customer(Base):
    """What calls knows of a customer, fed only by customer events.

    ``updated_at`` is the time of the newest event applied, so an older event that
    arrives late cannot undo a newer one."""

    __tablename__ = "customers"
    __table_args__ = (Index("ix_customers_segment", "segment", "customer_id"),)

    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))
    segment: Mapped[str] = mapped_column(String(64))
    preferred_language: Mapped[str | None] = mapped_column(String(16))
    lifecycle_status: Mapped[str] = mapped_column(String(16), default="active")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Profile fields the customer service found missing: confirmed on the next call.
    gaps: Mapped[list] = mapped_column(JSON, default=list)
    # When the customer service found the gaps held here (an older finding is ignored).
    gaps_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The context a call page shows: e-mail calls, visits, and how the relationship goes.
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[dict | None] = mapped_column(JSON)
    relationship_score: Mapped[float | None] = mapped_column(Float)
    satisfaction_trend: Mapped[float | None] = mapped_column(Float)
    # The reference another system knows the customer by: the search finds it exactly.
    external_ref: Mapped[str | None] = mapped_column(String(100), index=True)
    # The workspace search's keys (shared.search_keys), kept with the name and phone
    # they come from: set whenever an event sets those, so rows fill as events arrive.
    name_key: Mapped[str | None] = mapped_column(String(200), index=True)
    phone_key: Mapped[str | None] = mapped_column(String(20), index=True)

    @validates("name")
    def _keep_name_key(self, _key, value):
        self.name_key = name_key(value) if value else None
        return value

    @validates("phone")
    def _keep_phone_key(self, _key, value):
        self.phone_key = as_phone(value) if value else None
        return value


class CallPlan(Base):
    """A coverage policy: call the customers of some segments (and/or some named
    customers) on a recurrence, within calling windows. The row is the current
    version; every version is kept in ``call_plan_versions``."""

    __tablename__ = "call_plans"
    __table_args__ = (Index("ix_call_plans_created", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    # The first of ``segments`` (kept for the events and older readers).
    segment: Mapped[str | None] = mapped_column(String(64), index=True)
    segments: Mapped[list] = mapped_column(JSON, default=list)
    customer_ids: Mapped[list] = mapped_column(JSON, default=list)
    channel: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(64), default="service")
    rrule: Mapped[str] = mapped_column(String(500))
    timezone: Mapped[str] = mapped_column(String(64))
    windows: Mapped[list] = mapped_column(JSON, default=list)
    allow_holidays: Mapped[bool] = mapped_column(Boolean, default=False)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    priority: Mapped[int] = mapped_column(Integer)
    checklist: Mapped[list] = mapped_column(JSON, default=list)
    required_trainings: Mapped[list] = mapped_column(JSON, default=list)
    required_certifications: Mapped[list] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The rolling schedule: calls are kept planned ``horizon_days`` ahead while the
    # plan is active; ``aligned_version`` is the last version whose calls ahead have
    # been checked against it (``rolling.realign``).
    horizon_days: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    aligned_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class CallPlanVersion(Base):
    """A plan as it was at one version: calls keep the version they were planned
    with, and their checklist is that version's."""

    __tablename__ = "call_plan_versions"

    plan_id: Mapped[str] = mapped_column(ForeignKey("call_plans.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    snapshot: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(200))


class Call(Base):
    """One call instance; (plan, customer, due time) is unique among the calls that
    hold their slot (all but those cancelled by a plan change), which makes
    scheduling idempotent."""

    __tablename__ = "calls"
    __table_args__ = (
        Index("uq_calls_plan_customer_due", "plan_id", "customer_id", "due_at", unique=True,
              sqlite_where=text(HOLDS_SLOT), postgresql_where=text(HOLDS_SLOT)),
        # Every list of calls is ordered by (due_at, id): by plan, by customer, or all.
        Index("ix_calls_due", "due_at", "id"),
        Index("ix_calls_plan_due", "plan_id", "due_at", "id"),
        Index("ix_calls_customer_due", "customer_id", "due_at", "id"),
        CheckConstraint(f"status IN {STATUSES!r}", name="ck_calls_status"),
        # Partial: a scheduling run inserts unassigned calls, which these skip.
        Index("ix_calls_agent_queue", "agent_id", "status", "due_at",
              sqlite_where=text("agent_id IS NOT NULL"),
              postgresql_where=text("agent_id IS NOT NULL")),
        Index("ix_calls_partner", "partner_id", "status", "due_at", "id",
              sqlite_where=text("partner_id IS NOT NULL"),
              postgresql_where=text("partner_id IS NOT NULL")),
        Index("ix_calls_status_window", "status", "window_end"),
        # The quality rules look up an agent's recent completed calls; partial, so the
        # open calls a scheduling run inserts cost these indexes nothing.
        Index("ix_calls_agent_completed", "agent_id", "completed_at",
              sqlite_where=text("completed_at IS NOT NULL"),
              postgresql_where=text("completed_at IS NOT NULL")),
        Index("ix_calls_completer_completed", "completed_by", "completed_at",
              sqlite_where=text("completed_at IS NOT NULL"),
              postgresql_where=text("completed_at IS NOT NULL")),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # None for an inbound or unplanned call (kind ``inbound``/``unplanned``).
    plan_id: Mapped[str | None] = mapped_column(ForeignKey("call_plans.id"))
    customer_id: Mapped[str] = mapped_column(String(36))
    channel: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    priority: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The outcome, recorded once.
    outcome: Mapped[str | None] = mapped_column(String(32))
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    propensity: Mapped[int | None] = mapped_column(Integer)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(String(2000))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_by: Mapped[str | None] = mapped_column(String(200))
    # Planning: the plan version, purpose and the end of the calling window.
    plan_version: Mapped[int | None] = mapped_column(Integer)
    purpose: Mapped[str | None] = mapped_column(String(64))
    window_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(16), default="planned")
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    source_call_id: Mapped[str | None] = mapped_column(String(36))
    # Escalations are for a manager, never an agent's queue.
    for_role: Mapped[str] = mapped_column(String(16), default="agent")
    # Assignment.
    agent_id: Mapped[str | None] = mapped_column(String(36))
    partner_id: Mapped[str | None] = mapped_column(String(36))
    unassigned_reason: Mapped[str | None] = mapped_column(String(300))
    cancel_reason: Mapped[str | None] = mapped_column(String(64))
    # Findings beyond the outcome.
    answers: Mapped[dict | None] = mapped_column(JSON)
    checklist_compliance: Mapped[float | None] = mapped_column(Float)
    competitor_mentions: Mapped[list | None] = mapped_column(JSON)
    referrals: Mapped[list | None] = mapped_column(JSON)
    confirmed_fields: Mapped[dict | None] = mapped_column(JSON)
    opt_out_notice_given: Mapped[bool | None] = mapped_column(Boolean)
    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cost: Mapped[Decimal | None] = mapped_column(Money())


class Consent(Base):
    """The local consent projection, from ``customer.consent_changed`` and
    ``customer.opted_out``. ``*`` in channel or purpose stands for all of them
    (an opt-out from every channel, a do-not-call on every purpose)."""

    __tablename__ = "consents"

    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Partner(Base):
    """An outsourcer organisation; paid a fee per completed call."""

    __tablename__ = "partners"
    __table_args__ = (Index("ix_partners_created", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    fee_per_call: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3), default="HKD")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Agent(Base):
    """A staff agent, or an outsourcer agent of a partner. Its id is the subject
    of its bearer token. ``last_assigned_seq`` orders equals for round-robin."""

    __tablename__ = "agents"
    __table_args__ = (Index("ix_agents_created", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    partner_id: Mapped[str | None] = mapped_column(ForeignKey("partners.id"))
    team: Mapped[str | None] = mapped_column(String(64))
    languages: Mapped[list] = mapped_column(JSON, default=list)
    segments: Mapped[list] = mapped_column(JSON, default=list)
    channels: Mapped[list] = mapped_column(JSON, default=list)
    certifications: Mapped[list] = mapped_column(JSON, default=list)
    trainings: Mapped[list] = mapped_column(JSON, default=list)
    daily_capacity: Mapped[int] = mapped_column(Integer)
    rate_per_minute: Mapped[Decimal | None] = mapped_column(Money())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_assigned_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Assignment(Base):
    """Every assignment decision, automatic or manual, with its reason."""

    __tablename__ = "assignments"
    __table_args__ = (Index("ix_assignments_call", "call_id", "decided_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    call_id: Mapped[str] = mapped_column(String(36))
    agent_id: Mapped[str | None] = mapped_column(String(36))
    partner_id: Mapped[str | None] = mapped_column(String(36))
    mode: Mapped[str] = mapped_column(String(16))
    # Why, as a code: continuity, round_robin, manual, or why it went back to the pool
    # (agent_deactivated, training_expired, over_capacity, partner_suspended, ...).
    basis: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(500))
    decided_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Followup(Base):
    __tablename__ = "followups"
    __table_args__ = (Index("ix_followups_created", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[str] = mapped_column(String(36))
    source_call_id: Mapped[str] = mapped_column(String(36))
    call_id: Mapped[str | None] = mapped_column(String(36))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class QualityFlag(Base):
    """An implausible call record, flagged for review."""

    __tablename__ = "quality_flags"
    __table_args__ = (Index("ix_quality_flags_created", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    call_id: Mapped[str] = mapped_column(String(36))
    agent_id: Mapped[str | None] = mapped_column(String(200))
    rule: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PartnerClient(Base):
    """A partner's OAuth2 client (client-credentials grant): its id is public, its
    secret is stored only as a salted scrypt hash, shown once when made. A revoked
    client gets no more tokens and its tokens already issued are refused."""

    __tablename__ = "partner_clients"
    __table_args__ = (Index("ix_partner_clients_partner", "partner_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(200))
    last_token_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PartnerRead(Base):
    """The audit of every partner read of customer data (PDPO)."""

    __tablename__ = "partner_reads"
    __table_args__ = (Index("ix_partner_reads_partner", "partner_id", "read_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(String(36))
    subject: Mapped[str] = mapped_column(String(200))
    call_id: Mapped[str] = mapped_column(String(36))
    customer_id: Mapped[str] = mapped_column(String(36))
    fields: Mapped[str] = mapped_column(String(200))
    endpoint: Mapped[str] = mapped_column(String(120))
    read_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ContactPolicy(Base):
    """The company's contact-frequency cap: at most ``max_calls`` calls to one
    customer in any ``per_days`` days, across every plan and channel. One row."""

    __tablename__ = "contact_policy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    max_calls: Mapped[int | None] = mapped_column(Integer)
    per_days: Mapped[int] = mapped_column(Integer, default=7)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EarlyGaps(Base):
    """Gaps found on a profile whose registration has not reached calls yet: kept
    here and moved onto the customer when its row is made."""

    __tablename__ = "early_gaps"

    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    missing: Mapped[list] = mapped_column(JSON, default=list)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookSubscription(Base):
    """Where to send notifications of some kinds: an internal app's (no partner) or a
    partner's, which only ever gets its own work. The secret signs every delivery."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (Index("ix_webhook_subscriptions_partner", "partner_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    url: Mapped[str] = mapped_column(String(2000))
    kinds: Mapped[list] = mapped_column(JSON, default=list)
    partner_id: Mapped[str | None] = mapped_column(String(36))
    secret: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookDelivery(Base):
    """One notification to one subscription, written with the event's handling, so
    one exists iff the event was handled; sent and retried by ``deliver-webhooks``."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "source_id", "kind",
                         name="uq_webhook_deliveries_source"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_subscription", "subscription_id", "created_at", "id"),
        Index("ix_webhook_deliveries_customer", "customer_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    subscription_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    # The event (or the call, for a callback due) the notification comes from.
    source_id: Mapped[str] = mapped_column(String(36))
    # Whom the body names, so that an erasure finds it.
    customer_id: Mapped[str | None] = mapped_column(String(36))
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Withdrawal(Base):
    """Work taken from a partner (reassigned or cancelled), and when the partner said
    it stopped: the company shows its outsourcers were told to stop (PDPO)."""

    __tablename__ = "withdrawals"
    __table_args__ = (
        UniqueConstraint("source_id", name="uq_withdrawals_source"),
        Index("ix_withdrawals_partner", "partner_id", "withdrawn_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    source_id: Mapped[str] = mapped_column(String(36))
    call_id: Mapped[str] = mapped_column(String(36))
    partner_id: Mapped[str] = mapped_column(String(36))
    withdrawn_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))


class CallbackNotice(Base):
    """A callback call announced as due (once per call)."""

    __tablename__ = "callback_notices"

    call_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    noticed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CalendarToken(Base):
    """The hash of an agent's calendar feed secret (rotatable)."""

    __tablename__ = "calendar_tokens"

    agent_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
