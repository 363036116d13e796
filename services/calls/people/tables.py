"""The tables of agents and partners: partners, agents, assignment decisions and
agents' calendar feed tokens."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.calls.db import Base, new_id
from shared.clock import utcnow
from shared.types import Money, UTCDateTime


class Partner(Base):
    """An outsourcer organisation; paid a fee per completed call."""

    __tablename__ = "partners"
    __table_args__ = (Index("ix_partners_created", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    fee_per_call: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3), default="HKD")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Agent(Base):
    """A staff agent, or an outsourcer agent of a partner. Its id is the subject
    of its bearer token. ``last_assigned_seq`` orders equals for round-robin."""

    __tablename__ = "agents"
    __table_args__ = (Index("ix_agents_created", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    partner_id: Mapped[str | None] = mapped_column(ForeignKey("partners.id"))
    team: Mapped[str | None] = mapped_column(String(64))
    languages: Mapped[list] = mapped_column(JSON, default=list)
    segments: Mapped[list] = mapped_column(JSON, default=list)
    channels: Mapped[list] = mapped_column(JSON, default=list)
    certifications: Mapped[list] = mapped_column(JSON, default=list)
    trainings: Mapped[list] = mapped_column(JSON, default=list)
    daily_capacity: Mapped[int] = mapped_column(Integer)
    rate_per_minute: Mapped[Decimal | None] = mapped_column(Money())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_assigned_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Assignment(Base):
    """Every assignment decision, automatic or manual, with its reason."""

    __tablename__ = "assignments"
    __table_args__ = (Index("ix_assignments_call", "call_id", "decided_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    call_id: Mapped[str] = mapped_column(String(36))
    agent_id: Mapped[str | None] = mapped_column(String(36))
    partner_id: Mapped[str | None] = mapped_column(String(36))
    mode: Mapped[str] = mapped_column(String(16))
    # Why, as a code: continuity, round_robin, manual, or why it went back to the pool
    # (agent_deactivated, training_expired, over_capacity, partner_suspended, ...).
    basis: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(500))
    decided_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CalendarToken(Base):
    """The hash of an agent's calendar feed secret (rotatable)."""

    __tablename__ = "calendar_tokens"

    agent_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
