"""Market segments: what a complete profile in each must carry."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.customer.tables import Base
from shared.clock import utcnow
from shared.types import UTCDateTime


class Segment(Base):
    """A market segment, and what a complete profile in it must carry."""

    __tablename__ = "segments"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    required_fields: Mapped[list] = mapped_column(JSON, default=list)
    stale_after_days: Mapped[int] = mapped_column(Integer, default=365)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
