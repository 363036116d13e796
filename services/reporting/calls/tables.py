"""The read models of calls: what was planned and done, and what the calls found.

Aggregates ("cubes") are keyed by local day and the report dimensions and only
ever incremented, so the order events arrive in does not change them. A call's own
row (``call_state``) is kept because a later event has to move a count (an
assignment moves a planned call to its agent's bucket); it keeps the newest value
by event time. Checklist compliance is stored in whole per-mille so that sums are
exact integers.

``activity_day`` and ``outcome_day`` are the activity cube and the findings cube's
calls by outcome summed over every dimension: the activity report, unfiltered and
grouped by time, reads a row per day (and outcome) however full the cubes are.
``findings_month`` and ``score_month`` are the findings and score cubes by local
calendar month (``day`` holds the month's first day): a period of whole months reads
one row per month and key instead of one per day and key.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.reporting.tables import ActivityCounts, Base, Dims
from shared.types import UTCDateTime


class ActivityCube(Dims, ActivityCounts, Base):
    __tablename__ = "activity_cube"


class FindingsSums:
    """Completed calls by outcome with the sums statistics need (n, Σx, Σx²). The
    sums are 64-bit: a checklist's square is up to 10⁶ per call, so a 32-bit column
    (PostgreSQL's ``integer``) would overflow after 2,147 calls in one cell."""

    outcome: Mapped[str] = mapped_column(String(32), primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    sat_n: Mapped[int] = mapped_column(Integer, default=0)
    sat_sum: Mapped[int] = mapped_column(BigInteger, default=0)
    sat_sq: Mapped[int] = mapped_column(BigInteger, default=0)
    prop_n: Mapped[int] = mapped_column(Integer, default=0)
    prop_sum: Mapped[int] = mapped_column(BigInteger, default=0)
    prop_sq: Mapped[int] = mapped_column(BigInteger, default=0)
    chk_n: Mapped[int] = mapped_column(Integer, default=0)
    chk_sum: Mapped[int] = mapped_column(BigInteger, default=0)
    chk_sq: Mapped[int] = mapped_column(BigInteger, default=0)


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


class FindingsMonth(Dims, FindingsSums, Base):
    __tablename__ = "findings_month"


class ScoreMonth(Dims, ScoreCounts, Base):
    __tablename__ = "score_month"


class ActivityDay(ActivityCounts, Base):
    """The activity cube summed over every dimension, per local day."""

    __tablename__ = "activity_day"
    day: Mapped[date] = mapped_column(Date, primary_key=True)


class OutcomeDay(Base):
    """Completed calls per local day and outcome, over every dimension."""

    __tablename__ = "outcome_day"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    outcome: Mapped[str] = mapped_column(String(32), primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, default=0)


MONTHLY = {"findings_cube": FindingsMonth, "score_cube": ScoreMonth}
