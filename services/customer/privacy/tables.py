"""What the PDPO obliges the service to keep: the consent record, and data-subject
export jobs with the parts other services contribute to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.customer.tables import Base, new_id
from shared.types import UTCDateTime


class Consent(Base):
    """Append-only consent record per customer × channel × purpose (PDPO Part 6A);
    the newest row of a pair is the current state."""

    __tablename__ = "consents"
    __table_args__ = (
        Index("ix_consents_pair", "customer_id", "channel", "purpose", "recorded_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    channel: Mapped[str] = mapped_column(String(8))
    purpose: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(64))
    notice_version: Mapped[str | None] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ExportJob(Base):
    """One data access request. ``deadline_at`` is when a service that has not
    answered is reported missing; ``erased_at`` is set when the customer is erased
    while the job is open (its contributions are dropped, and late ones refused)."""

    __tablename__ = "export_jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(String(36), index=True)
    customer_ids: Mapped[list] = mapped_column(JSON)
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime())
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ExportPart(Base):
    """Part ``part`` of ``parts`` of one service's contribution, as it arrived."""

    __tablename__ = "export_parts"

    export_id: Mapped[str] = mapped_column(ForeignKey("export_jobs.id"), primary_key=True)
    service: Mapped[str] = mapped_column(String(32), primary_key=True)
    part: Mapped[int] = mapped_column(Integer, primary_key=True)
    parts: Mapped[int] = mapped_column(Integer)
    sections: Mapped[dict] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
