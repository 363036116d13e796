"""Roll-ups that let the P&L, sales and call-effectiveness reports answer from rows
whose number does not grow with the number of sales: P&L per currency × local day
× segment (``pnl_cube``) and per currency × customer, year to date by month
(``pnl_ytd``), and the segment each customer's P&L is counted under
(``customer_segment``).

``activity_day`` and ``outcome_day`` are the activity cube and the findings cube's
calls by outcome summed over every dimension: the activity report, unfiltered and
grouped by time, reads a row per day (and outcome) however full the cubes are.

``findings_month`` and ``score_month`` are the findings and score cubes by local
calendar month (``day`` holds the month's first day): a period of whole months reads
one row per month and key instead of one per day and key.

``customer_segment`` follows ``customer_dim`` (``unknown`` until the customer is
known); when it changes, the customer's whole P&L history is moved from the old
segment's cube rows to the new one's, so a sale booked before its customer arrived
ends up under the right segment, as a read-time join would have put it.

``customer_ytd`` and ``pnl_ytd`` are per customer and month, summed year to date
(see ``cumulative``): the call-effectiveness and P&L reports read a period's sums
per customer from the rows of its boundary months, a row per customer each.
An entry first goes to the customer's month in ``customer_ytd_pending`` or
``pnl_ytd_pending`` (one row, where spreading it takes up to twelve); the consumer
spreads those months when it is idle, and reports add what is pending.

``ledger_totals`` holds the figures the sales ledger publishes per day and currency,
which the P&L's reconciliation compares with reporting's own.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.reporting.models import Base
from services.reporting.models_facts import (ActivityCounts, Amounts, Dims, FindingsSums,
                                             ScoreCounts)
from shared.types import Money


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


class CustomerMonth:
    """Keyed month first, customer last: a month's rows together, as a report reads
    every customer's row of a few months."""
    __table_args__ = {"sqlite_with_rowid": False}
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class CurrencyCustomerMonth(CustomerMonth):
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)


class CustomerYtdCounts:
    """A customer's planned calls (by due day), completed calls, contacts, and the
    counts and sums of satisfaction and propensity scores."""
    planned: Mapped[int] = mapped_column(Integer, default=0)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    contacts: Mapped[int] = mapped_column(Integer, default=0)
    sat_n: Mapped[int] = mapped_column(Integer, default=0)
    sat_sum: Mapped[int] = mapped_column(Integer, default=0)
    prop_n: Mapped[int] = mapped_column(Integer, default=0)
    prop_sum: Mapped[int] = mapped_column(Integer, default=0)


class CustomerYtd(CustomerMonth, CustomerYtdCounts, Base):
    """A customer's calls and relationship signals from January through ``month``
    (local calendar months)."""
    __tablename__ = "customer_ytd"


class CustomerYtdPending(CustomerMonth, CustomerYtdCounts, Base):
    """Entries of ``customer_ytd`` not spread yet: a customer's sums of ``month``
    alone (see ``cumulative``)."""
    __tablename__ = "customer_ytd_pending"


class PnlYtd(CurrencyCustomerMonth, Amounts, Base):
    """A customer's P&L in a currency from January through ``month``."""
    __tablename__ = "pnl_ytd"


class PnlYtdPending(CurrencyCustomerMonth, Amounts, Base):
    """Entries of ``pnl_ytd`` not spread yet: a customer's P&L of ``month`` alone."""
    __tablename__ = "pnl_ytd_pending"


# Each year-to-date table and the table of its entries not spread yet.
PENDING = {CustomerYtd: CustomerYtdPending, PnlYtd: PnlYtdPending}


class FindingsMonth(Dims, FindingsSums, Base):
    __tablename__ = "findings_month"


class ScoreMonth(Dims, ScoreCounts, Base):
    __tablename__ = "score_month"


class ActivityDay(ActivityCounts, Base):
    """The activity cube summed over every dimension, per local day."""
    __tablename__ = "activity_day"
    day: Mapped[date] = mapped_column(Date, primary_key=True)


class OutcomeDay(Base):
    """Completed calls per local day and outcome, over every dimension."""
    __tablename__ = "outcome_day"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    outcome: Mapped[str] = mapped_column(String(32), primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, default=0)


MONTHLY = {"findings_cube": FindingsMonth, "score_cube": ScoreMonth}


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
