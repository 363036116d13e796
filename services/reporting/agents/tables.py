"""The read models per agent: activity, scores, checklist, conversion and quality
flags, keyed by local day and every call dimension plus the agent, so every filter
of the activity report applies to the agents report too.
"""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.reporting.tables import ActivityCounts, Base, Dims


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
