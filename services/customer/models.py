"""Customer profiles with their contact points and permanent version record,
segments, consent, the activity timeline, and the service's outbox and inbox."""
from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, validates

from services.customer.matching import name_key
from shared.messaging.tables import InboxMixin, OutboxMixin, utcnow
from shared.periodic import PeriodicJobMixin
from shared.types import Money, UTCDateTime
from shared.web.idempotency import IdempotencyMixin


class Base(DeclarativeBase):
    pass


class Outbox(OutboxMixin, Base):
    pass


class Inbox(InboxMixin, Base):
    pass


class PeriodicJob(PeriodicJobMixin, Base):
    pass


class IdempotencyKey(IdempotencyMixin, Base):
    pass


def new_id() -> str:
    return str(uuid.uuid4())


class Segment(Base):
    """A market segment, and what a complete profile in it must carry."""

    __tablename__ = "segments"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    required_fields: Mapped[list] = mapped_column(JSON, default=list)
    stale_after_days: Mapped[int] = mapped_column(Integer, default=365)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(8), default="person")
    name: Mapped[str] = mapped_column(String(200))
    # Normalised name tokens, sorted, and the same reversed: the two sort orders
    # the duplicate finder walks (see matching.py).
    name_key: Mapped[str] = mapped_column(String(200), index=True)
    name_rkey: Mapped[str] = mapped_column(String(200), index=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    segment: Mapped[str] = mapped_column(ForeignKey("segments.code"), index=True)
    preferred_language: Mapped[str | None] = mapped_column(String(16))
    lifecycle_status: Mapped[str] = mapped_column(String(16), default="active")
    owner_team: Mapped[str | None] = mapped_column(String(64))
    external_ref: Mapped[str | None] = mapped_column(String(100), unique=True)
    tags: Mapped[list] = mapped_column(JSON, default=list)
    address: Mapped[dict | None] = mapped_column(JSON)
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    do_not_call: Mapped[bool] = mapped_column(Boolean, default=False)
    opt_out_notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Raised once: a first contact without the opt-out notice (see relationship.py).
    opt_out_notice_flagged: Mapped[bool] = mapped_column(Boolean, default=False,
                                                         server_default=false())
    source: Mapped[str] = mapped_column(String(16), default="api")
    referred_by_call_id: Mapped[str | None] = mapped_column(String(36))
    merged_into: Mapped[str | None] = mapped_column(String(36), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Relationship state, kept current from call and sale events.
    last_contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    calls_completed: Mapped[int] = mapped_column(Integer, default=0)
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    satisfaction_avg: Mapped[float | None] = mapped_column(Float)
    satisfaction_trend: Mapped[float | None] = mapped_column(Float)
    propensity: Mapped[int | None] = mapped_column(Integer)
    lifetime_revenue: Mapped[object] = mapped_column(Money(), default=0)
    lifetime_margin: Mapped[object] = mapped_column(Money(), default=0)
    relationship_score: Mapped[float | None] = mapped_column(Float)

    @validates("name")
    def _index_name(self, _key, name: str) -> str:
        self.name_key = name_key(name)
        self.name_rkey = self.name_key[::-1]
        return name


class ContactPoint(Base):
    """A phone (E.164) or e-mail of a customer, each with its own do-not-contact flag."""

    __tablename__ = "contact_points"
    __table_args__ = (UniqueConstraint("customer_id", "kind", "value"),
                      Index("ix_contact_points_value", "kind", "value"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(String(254))
    do_not_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    # valid | bouncing | invalid, as reported by whoever last used it.
    status: Mapped[str] = mapped_column(String(16), default="valid")


class CustomerVersion(Base):
    """The permanent record: one append-only row per change of a profile, with the
    whole profile as it stood after the change (``snapshot``) for ``as_of``."""

    __tablename__ = "customer_versions"
    __table_args__ = (UniqueConstraint("customer_id", "version"),
                      Index("ix_customer_versions_time", "customer_id", "changed_at"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(String(36))
    version: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    changes: Mapped[dict] = mapped_column(JSON)
    snapshot: Mapped[dict] = mapped_column(JSON)


class Consent(Base):
    """Append-only consent record per customer × channel × purpose (PDPO Part 6A);
    the newest row of a pair is the current state."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_pair", "customer_id", "channel", "purpose",
                            "recorded_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    channel: Mapped[str] = mapped_column(String(8))
    purpose: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(64))
    notice_version: Mapped[str | None] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Activity(Base):
    """One entry of a customer's timeline; ``source_event_id`` ties it to its event."""

    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_customer_time", "customer_id", "occurred_at", "id"),
                      UniqueConstraint("source_event_id", "customer_id", "kind"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    source_event_id: Mapped[str] = mapped_column(String(36))
    summary: Mapped[dict] = mapped_column(JSON, default=dict)
