"""The permanent activity record: a customer's timeline of calls, sales, returns,
cancellations and referrals, one row per event that caused it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.customer.tables import Base, new_id
from shared.types import UTCDateTime


class Activity(Base):
    """One entry of a customer's timeline; ``source_event_id`` ties it to its event."""

    __tablename__ = "activities"
    __table_args__ = (
        Index("ix_activities_customer_time", "customer_id", "occurred_at", "id"),
        UniqueConstraint("source_event_id", "customer_id", "kind"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    source_event_id: Mapped[str] = mapped_column(String(36))
    summary: Mapped[dict] = mapped_column(JSON, default=dict)
