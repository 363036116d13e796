"""The service's one declarative ``Base``, the tables every package shares, and the
column sets several packages' tables are made of.

``event_log`` is append-only and holds every consumed event in wire form; every
other table but the outbox and inbox is a read model folded from it (``customer_dim``
here, the rest in each package's ``tables``; ``read_models`` lists them all) and
can be emptied and rebuilt from it at any time. Keys cannot be NULL: a missing team
or partner is stored as "".
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

from sqlalchemy import Date, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.clock import utcnow
from shared.messaging.tables import InboxMixin, OutboxMixin
from shared.types import Money, UTCDateTime


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


DIMENSIONS = ("segment", "channel", "team", "agent_kind", "partner_id")


class Dims:
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    segment: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    team: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class ActivityCounts:
    """Calls planned (by due day), completed, missed, cancelled; on_time = completed
    on or before the local day it was due."""

    planned: Mapped[int] = mapped_column(Integer, default=0)
    completed: Mapped[int] = mapped_column(Integer, default=0)
    missed: Mapped[int] = mapped_column(Integer, default=0)
    cancelled: Mapped[int] = mapped_column(Integer, default=0)
    on_time: Mapped[int] = mapped_column(Integer, default=0)


class Amounts:
    """A P&L row's sums (the day's, a cube cell's, a month's)."""

    revenue: Mapped[Decimal] = mapped_column(Money(), default=0)
    discounts: Mapped[Decimal] = mapped_column(Money(), default=0)
    returns: Mapped[Decimal] = mapped_column(Money(), default=0)
    cost_of_goods: Mapped[Decimal] = mapped_column(Money(), default=0)
    cost_to_serve: Mapped[Decimal] = mapped_column(Money(), default=0)
    allocations: Mapped[Decimal] = mapped_column(Money(), default=0)
    sales: Mapped[int] = mapped_column(Integer, default=0)


class CustomerMonth:
    """Keyed month first, customer last: a month's rows together, as a report reads
    every customer's row of a few months."""

    __table_args__: ClassVar[dict] = {"sqlite_with_rowid": False}
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class CurrencyCustomerMonth(CustomerMonth):
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
