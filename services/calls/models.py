"""The calls service's tables: its projection of customers, call plans, calls, and
the service's outbox and inbox."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.messaging.tables import InboxMixin, OutboxMixin, utcnow
from shared.types import UTCDateTime
from shared.web.idempotency import IdempotencyMixin

STATUSES = ("scheduled", "completed", "cancelled", "missed")


class Base(DeclarativeBase):
    pass


class Outbox(OutboxMixin, Base):
    pass


class Inbox(InboxMixin, Base):
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


class CallPlan(Base):
    """A coverage policy: call every customer of a segment on a recurrence."""

    __tablename__ = "call_plans"
    __table_args__ = (Index("ix_call_plans_created", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    segment: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    rrule: Mapped[str] = mapped_column(String(500))
    timezone: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    priority: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Call(Base):
    """One call instance; (plan, customer, due time) is unique, which makes
    scheduling idempotent."""

    __tablename__ = "calls"
    __table_args__ = (
        UniqueConstraint("plan_id", "customer_id", "due_at", name="uq_calls_plan_customer_due"),
        # Every list of calls is ordered by (due_at, id): by plan, by customer, or all.
        Index("ix_calls_due", "due_at", "id"),
        Index("ix_calls_plan_due", "plan_id", "due_at", "id"),
        Index("ix_calls_customer_due", "customer_id", "due_at", "id"),
        CheckConstraint(f"status IN {STATUSES!r}", name="ck_calls_status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    plan_id: Mapped[str] = mapped_column(ForeignKey("call_plans.id"))
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
