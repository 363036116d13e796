"""Deals through the sales cycle and their stage history.

The deal row holds its current stage; ``deal_stages`` is the append-only history
(one row per stage entered), from which the time spent in each stage is told.
A deal opened from a call names it, once: ``source_call_id`` is unique.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.sales.db import Base, new_id
from shared.types import Money, UTCDateTime


class Deal(Base):
    __tablename__ = "deals"
    __table_args__ = (
        Index("ix_deals_time", "created_at", "id"),
        Index("ix_deals_stage_entered", "stage", "stage_entered_at"),
        Index("ix_deals_customer", "customer_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(String(200))
    stage: Mapped[str] = mapped_column(String(16))
    stage_entered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    probability: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    owner: Mapped[str | None] = mapped_column(String(200))
    source_call_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    segment: Mapped[str | None] = mapped_column(String(64))
    lost_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    history: Mapped[list[DealStage]] = relationship(order_by="DealStage.seq", lazy="raise")


class DealStage(Base):
    __tablename__ = "deal_stages"

    deal_id: Mapped[str] = mapped_column(ForeignKey("deals.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    stage: Mapped[str] = mapped_column(String(16))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    probability: Mapped[int] = mapped_column(Integer)
    changed_by: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
