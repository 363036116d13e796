"""The sales ledger (sales and their lines), the projection of known customers, and
the service's outbox and inbox.

The ledger is append-only: rows are inserted and never updated or deleted; a
correction will be a reversing entry. A sale names its customer by id without a
foreign key, because the customer's registration may reach this service after the
sale does.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, foreign, mapped_column, relationship

from shared.messaging.tables import InboxMixin, OutboxMixin
from shared.types import Money, UTCDateTime
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
    """What the sales service knows of a customer, kept from ``customer.registered``."""

    __tablename__ = "customers"

    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    segment: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))


class Sale(Base):
    """One recorded sale; ``revenue`` and ``cost`` are its totals, rounded to the cent."""

    __tablename__ = "sales"
    __table_args__ = (
        Index("ix_sales_customer_time", "customer_id", "recorded_at", "id"),
        Index("ix_sales_time", "recorded_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revenue: Mapped[Decimal] = mapped_column(Money)
    cost: Mapped[Decimal] = mapped_column(Money)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))

    # Loaded only where asked for (one sale's detail), never by accident for a list.
    lines: Mapped[list[SaleLine]] = relationship(order_by="SaleLine.line_no", lazy="raise")
    customer: Mapped[Customer | None] = relationship(
        primaryjoin=lambda: foreign(Sale.customer_id) == Customer.customer_id,
        viewonly=True, lazy="selectin")

    @property
    def customer_known(self) -> bool:
        """Whether the customer's registration has reached this service yet."""
        return self.customer is not None


class SaleLine(Base):
    __tablename__ = "sale_lines"

    sale_id: Mapped[str] = mapped_column(ForeignKey("sales.id"), primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(String(200))
    quantity: Mapped[Decimal] = mapped_column(Money)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    unit_cost: Mapped[Decimal] = mapped_column(Money)
