"""The tables of calls: the call, its follow-ups and its quality flags."""

from __future__ import annotations

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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.calls.db import Base, new_id
from shared.clock import utcnow
from shared.types import Money, UTCDateTime

STATUSES = ("scheduled", "completed", "cancelled", "missed")
# Calls cancelled because their plan changed, paused or ended free their slot, so
# that the plan's new version (or its resumption) plans the slot again.
PLAN_REASONS = ("plan_changed", "plan_paused", "plan_ended")
HOLDS_SLOT = (
    "(cancel_reason IS NULL OR cancel_reason NOT IN ('plan_changed', 'plan_paused', 'plan_ended'))"
)
KINDS = ("planned", "callback", "retry", "escalation", "replan", "inbound", "unplanned")


class Call(Base):
    """One call instance; (plan, customer, due time) is unique among the calls that
    hold their slot (all but those cancelled by a plan change), which makes
    scheduling idempotent."""

    __tablename__ = "calls"
    __table_args__ = (
        Index(
            "uq_calls_plan_customer_due",
            "plan_id",
            "customer_id",
            "due_at",
            unique=True,
            sqlite_where=text(HOLDS_SLOT),
            postgresql_where=text(HOLDS_SLOT),
        ),
        # Every list of calls is ordered by (due_at, id): by plan, by customer, or all.
        Index("ix_calls_due", "due_at", "id"),
        Index("ix_calls_plan_due", "plan_id", "due_at", "id"),
        Index("ix_calls_customer_due", "customer_id", "due_at", "id"),
        CheckConstraint(f"status IN {STATUSES!r}", name="ck_calls_status"),
        # Partial: a scheduling run inserts unassigned calls, which these skip.
        Index(
            "ix_calls_agent_queue",
            "agent_id",
            "status",
            "due_at",
            sqlite_where=text("agent_id IS NOT NULL"),
            postgresql_where=text("agent_id IS NOT NULL"),
        ),
        Index(
            "ix_calls_partner",
            "partner_id",
            "status",
            "due_at",
            "id",
            sqlite_where=text("partner_id IS NOT NULL"),
            postgresql_where=text("partner_id IS NOT NULL"),
        ),
        Index("ix_calls_status_window", "status", "window_end"),
        # The quality rules look up an agent's recent completed calls, a page at a time
        # in (completed_at, id) order; partial, so the open calls a scheduling run
        # inserts cost these indexes nothing.
        Index(
            "ix_calls_agent_completed",
            "agent_id",
            "completed_at",
            "id",
            sqlite_where=text("completed_at IS NOT NULL"),
            postgresql_where=text("completed_at IS NOT NULL"),
        ),
        Index(
            "ix_calls_completer_completed",
            "completed_by",
            "completed_at",
            "id",
            sqlite_where=text("completed_at IS NOT NULL"),
            postgresql_where=text("completed_at IS NOT NULL"),
        ),
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
