"""The read models behind the reports, each a projection of the event log.

Aggregates ("cubes") are keyed by local day and the report dimensions and only
ever incremented, so the order events arrive in does not change them. Per-entity
state (a call, a customer) is kept where a later event has to move a count (an
assignment moves a planned call to its agent's bucket) and keeps the newest value
by event time; the deal tables are in ``models_deals``. A missing team or partner
is stored as "" (keys cannot be NULL). Checklist compliance is stored in whole
per-mille so that sums are exact integers.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.reporting.models import Base
from shared.types import Money, UTCDateTime

DIMENSIONS = ("segment", "channel", "team", "agent_kind", "partner_id")


class Dims:
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    segment: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    team: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class ActivityCounts:
    """Calls planned (by due day), completed, missed, cancelled; on_time = completed
    on or before the local day it was due."""
    planned: Mapped[int] = mapped_column(Integer, default=0)
    completed: Mapped[int] = mapped_column(Integer, default=0)
    missed: Mapped[int] = mapped_column(Integer, default=0)
    cancelled: Mapped[int] = mapped_column(Integer, default=0)
    on_time: Mapped[int] = mapped_column(Integer, default=0)


class ActivityCube(Dims, ActivityCounts, Base):
    __tablename__ = "activity_cube"


class FindingsSums:
    """Completed calls by outcome with the sums statistics need (n, Σx, Σx²)."""
    outcome: Mapped[str] = mapped_column(String(32), primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    sat_n: Mapped[int] = mapped_column(Integer, default=0)
    sat_sum: Mapped[int] = mapped_column(Integer, default=0)
    sat_sq: Mapped[int] = mapped_column(Integer, default=0)
    prop_n: Mapped[int] = mapped_column(Integer, default=0)
    prop_sum: Mapped[int] = mapped_column(Integer, default=0)
    prop_sq: Mapped[int] = mapped_column(Integer, default=0)
    chk_n: Mapped[int] = mapped_column(Integer, default=0)
    chk_sum: Mapped[int] = mapped_column(Integer, default=0)
    chk_sq: Mapped[int] = mapped_column(Integer, default=0)


class FindingsCube(Dims, FindingsSums, Base):
    __tablename__ = "findings_cube"


class ScoreCounts:
    """Distributions: ``measure`` satisfaction (bucket 1..5) or propensity (bucket =
    decile 0..9, 100 in 9)."""
    measure: Mapped[str] = mapped_column(String(16), primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class ScoreCube(Dims, ScoreCounts, Base):
    __tablename__ = "score_cube"


class CompetitorCube(Dims, Base):
    """Competitor mentions of completed calls, under every dimension of the call, so
    the findings report's filters apply to them as to its other figures."""
    __tablename__ = "competitor_cube"
    competitor: Mapped[str] = mapped_column(String(120), primary_key=True)
    mentions: Mapped[int] = mapped_column(Integer, default=0)


class CallState(Base):
    """One call as far as reporting knows it; ``rank`` orders statuses so that a
    late ``scheduled`` never reopens a completed call."""
    __tablename__ = "call_state"
    call_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str | None] = mapped_column(String(16))
    segment: Mapped[str | None] = mapped_column(String(64))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    team: Mapped[str] = mapped_column(String(64), default="")
    agent_kind: Mapped[str] = mapped_column(String(16), default="")
    partner_id: Mapped[str] = mapped_column(String(64), default="")
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="unknown")
    rank: Mapped[int] = mapped_column(Integer, default=0)
    planned_key: Mapped[str | None] = mapped_column(Text)  # the cube row counting it
    # Its plan, and the plan's coverage policy when the call was planned.
    plan_id: Mapped[str | None] = mapped_column(String(64))
    max_gap_days: Mapped[int | None] = mapped_column(Integer)
    agent_id: Mapped[str] = mapped_column(String(64), default="")  # who holds it now


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


class Amounts:
    """A P&L row's sums (the day's, a cube cell's, a month's)."""
    revenue: Mapped[Decimal] = mapped_column(Money(), default=0)
    discounts: Mapped[Decimal] = mapped_column(Money(), default=0)
    returns: Mapped[Decimal] = mapped_column(Money(), default=0)
    cost_of_goods: Mapped[Decimal] = mapped_column(Money(), default=0)
    cost_to_serve: Mapped[Decimal] = mapped_column(Money(), default=0)
    allocations: Mapped[Decimal] = mapped_column(Money(), default=0)
    sales: Mapped[int] = mapped_column(Integer, default=0)


class PnlDaily(Amounts, Base):
    """The P&L entries of a local day, customer and currency, as the sales service
    defines them (see docs/reporting.md)."""
    __tablename__ = "pnl_daily"
    # A customer's history is moved between segments' cube rows by this index.
    __table_args__ = (Index("ix_pnl_daily_customer_id", "customer_id"),)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)


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


class AgentCube(Dims, ActivityCounts, Base):
    """Per agent (``""``: a call no one holds) and day under every call dimension:
    the activity counts, and of completed calls the satisfaction and propensity
    sums, calls with a checklist (``chk_n``) and with every required item answered
    (``chk_full``), sale opportunities, calls with a quality flag (``flagged``); and
    the deals that came from its sale-opportunity calls (``deals``, of them
    ``deals_won``), counted with the call (its day and dimensions) as the sales
    funnel's ``from_opportunities``. The agents report reads it."""
    __tablename__ = "agent_cube"
    agent_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sat_n: Mapped[int] = mapped_column(Integer, default=0)
    sat_sum: Mapped[int] = mapped_column(Integer, default=0)
    prop_n: Mapped[int] = mapped_column(Integer, default=0)
    prop_sum: Mapped[int] = mapped_column(Integer, default=0)
    chk_n: Mapped[int] = mapped_column(Integer, default=0)
    chk_full: Mapped[int] = mapped_column(Integer, default=0)
    opportunities: Mapped[int] = mapped_column(Integer, default=0)
    flagged: Mapped[int] = mapped_column(Integer, default=0)
    deals: Mapped[int] = mapped_column(Integer, default=0)
    deals_won: Mapped[int] = mapped_column(Integer, default=0)


class AgentFlag(Dims, Base):
    """Completed calls per agent, day, call dimensions and quality rule they hit (the
    calls service's ``quality_flags`` on ``call.completed``): the flag mix."""
    __tablename__ = "agent_flag"
    agent_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    rule: Mapped[str] = mapped_column(String(32), primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, default=0)


class AgentOutcome(Dims, Base):
    """Completed calls per agent, day, call dimensions and outcome: the outcome mix."""
    __tablename__ = "agent_outcome"
    agent_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(32), primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, default=0)
