"""The event log, the read models folded from it, and the service's outbox and inbox.

``event_log`` is append-only and holds every consumed event in wire form; the other
tables are projections of it and can be dropped and rebuilt from it at any time.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Index, Integer, PrimaryKeyConstraint, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.messaging.tables import InboxMixin, OutboxMixin, utcnow
from shared.types import Money, UTCDateTime

PLANNED = "_planned"  # the activity_daily "outcome" counting calls scheduled for a day


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


class ActivityDaily(Base):
    """Calls per local day: completed ones by outcome, scheduled ones as ``_planned``."""

    __tablename__ = "activity_daily"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    outcome: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class SalesDaily(Base):
    """Sales per local day, customer and currency; joined to customer_dim when read."""

    __tablename__ = "sales_daily"
    __table_args__ = (PrimaryKeyConstraint("currency", "day", "customer_id"),)

    currency: Mapped[str] = mapped_column(String(3))
    day: Mapped[date] = mapped_column(Date)
    customer_id: Mapped[str] = mapped_column(String(64))
    revenue: Mapped[Decimal] = mapped_column(Money())
    cost: Mapped[Decimal] = mapped_column(Money())
    sales: Mapped[int] = mapped_column(Integer)
