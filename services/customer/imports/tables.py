"""Import jobs with their progress and counts, the rows each rejected, and each
unfinished job's upload."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.customer.tables import Base, new_id
from shared.clock import utcnow
from shared.import_uploads import UploadPartMixin
from shared.types import UTCDateTime


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
    rows_read: Mapped[int] = mapped_column(Integer, default=0)  # committed: where a resume goes on
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
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


class ImportRejection(Base):
    __tablename__ = "import_rejections"
    __table_args__ = (Index("ix_import_rejections_job_line", "job_id", "line"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    job_id: Mapped[str] = mapped_column(ForeignKey("import_jobs.id"))
    line: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[dict] = mapped_column(JSON)


class ImportUploadPart(UploadPartMixin, Base):
    __tablename__ = "import_upload_parts"

    job_id: Mapped[str] = mapped_column(ForeignKey("import_jobs.id"), primary_key=True)
