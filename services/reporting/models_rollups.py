"""Roll-ups that let the P&L, sales and call-effectiveness reports answer from rows
whose number does not grow with the number of sales: P&L per currency × local day
× segment (``pnl_cube``) and per currency × customer × month (``pnl_month``), and
the segment each customer's P&L is counted under (``customer_segment``).

``findings_month`` and ``score_month`` are the findings and score cubes by local
calendar month (``day`` holds the month's first day): a period of whole months reads
one row per month and key instead of one per day and key.

``customer_segment`` follows ``customer_dim`` (``unknown`` until the customer is
known); when it changes, the customer's whole P&L history is moved from the old
segment's cube rows to the new one's, so a sale booked before its customer arrived
ends up under the right segment, as a read-time join would have put it.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from services.reporting.models import Base
from services.reporting.models_facts import Amounts, Dims, FindingsSums, ScoreCounts


class PnlCube(Amounts, Base):
    """The P&L of a currency, local day and customer segment."""
    __tablename__ = "pnl_cube"
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    segment: Mapped[str] = mapped_column(String(64), primary_key=True)


class PnlMonth(Amounts, Base):
    """The P&L of a currency, customer and local calendar month (its first day)."""
    __tablename__ = "pnl_month"
    # Read a customer at a time: clustered by key on SQLite, not by rowid.
    __table_args__ = {"sqlite_with_rowid": False}
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)


class CustomerSegment(Base):
    """The segment a customer's P&L is counted under in ``pnl_cube``. Also the row
    a P&L entry and a segment change both lock, so that concurrent consumers cannot
    book an entry under a segment the customer is being moved away from."""
    __tablename__ = "customer_segment"
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    segment: Mapped[str] = mapped_column(String(64))


class FindingsMonth(Dims, FindingsSums, Base):
    __tablename__ = "findings_month"


class ScoreMonth(Dims, ScoreCounts, Base):
    __tablename__ = "score_month"


MONTHLY = {"findings_cube": FindingsMonth, "score_cube": ScoreMonth}
