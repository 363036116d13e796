"""Customer profiles with their contact points and the permanent record of their
versions."""

from __future__ import annotations

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
from sqlalchemy.orm import Mapped, mapped_column, validates

from services.customer.tables import Base, new_id
from shared.clock import utcnow
from shared.search_keys import name_key
from shared.types import Money, UTCDateTime


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
    # Raised once: a first contact without the opt-out notice (see relationship/relationship.py).
    opt_out_notice_flagged: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
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
    __table_args__ = (
        UniqueConstraint("customer_id", "kind", "value"),
        Index("ix_contact_points_value", "kind", "value"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # No index of its own: the unique constraint above begins with it.
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(String(254))
    do_not_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    # valid | bouncing | invalid, as reported by whoever last used it.
    status: Mapped[str] = mapped_column(String(16), default="valid")


class CustomerVersion(Base):
    """The permanent record: one append-only row per change of a profile, with the
    whole profile as it stood after the change (``snapshot``) for ``as_of``."""

    __tablename__ = "customer_versions"
    __table_args__ = (
        UniqueConstraint("customer_id", "version"),
        Index("ix_customer_versions_time", "customer_id", "changed_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(String(36))
    version: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    changes: Mapped[dict] = mapped_column(JSON)
    snapshot: Mapped[dict] = mapped_column(JSON)
