"""The tables of what the service knows of customers: the projection, consents, and
the gaps found before the customer itself arrived."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Float,
    Index,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, validates

from services.calls.db import Base
from shared.search_keys import as_phone, name_key
from shared.types import UTCDateTime


class Customer(Base):
    """What calls knows of a customer, fed only by customer events.

    ``updated_at`` is the time of the newest event applied, so an older event that
    arrives late cannot undo a newer one."""

    __tablename__ = "customers"
    __table_args__ = (Index("ix_customers_segment", "segment", "customer_id"),)

    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))
    segment: Mapped[str] = mapped_column(String(64))
    preferred_language: Mapped[str | None] = mapped_column(String(16))
    lifecycle_status: Mapped[str] = mapped_column(String(16), default="active")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Profile fields the customer service found missing: confirmed on the next call.
    gaps: Mapped[list] = mapped_column(JSON, default=list)
    # When the customer service found the gaps held here (an older finding is ignored).
    gaps_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The context a call page shows: e-mail calls, visits, and how the relationship goes.
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[dict | None] = mapped_column(JSON)
    relationship_score: Mapped[float | None] = mapped_column(Float)
    satisfaction_trend: Mapped[float | None] = mapped_column(Float)
    # The reference another system knows the customer by: the search finds it exactly.
    external_ref: Mapped[str | None] = mapped_column(String(100), index=True)
    # The workspace search's keys (shared.search_keys), kept with the name and phone
    # they come from: set whenever an event sets those, so rows fill as events arrive.
    name_key: Mapped[str | None] = mapped_column(String(200), index=True)
    phone_key: Mapped[str | None] = mapped_column(String(20), index=True)

    @validates("name")
    def _keep_name_key(self, _key, value):
        self.name_key = name_key(value) if value else None
        return value

    @validates("phone")
    def _keep_phone_key(self, _key, value):
        self.phone_key = as_phone(value) if value else None
        return value


class Consent(Base):
    """The local consent projection, from ``customer.consent_changed`` and
    ``customer.opted_out``. ``*`` in channel or purpose stands for all of them
    (an opt-out from every channel, a do-not-call on every purpose)."""

    __tablename__ = "consents"

    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EarlyGaps(Base):
    """Gaps found on a profile whose registration has not reached calls yet: kept
    here and moved onto the customer when its row is made."""

    __tablename__ = "early_gaps"

    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    missing: Mapped[list] = mapped_column(JSON, default=list)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime())
