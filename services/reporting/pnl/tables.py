"""The P&L read models: the entries of a local day, customer and currency
(``pnl_daily``), and roll-ups whose number of rows does not grow with the number of
sales: per currency × local day × segment (``pnl_cube``) and per currency × customer,
year to date by month (``pnl_ytd``, with ``pnl_ytd_pending`` for the entries not
spread yet, see ``store.year_to_date``).

``customer_segment`` follows ``customer_dim`` (``unknown`` until the customer is
known); when it changes, the customer's whole P&L history is moved from the old
segment's cube rows to the new one's, so a sale booked before its customer arrived
ends up under the right segment, as a read-time join would have put it.

``ledger_totals`` holds the figures the sales ledger publishes per day and currency,
which the P&L's reconciliation compares with reporting's own.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.reporting.tables import Amounts, Base, CurrencyCustomerMonth
from shared.types import Money


class PnlDaily(Amounts, Base):
    """The P&L entries of a local day, customer and currency, as the sales service
    defines them (see docs/reporting.md)."""

    __tablename__ = "pnl_daily"
    # A customer's history is moved between segments' cube rows by this index.
    __table_args__ = (Index("ix_pnl_daily_customer_id", "customer_id"),)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class PnlCube(Amounts, Base):
    """The P&L of a currency, local day and customer segment."""

    __tablename__ = "pnl_cube"
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    segment: Mapped[str] = mapped_column(String(64), primary_key=True)


class CustomerSegment(Base):
    """The segment a customer's P&L is counted under in ``pnl_cube``. Also the row
    a P&L entry and a segment change both lock, so that concurrent consumers cannot
    book an entry under a segment the customer is being moved away from."""

    __tablename__ = "customer_segment"
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    segment: Mapped[str] = mapped_column(String(64))


class PnlYtd(CurrencyCustomerMonth, Amounts, Base):
    """A customer's P&L in a currency from January through ``month``."""

    __tablename__ = "pnl_ytd"


class PnlYtdPending(CurrencyCustomerMonth, Amounts, Base):
    """Entries of ``pnl_ytd`` not spread yet: a customer's P&L of ``month`` alone."""

    __tablename__ = "pnl_ytd_pending"


class LedgerTotals(Base):
    """The sales ledger's own totals of a local day (in ``timezone``) and currency,
    the newest ``revision`` of ``ledger.totals_published``: what the P&L's
    reconciliation compares reporting's figures with. ``revenue`` is the ledger's,
    at list price (reporting's is net of discounts)."""

    __tablename__ = "ledger_totals"
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))
    revision: Mapped[int] = mapped_column(Integer)
    revenue: Mapped[Decimal] = mapped_column(Money())
    discounts: Mapped[Decimal] = mapped_column(Money())
    returns: Mapped[Decimal] = mapped_column(Money())
    cost_of_goods: Mapped[Decimal] = mapped_column(Money())
    cost_to_serve: Mapped[Decimal] = mapped_column(Money())
    allocations: Mapped[Decimal] = mapped_column(Money())
    net_contribution: Mapped[Decimal] = mapped_column(Money())
    calls: Mapped[int] = mapped_column(Integer)
