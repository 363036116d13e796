"""The tables of webhooks: subscriptions, deliveries, and the callbacks announced."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.calls.db import Base, new_id
from shared.types import UTCDateTime


class WebhookSubscription(Base):
    """Where to send notifications of some kinds: an internal app's (no partner) or a
    partner's, which only ever gets its own work. The secret signs every delivery."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (Index("ix_webhook_subscriptions_partner", "partner_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    url: Mapped[str] = mapped_column(String(2000))
    kinds: Mapped[list] = mapped_column(JSON, default=list)
    partner_id: Mapped[str | None] = mapped_column(String(36))
    secret: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookDelivery(Base):
    """One notification to one subscription, written with the event's handling, so
    one exists iff the event was handled; sent and retried by ``deliver-webhooks``."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint(
            "subscription_id", "source_id", "kind", name="uq_webhook_deliveries_source"
        ),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_subscription", "subscription_id", "created_at", "id"),
        Index("ix_webhook_deliveries_customer", "customer_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    subscription_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(40))
    # The event (or the call, for a callback due) the notification comes from.
    source_id: Mapped[str] = mapped_column(String(36))
    # Whom the body names, so that an erasure finds it.
    customer_id: Mapped[str | None] = mapped_column(String(36))
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CallbackNotice(Base):
    """A callback call announced as due (once per call)."""

    __tablename__ = "callback_notices"

    call_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    noticed_at: Mapped[datetime] = mapped_column(UTCDateTime())
