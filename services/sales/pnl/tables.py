"""Cost to serve (one row per completed call), the allocation ledger, and the
maintained P&L summary.

Call costs, allocations and their shares are ledger rows: append-only like sales.
``pnl_daily`` is not the ledger but a sum of it, incremented in the transaction of
every ledger entry: one row per local day × currency × customer × segment ×
product × channel × team × agent kind. A dimension that does not apply (the
product of a call cost) is stored as ``""`` so that the key stays unique on
every database (NULLs never collide in a unique index). A row's segment is the
one its customer's P&L counts under now (``pnl_segments``), not the one an entry
was booked with. ``ledger_days`` is the same sum per local day and currency, the
figures the ledger publishes.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.sales.db import Base, new_id
from shared.types import Money, UTCDateTime


class CallCost(Base):
    __tablename__ = "call_costs"
    __table_args__ = (Index("ix_call_costs_time", "completed_at"),)

    call_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cost: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    outcome: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str | None] = mapped_column(String(16))
    team: Mapped[str | None] = mapped_column(String(100))
    agent_kind: Mapped[str | None] = mapped_column(String(16))
    partner_id: Mapped[str | None] = mapped_column(String(64))
    segment: Mapped[str | None] = mapped_column(String(64))
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Allocation(Base):
    __tablename__ = "allocations"
    __table_args__ = (Index("ix_allocations_time", "recorded_at", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    team: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str | None] = mapped_column(String(16))
    segment: Mapped[str | None] = mapped_column(String(64))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    rule: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(String(500))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(200))
    shares: Mapped[list[AllocationShare]] = relationship(
        order_by="AllocationShare.customer_id", lazy="selectin"
    )


class AllocationShare(Base):
    __tablename__ = "allocation_shares"

    allocation_id: Mapped[str] = mapped_column(ForeignKey("allocations.id"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    weight: Mapped[Decimal] = mapped_column(Money)
    amount: Mapped[Decimal] = mapped_column(Money)


DIMENSIONS = ("customer_id", "segment", "product", "channel", "team", "agent_kind")
AMOUNTS = ("revenue", "discounts", "returns", "cost_of_goods", "cost_to_serve", "allocations")


class PnlDaily(Base):
    __tablename__ = "pnl_daily"
    __table_args__ = (
        PrimaryKeyConstraint("day", "currency", *DIMENSIONS),
        Index("ix_pnl_daily_customer", "customer_id"),
    )

    day: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    customer_id: Mapped[str] = mapped_column(String(64))
    segment: Mapped[str] = mapped_column(String(64))
    product: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    team: Mapped[str] = mapped_column(String(100))
    agent_kind: Mapped[str] = mapped_column(String(16))
    revenue: Mapped[Decimal] = mapped_column(Money)
    discounts: Mapped[Decimal] = mapped_column(Money)
    returns: Mapped[Decimal] = mapped_column(Money)
    cost_of_goods: Mapped[Decimal] = mapped_column(Money)
    cost_to_serve: Mapped[Decimal] = mapped_column(Money)
    allocations: Mapped[Decimal] = mapped_column(Money)
    calls: Mapped[int] = mapped_column(Integer)


class PnlSegment(Base):
    """The segment a customer's P&L counts under (``services.sales.pnl.segments``): its
    segment as last heard, ``unknown`` until it is heard of. Every ``pnl_daily`` row
    of the customer carries it; booking and moving both lock this row."""

    __tablename__ = "pnl_segments"

    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    segment: Mapped[str] = mapped_column(String(64))


class LedgerDay(Base):
    """The ledger's own totals of a local day and currency, as last published in
    ``ledger.totals_published`` (``services.sales.pnl.day_totals``); ``revision``
    counts the writes that changed them."""

    __tablename__ = "ledger_days"
    __table_args__ = (PrimaryKeyConstraint("day", "currency"),)

    day: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    revenue: Mapped[Decimal] = mapped_column(Money)
    discounts: Mapped[Decimal] = mapped_column(Money)
    returns: Mapped[Decimal] = mapped_column(Money)
    cost_of_goods: Mapped[Decimal] = mapped_column(Money)
    cost_to_serve: Mapped[Decimal] = mapped_column(Money)
    allocations: Mapped[Decimal] = mapped_column(Money)
    calls: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer)
