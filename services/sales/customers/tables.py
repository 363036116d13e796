"""What the sales service knows of customers, kept from customer events: their
segment and name, and the merges that made one customer an alias of another."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from services.sales.db import Base
from shared.types import UTCDateTime


class Customer(Base):
    """What the sales service knows of a customer, kept from customer events.

    ``as_of`` is the time of the newest event applied, so a late, older update never
    overwrites a newer one; an erased customer keeps its id (the ledger is kept for
    accounting) but loses its name."""

    __tablename__ = "customers"

    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    segment: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    as_of: Mapped[datetime | None] = mapped_column(UTCDateTime())
    erased: Mapped[bool] = mapped_column(Boolean, default=False)


class CustomerAlias(Base):
    """A customer merged into another: its ledger rows stay as written, and the
    P&L counts them, and everything booked later, under the survivor."""

    __tablename__ = "customer_aliases"

    merged_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    survivor_id: Mapped[str] = mapped_column(String(64), index=True)
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime())
