"""The sales ledger: sales, their lines, returns and cancellations.

The ledger is append-only: rows are inserted and never updated or deleted (the
database refuses it, see the ``append-only ledger`` migration); a correction is a
reversing entry. A sale names its customer by id without a foreign key, because the
customer's registration may reach this service after the sale does.

Each entry's money is rounded to the cent once, when it is recorded; each line then
carries its cent share of the entry's totals (``*_cents``), apportioned by largest
remainder so that the lines add up to the entry exactly (see ``amounts.py``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from services.sales.customers.tables import Customer
from services.sales.db import Base, new_id
from shared.types import Money, UTCDateTime


class Sale(Base):
    """One recorded sale. ``revenue`` is what the customer pays (net of line
    discounts), ``discount`` the discounts given, ``cost`` the cost of goods: each the
    exact sum of the lines rounded once to the cent."""

    __tablename__ = "sales"
    __table_args__ = (
        Index("ix_sales_customer_time", "customer_id", "recorded_at", "id"),
        Index("ix_sales_time", "recorded_at", "id"),
        Index("ux_sales_external_ref", "external_ref", unique=True),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # The sale's own reference where it came from (an invoice number): at most one
    # sale a reference, so recording or importing it again never makes a second.
    external_ref: Mapped[str | None] = mapped_column(String(100))
    customer_id: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revenue: Mapped[Decimal] = mapped_column(Money)
    cost: Mapped[Decimal] = mapped_column(Money)
    discount: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    segment: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(16))
    team: Mapped[str | None] = mapped_column(String(100))
    agent_kind: Mapped[str | None] = mapped_column(String(16))
    deal_id: Mapped[str | None] = mapped_column(String(36))
    source_call_id: Mapped[str | None] = mapped_column(String(64))
    below_cost: Mapped[bool] = mapped_column(Boolean, default=False)
    approval_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))

    # Loaded only where asked for (one sale's detail), never by accident for a list.
    lines: Mapped[list[SaleLine]] = relationship(order_by="SaleLine.line_no", lazy="raise")
    returns: Mapped[list[SaleReturn]] = relationship(
        order_by="SaleReturn.returned_at", lazy="raise"
    )
    cancellation: Mapped[SaleCancellation | None] = relationship(lazy="raise")
    customer: Mapped[Customer | None] = relationship(
        primaryjoin=lambda: foreign(Sale.customer_id) == Customer.customer_id,
        viewonly=True,
        lazy="selectin",
    )

    @property
    def customer_known(self) -> bool:
        """Whether the customer's registration has reached this service yet."""
        return self.customer is not None


class SaleLine(Base):
    __tablename__ = "sale_lines"

    sale_id: Mapped[str] = mapped_column(ForeignKey("sales.id"), primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str | None] = mapped_column(String(64), index=True)
    description: Mapped[str | None] = mapped_column(String(200))
    quantity: Mapped[Decimal] = mapped_column(Money)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    unit_cost: Mapped[Decimal] = mapped_column(Money)
    discount: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    revenue_cents: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    discount_cents: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    cost_cents: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))


class SaleReturn(Base):
    """Goods taken back against a sale: ``revenue`` refunded, ``cost`` of the goods
    back in stock, both positive; ``seconds_after_sale`` tells a late return."""

    __tablename__ = "sale_returns"
    __table_args__ = (
        Index("ix_returns_sale", "sale_id"),
        Index("ix_returns_time", "returned_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    sale_id: Mapped[str] = mapped_column(ForeignKey("sales.id"))
    customer_id: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    returned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    seconds_after_sale: Mapped[int] = mapped_column(BigInteger)
    revenue: Mapped[Decimal] = mapped_column(Money)
    cost: Mapped[Decimal] = mapped_column(Money)
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    lines: Mapped[list[ReturnLine]] = relationship(order_by="ReturnLine.line_no", lazy="selectin")


class ReturnLine(Base):
    __tablename__ = "return_lines"

    return_id: Mapped[str] = mapped_column(ForeignKey("sale_returns.id"), primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    sale_id: Mapped[str] = mapped_column(String(36))
    quantity: Mapped[Decimal] = mapped_column(Money)
    revenue_cents: Mapped[Decimal] = mapped_column(Money)
    cost_cents: Mapped[Decimal] = mapped_column(Money)


class SaleCancellation(Base):
    """The reversing entry of a whole sale (at most one per sale)."""

    __tablename__ = "sale_cancellations"

    sale_id: Mapped[str] = mapped_column(ForeignKey("sales.id"), primary_key=True)
    cancelled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
