"""What reporting knows of each customer besides its dimension (``customer_dim``):
its facts as calls and customer events change them (``customer_facts``), its
data-quality items and gaps, and its open follow-ups. Each keeps the newest value
by event time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.reporting.tables import Base
from shared.types import UTCDateTime


class CustomerFacts(Base):
    """Per customer: last qualifying contact, last propensity, its outcome, and the
    time it is due by (shared.coverage): overdue once that time is past (None when
    no plan's policy is known for it or nothing is planned yet)."""

    __tablename__ = "customer_facts"
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_call_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_outcome: Mapped[str | None] = mapped_column(String(32))
    last_propensity: Mapped[int | None] = mapped_column(Integer)
    last_propensity_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    overdue_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    merged_into: Mapped[str | None] = mapped_column(String(64), index=True)


class QualityItem(Base):
    __tablename__ = "quality_item"
    item_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(64))
    segment: Mapped[str | None] = mapped_column(String(64))
    flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CustomerGaps(Base):
    __tablename__ = "customer_gaps"
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    missing: Mapped[str] = mapped_column(Text)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FollowupOpen(Base):
    __tablename__ = "followup_open"
    followup_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
