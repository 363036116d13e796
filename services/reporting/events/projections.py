"""Folding events into the read models: each package folds the events it needs
(``<package>.projection``; the customer dimension in ``customers.dimension``, a
completed call in ``calls.outcomes``), and this puts them together.

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

from services.reporting.calls import outcomes
from services.reporting.calls import projection as calls
from services.reporting.customers import dimension, overdue
from services.reporting.customers import projection as customers
from services.reporting.events import event_log
from services.reporting.pnl import booking
from services.reporting.pnl import projection as pnl
from services.reporting.read_models import READ_MODELS
from services.reporting.sales import projection as sales
from services.reporting.store import counters
from shared.events import Event

__all__ = ["READ_MODELS", "apply", "rebuild", "settle"]

# Folds of one event run in this order (the customer dimension first).
PROJECTIONS: dict[tuple[str, int], list] = {}
for _table in (
    dimension.PROJECTIONS,
    calls.PROJECTIONS,
    outcomes.PROJECTIONS,
    pnl.PROJECTIONS,
    sales.PROJECTIONS,
    customers.PROJECTIONS,
):
    for _key, _fold in _table.items():
        PROJECTIONS.setdefault(_key, []).append(_fold)


def apply(session: Session, event: Event, zone: ZoneInfo) -> None:
    """Fold one event into the read models; types no report needs yet are only logged."""
    for project in PROJECTIONS.get((event.event_type, event.event_version), ()):
        project(session, event, zone)


def settle(session: Session) -> None:
    """Write now what the projections leave to the commit (a check that reads first)."""
    booking.settle(session)
    overdue.refresh(session)
    counters.flush(session)


def rebuild(session: Session, zone: ZoneInfo) -> int:
    """Empty the read models and replay the whole event log into them."""
    for model in READ_MODELS:
        session.execute(delete(model))
    replayed = 0
    for event in event_log.replay(session):
        apply(session, event, zone)
        replayed += 1
    return replayed
