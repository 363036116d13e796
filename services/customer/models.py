"""Customer profiles, their activity timeline, and the service's outbox and inbox."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.messaging.tables import InboxMixin, OutboxMixin, utcnow
from shared.types import UTCDateTime
from shared.web.idempotency import IdempotencyMixin


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
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    segment: Mapped[str] = mapped_column(String(64), index=True)
    preferred_language: Mapped[str | None] = mapped_column(String(16))
    lifecycle_status: Mapped[str] = mapped_column(String(16), default="active")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Relationship state, kept current from call events.
    last_contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    calls_completed: Mapped[int] = mapped_column(Integer, default=0)
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    propensity: Mapped[int | None] = mapped_column(Integer)


class Activity(Base):
    """One entry of a customer's timeline; ``source_event_id`` ties it to its event."""

    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_customer_time", "customer_id", "occurred_at", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    source_event_id: Mapped[str] = mapped_column(String(36), unique=True)
    summary: Mapped[dict] = mapped_column(JSON, default=dict)
