"""Outbox and inbox tables, mixed into each service's own declarative base.

The outbox row is written in the business transaction, so an event exists if and
only if the change that caused it was committed. The inbox row is written in the
handler's transaction, so a handler's effect happens once per event id.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import InstrumentedAttribute, Mapped, declared_attr, mapped_column

from shared.clock import utcnow
from shared.types import UTCDateTime

__all__ = ["BigId", "InboxMixin", "OutboxMixin"]

BigId = BigInteger().with_variant(Integer, "sqlite")


class OutboxMixin:
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    event_type: Mapped[str] = mapped_column(String(80))
    routing_key: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # A row the broker refused waits before it is tried again, so it cannot hog the relay.
    available_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)

    @declared_attr.directive
    def __table_args__(cls):
        # Only pending rows are ever looked up by the relay: keep that index small.
        # On the class, the attribute is SQLAlchemy's column (mypy sees the instance's value).
        sent_at = cast("InstrumentedAttribute[datetime | None]", cls.sent_at)
        return (
            Index(
                "ix_outbox_pending",
                "id",
                sqlite_where=sent_at.is_(None),
                postgresql_where=sent_at.is_(None),
            ),
        )


class InboxMixin:
    __tablename__ = "inbox"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    handler: Mapped[str] = mapped_column(String(120), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(80))
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
