"""Folding events into the read models: the customer dimension here, a call's plan
in ``projections_calls`` and its outcome in ``projections_outcomes``, sales in
``projections_sales``, deals in ``projections_deals``, the rest of the customer events
in ``projections_customers``.

Each projection is a function of (session, event, zone) only, so a rebuild can
replay the event log through the same code the consumer runs. Counters and sums
are incremented in the database (an upsert adding to the stored value), never
read-modify-written, so concurrent consumers cannot lose an update. The day of an
event is the local date, in the reporting time zone, of the moment it is about.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import delete
from sqlalchemy.orm import Session

from services.reporting import (event_log, models_deals, models_facts, models_rollups,
                                pnl_book, projections_calls, projections_customers,
                                projections_deals, projections_outcomes, projections_sales)
from services.reporting import increments, overdue
from services.reporting.increments import add_to, local_day  # noqa: F401
from services.reporting.models import CustomerDim
from services.reporting.rows import row_for_update
from shared.events import Event

__all__ = ["add_to", "local_day", "apply", "rebuild", "READ_MODELS"]


def customer_seen(session: Session, event: Event, _zone: ZoneInfo) -> None:
    """customer.registered / customer.updated: the newest segment wins, whatever the
    order of arrival; the name comes from the registration."""
    data = event.payload
    row = row_for_update(session, CustomerDim, {"customer_id": data["customer_id"]},
                         new=event.event_type == "customer.registered",
                         segment=data["segment"], as_of=event.occurred_at)
    if event.occurred_at >= row.as_of:
        row.segment, row.as_of = data["segment"], event.occurred_at
    pnl_book.move(session, data["customer_id"], row.segment,
                  new=event.event_type == "customer.registered")
    if event.event_type == "customer.registered":
        row.name = data["name"]


_OWN = {
    ("customer.registered", 1): customer_seen,
    ("customer.updated", 1): customer_seen,
}
PROJECTIONS: dict[tuple[str, int], list] = {}
for _table in (_OWN, projections_calls.PROJECTIONS, projections_outcomes.PROJECTIONS,
               projections_sales.PROJECTIONS, projections_deals.PROJECTIONS,
               projections_customers.PROJECTIONS):
    for _key, _fold in _table.items():
        PROJECTIONS.setdefault(_key, []).append(_fold)
READ_MODELS = (CustomerDim, *(
    mapper.class_ for mapper in models_facts.Base.registry.mappers
    if mapper.class_.__module__ in (models_facts.__name__, models_rollups.__name__,
                                    models_deals.__name__)))


def apply(session: Session, event: Event, zone: ZoneInfo) -> None:
    """Fold one event into the read models; types no report needs yet are only logged."""
    for project in PROJECTIONS.get((event.event_type, event.event_version), ()):
        project(session, event, zone)


def settle(session: Session) -> None:
    """Write now what the projections leave to the commit (a check that reads first)."""
    pnl_book.settle(session)
    overdue.refresh(session)
    increments.flush(session)


def rebuild(session: Session, zone: ZoneInfo) -> int:
    """Empty the read models and replay the whole event log into them."""
    for model in READ_MODELS:
        session.execute(delete(model))
    replayed = 0
    for event in event_log.replay(session):
        apply(session, event, zone)
        replayed += 1
    return replayed
