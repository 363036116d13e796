"""The event log, the read models folded from it, and the service's outbox and inbox.

``event_log`` is append-only and holds every consumed event in wire form; the other
tables (here ``customer_dim``, the rest in ``models_facts``) are projections of it
and can be emptied and rebuilt from it at any time.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.messaging.tables import InboxMixin, OutboxMixin, utcnow
from shared.types import UTCDateTime

class Base(DeclarativeBase):
    pass


class Outbox(OutboxMixin, Base):
    pass


class Inbox(InboxMixin, Base):
    pass


class EventLog(Base):
    """One consumed event, payload re-serialised by its contract (money as strings)."""

    __tablename__ = "event_log"
    __table_args__ = (Index("ix_event_log_replay", "occurred_at", "event_id"),)

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(80))
    event_version: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    producer: Mapped[str] = mapped_column(String(80))
    correlation_id: Mapped[str] = mapped_column(Text)
    causation_id: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CustomerDim(Base):
    """What reports need of a customer; ``as_of`` is when its segment was last set."""

    __tablename__ = "customer_dim"

    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    segment: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    as_of: Mapped[datetime] = mapped_column(UTCDateTime())
