"""The deal read models behind the sales report: each deal's known history
(``deal_state``) and the counts folded from it, keyed by local day, currency and
segment so that every filter of the report applies to every figure.

``pipeline_change`` holds, per day, the deals (and expected value) that entered
(+1) or left (−1) each stage: the pipeline as of a day is the sum of the changes up
to it. ``stage_move`` dates each stage change; ``deal_funnel`` dates creations,
closes and won deals' cycles. A deal's figures all count under one currency (its
newest) and one segment (see ``sales.projection``), moved when either changes.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.reporting.agents.tables import AgentCube
from services.reporting.tables import Base
from shared.types import Money, UTCDateTime


class DealState(Base):
    """One deal as far as reporting knows it. ``history`` is every creation and stage
    change seen (JSON), ``counted`` the figures it adds to the tables below (JSON),
    so that a late or earlier event recomputes them and only the difference is
    written. ``segment`` is the segment the deal's events carry (None if none does);
    the other columns are the newest state, for reading."""

    __tablename__ = "deal_state"
    deal_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    stage: Mapped[str | None] = mapped_column(String(16))
    stage_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    currency: Mapped[str] = mapped_column(String(3), default="HKD")
    value: Mapped[Decimal] = mapped_column(Money(), default=0)
    from_call: Mapped[int | None] = mapped_column(Integer)  # 1/0; None until created
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_as: Mapped[str | None] = mapped_column(String(8))
    source_call_id: Mapped[str | None] = mapped_column(String(64), index=True)
    segment: Mapped[str | None] = mapped_column(String(64))
    history: Mapped[str | None] = mapped_column(Text)
    counted: Mapped[str | None] = mapped_column(Text)


class DealKey:
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    segment: Mapped[str] = mapped_column(String(64), primary_key=True)


class PipelineChange(DealKey, Base):
    """Deals entering (+1) and leaving (−1) a stage on a local day, with their value."""

    __tablename__ = "pipeline_change"
    stage: Mapped[str] = mapped_column(String(16), primary_key=True)
    deals: Mapped[int] = mapped_column(Integer, default=0)
    value: Mapped[Decimal] = mapped_column(Money(), default=0)


class StageMove(DealKey, Base):
    """Stage changes on a local day and the time spent in the stage left."""

    __tablename__ = "stage_move"
    from_stage: Mapped[str] = mapped_column(String(16), primary_key=True)
    to_stage: Mapped[str] = mapped_column(String(16), primary_key=True)
    moves: Mapped[int] = mapped_column(Integer, default=0)
    timed: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[int] = mapped_column(BigInteger, default=0)


class DealFunnel(DealKey, Base):
    """Deals created on a local day, and closed (won or lost) on it with the cycle of
    those won; ``from_opportunities``: deals from the day's sale-opportunity calls,
    under the call's segment (so that they are a part of the day's opportunities)."""

    __tablename__ = "deal_funnel"
    created: Mapped[int] = mapped_column(Integer, default=0)
    from_calls: Mapped[int] = mapped_column(Integer, default=0)
    from_opportunities: Mapped[int] = mapped_column(Integer, default=0)
    won: Mapped[int] = mapped_column(Integer, default=0)
    won_from_calls: Mapped[int] = mapped_column(Integer, default=0)
    lost: Mapped[int] = mapped_column(Integer, default=0)
    lost_from_calls: Mapped[int] = mapped_column(Integer, default=0)
    cycles: Mapped[int] = mapped_column(Integer, default=0)
    cycle_seconds: Mapped[int] = mapped_column(BigInteger, default=0)


class OpportunityCall(Base):
    """A completed call with outcome ``sale_opportunity``: its local day and segment
    (as its event carries it, ``unknown`` if none) and the rest of its ``agent_cube``
    key (channel, team, agent kind, partner, agent: a deal from it counts under its
    agent too; None on rows folded before they were kept); or a call a deal came from
    that is not known as one (``day`` None)."""

    __tablename__ = "opportunity_call"
    call_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date | None] = mapped_column(Date)
    segment: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(16))
    team: Mapped[str | None] = mapped_column(String(64))
    agent_kind: Mapped[str | None] = mapped_column(String(16))
    partner_id: Mapped[str | None] = mapped_column(String(64))
    agent_id: Mapped[str | None] = mapped_column(String(64))

    AGENT_KEY = ("channel", "team", "agent_kind", "partner_id", "agent_id")


# The count columns of each table, in the order ``counted`` stores them.
COUNTS = {
    PipelineChange: ("deals", "value"),
    StageMove: ("moves", "timed", "seconds"),
    DealFunnel: (
        "created",
        "from_calls",
        "from_opportunities",
        "won",
        "won_from_calls",
        "lost",
        "lost_from_calls",
        "cycles",
        "cycle_seconds",
    ),
    AgentCube: ("deals", "deals_won"),
}
KEYS = {
    PipelineChange: ("day", "currency", "segment", "stage"),
    StageMove: ("day", "currency", "segment", "from_stage", "to_stage"),
    DealFunnel: ("day", "currency", "segment"),
    AgentCube: ("day", "segment", "channel", "team", "agent_kind", "partner_id", "agent_id"),
}
