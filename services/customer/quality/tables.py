"""Fix-it items raised by the data-quality rules."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.customer.tables import Base, new_id
from shared.clock import utcnow
from shared.types import UTCDateTime


class QualityItem(Base):
    """One irregularity to fix. ``key`` identifies the finding (rule and subject),
    so a rescan never raises the same open item twice."""

    __tablename__ = "quality_items"
    __table_args__ = (Index("ix_quality_items_open", "status", "rule", "segment"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    rule: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[str | None] = mapped_column(String(36), index=True)
    segment: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolution: Mapped[str | None] = mapped_column(Text)
