"""A customer's calls and relationship signals, year to date by local calendar
month (``customer_ytd``), and the entries not spread over the year yet
(``customer_ytd_pending``; see ``store.year_to_date``): what the call-effectiveness
report reads, a row per customer for each of a few boundary months.
"""

from __future__ import annotations

from sqlalchemy import Integer
from sqlalchemy.orm import Mapped, mapped_column

from services.reporting.tables import Base, CustomerMonth


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
    alone (see ``store.year_to_date``)."""

    __tablename__ = "customer_ytd_pending"
