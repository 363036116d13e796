"""The customer dimension (``customer_dim``): the segment and name reports group
and label customers by, from ``customer.registered`` and ``customer.updated``."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from services.reporting.pnl import booking
from services.reporting.store.locked_rows import row_for_update
from services.reporting.tables import CustomerDim
from shared.events import Event


def customer_seen(session: Session, event: Event, _zone: ZoneInfo) -> None:
    """customer.registered / customer.updated: the newest segment wins, whatever the
    order of arrival; the name comes from the registration."""
    data = event.payload
    row = row_for_update(
        session,
        CustomerDim,
        {"customer_id": data["customer_id"]},
        new=event.event_type == "customer.registered",
        segment=data["segment"],
        as_of=event.occurred_at,
    )
    if event.occurred_at >= row.as_of:
        row.segment, row.as_of = data["segment"], event.occurred_at
    booking.move(
        session, data["customer_id"], row.segment, new=event.event_type == "customer.registered"
    )
    if event.event_type == "customer.registered":
        row.name = data["name"]


PROJECTIONS = {
    ("customer.registered", 1): customer_seen,
    ("customer.updated", 1): customer_seen,
}
