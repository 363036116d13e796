"""The tables of call plans: the plan, every version of it, and the company's
contact-frequency cap."""

from __future__ import annotations

from datetime import datetime

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
from shared.types import UTCDateTime

PLAN_STATUSES = ("active", "paused", "ended")


class CallPlan(Base):
    """A coverage policy: call the customers of some segments (and/or some named
    customers) on a recurrence, within calling windows. The row is the current
    version; every version is kept in ``call_plan_versions``."""

    __tablename__ = "call_plans"
    __table_args__ = (Index("ix_call_plans_created", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    # The first of ``segments`` (kept for the events and older readers).
    segment: Mapped[str | None] = mapped_column(String(64), index=True)
    segments: Mapped[list] = mapped_column(JSON, default=list)
    customer_ids: Mapped[list] = mapped_column(JSON, default=list)
    channel: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(64), default="service")
    rrule: Mapped[str] = mapped_column(String(500))
    timezone: Mapped[str] = mapped_column(String(64))
    windows: Mapped[list] = mapped_column(JSON, default=list)
    allow_holidays: Mapped[bool] = mapped_column(Boolean, default=False)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    priority: Mapped[int] = mapped_column(Integer)
    checklist: Mapped[list] = mapped_column(JSON, default=list)
    required_trainings: Mapped[list] = mapped_column(JSON, default=list)
    required_certifications: Mapped[list] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The rolling schedule: calls are kept planned ``horizon_days`` ahead while the
    # plan is active; ``aligned_version`` is the last version whose calls ahead have
    # been checked against it (``rolling.realign``).
    horizon_days: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    aligned_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class CallPlanVersion(Base):
    """A plan as it was at one version: calls keep the version they were planned
    with, and their checklist is that version's."""

    __tablename__ = "call_plan_versions"

    plan_id: Mapped[str] = mapped_column(ForeignKey("call_plans.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    snapshot: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(200))


class ContactPolicy(Base):
    """The company's contact-frequency cap: at most ``max_calls`` calls to one
    customer in any ``per_days`` days, across every plan and channel. One row."""

    __tablename__ = "contact_policy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    max_calls: Mapped[int | None] = mapped_column(Integer)
    per_days: Mapped[int] = mapped_column(Integer, default=7)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
