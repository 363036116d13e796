"""Records of data administration: fix-it items raised by the quality rules, and
import jobs with their rejected rows."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.customer.models import Base, new_id
from shared.messaging.tables import utcnow
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


class ImportJob(Base):
    __tablename__ = "import_jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    format: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(100))
    # queued | running | done | failed
    status: Mapped[str] = mapped_column(String(12), default="queued")
    total_bytes: Mapped[int] = mapped_column(Integer, default=0)
    bytes_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ImportRejection(Base):
    __tablename__ = "import_rejections"
    __table_args__ = (Index("ix_import_rejections_job_line", "job_id", "line"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    job_id: Mapped[str] = mapped_column(ForeignKey("import_jobs.id"))
    line: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[dict] = mapped_column(JSON)
