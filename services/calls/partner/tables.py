"""The tables of the partner side: OAuth2 clients, the audit of partner reads, and
work withdrawn from partners."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.calls.db import Base, new_id
from shared.clock import utcnow
from shared.types import UTCDateTime


class PartnerClient(Base):
    """A partner's OAuth2 client (client-credentials grant): its id is public, its
    secret is stored only as a salted scrypt hash, shown once when made. A revoked
    client gets no more tokens and its tokens already issued are refused."""

    __tablename__ = "partner_clients"
    __table_args__ = (Index("ix_partner_clients_partner", "partner_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(200))
    last_token_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PartnerRead(Base):
    """The audit of every partner read of customer data (PDPO)."""

    __tablename__ = "partner_reads"
    __table_args__ = (Index("ix_partner_reads_partner", "partner_id", "read_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(String(36))
    subject: Mapped[str] = mapped_column(String(200))
    call_id: Mapped[str] = mapped_column(String(36))
    customer_id: Mapped[str] = mapped_column(String(36))
    fields: Mapped[str] = mapped_column(String(200))
    endpoint: Mapped[str] = mapped_column(String(120))
    read_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Withdrawal(Base):
    """Work taken from a partner (reassigned or cancelled), and when the partner said
    it stopped: the company shows its outsourcers were told to stop (PDPO)."""

    __tablename__ = "withdrawals"
    __table_args__ = (
        UniqueConstraint("source_id", name="uq_withdrawals_source"),
        Index("ix_withdrawals_partner", "partner_id", "withdrawn_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    source_id: Mapped[str] = mapped_column(String(36))
    call_id: Mapped[str] = mapped_column(String(36))
    partner_id: Mapped[str] = mapped_column(String(36))
    withdrawn_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
