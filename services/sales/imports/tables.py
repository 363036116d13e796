"""Bulk sales import jobs, the rows they rejected, and each unfinished job's upload."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.sales.db import Base, new_id
from shared.clock import utcnow
from shared.import_uploads import UploadPartMixin
from shared.types import UTCDateTime


class SaleImportJob(Base):
    __tablename__ = "sale_import_jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    format: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    # queued | running | done | failed
    status: Mapped[str] = mapped_column(String(12), default="queued")
    total_bytes: Mapped[int] = mapped_column(Integer, default=0)
    bytes_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)  # lines of the file
    sales_read: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)  # sales recorded
    lines_created: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)  # external_ref on file
    rejected: Mapped[int] = mapped_column(Integer, default=0)  # sales
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The run that has the job (shared.import_jobs): a process that took it over
    # from one that stopped names itself here, and the other's chunks are refused.
    owner: Mapped[str | None] = mapped_column(String(120))
    # How often the job was taken over; past ``shared.import_jobs.MAX_TAKEOVERS`` it fails.
    takeovers: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The upload request's: every event the job writes carries it, in whichever
    # process runs the job (``shared.import_jobs.correlated``).
    correlation_id: Mapped[str | None] = mapped_column(Text)


class SaleImportRejection(Base):
    """A rejected line: a sale is rejected whole, each of its lines at fault named."""

    __tablename__ = "sale_import_rejections"
    __table_args__ = (Index("ix_sale_import_rejections_job_line", "job_id", "line"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    job_id: Mapped[str] = mapped_column(ForeignKey("sale_import_jobs.id"))
    line: Mapped[int] = mapped_column(Integer)
    external_ref: Mapped[str | None] = mapped_column(String(100))
    reasons: Mapped[dict] = mapped_column(JSON)


class SaleImportUploadPart(UploadPartMixin, Base):
    __tablename__ = "sale_import_upload_parts"

    job_id: Mapped[str] = mapped_column(ForeignKey("sale_import_jobs.id"), primary_key=True)
