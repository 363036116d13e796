"""Folding events into the read models.

Each projection is a function of (session, event, zone) only, so a rebuild can
replay the event log through the same code the consumer runs. Counters and sums
are incremented in the database (an upsert adding to the stored value), never
read-modify-written, so concurrent consumers cannot lose an update. The day of an
event is the local date, in the reporting time zone, of the moment it is about.
"""
from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, delete
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.reporting import event_log
from services.reporting.models import PLANNED, ActivityDaily, CustomerDim, SalesDaily
from shared.events import Event

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def add_to(session: Session, model, key: dict, amounts: dict) -> None:
    """Add ``amounts`` to the row ``key`` (inserting it if new).

    Increments are summed in memory for the transaction and written just before it
    commits, one upsert per distinct row: a window of 500 completed calls touches a
    handful of (day, outcome) rows, so it writes a handful of times, not 500."""
    pending = session.info.get("increments")
    if pending is None:
        pending = session.info["increments"] = {}
        sa_event.listen(session, "before_commit", _write_increments, once=True)
    shape = (model, tuple(key), tuple(amounts))
    row = pending.setdefault(shape, {}).setdefault(tuple(key.values()), dict.fromkeys(amounts, 0))
    for name, value in amounts.items():
        row[name] += value


def _write_increments(session: Session) -> None:
    pending = session.info.pop("increments", {})
    dialect = session.get_bind().dialect.name
    for (model, keys, names), rows in pending.items():
        # Core, not ORM execution: nothing to autoflush, one executemany per shape.
        session.connection().execute(_upsert(dialect, model, keys, names), [
            {**dict(zip(keys, key)), **amounts} for key, amounts in rows.items()])


@lru_cache(maxsize=None)
def _upsert(dialect: str, model, keys: tuple, amounts: tuple):
    """Built once per shape: building a statement per event costs more than running it."""
    table = model.__table__
    insert = _INSERTS[dialect](model).values({name: bindparam(name) for name in keys + amounts})
    return insert.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: table.c[name] + insert.excluded[name] for name in amounts})


def customer_seen(session: Session, event: Event, _zone: ZoneInfo) -> None:
    """customer.registered / customer.updated: the newest segment wins, whatever the
    order of arrival; the name comes from the registration."""
    data = event.payload
    row = session.get(CustomerDim, data["customer_id"], with_for_update=True)
    if row is None:
        row = CustomerDim(customer_id=data["customer_id"], segment=data["segment"],
                          as_of=event.occurred_at)
        session.add(row)
    elif event.occurred_at >= row.as_of:
        row.segment, row.as_of = data["segment"], event.occurred_at
    if event.event_type == "customer.registered":
        row.name = data["name"]


def call_scheduled(session: Session, event: Event, zone: ZoneInfo) -> None:
    day = local_day(event.payload["due_at"], zone)
    add_to(session, ActivityDaily, {"day": day, "outcome": PLANNED}, {"count": 1})


def call_completed(session: Session, event: Event, zone: ZoneInfo) -> None:
    call = event.payload
    day = local_day(call["completed_at"], zone)
    add_to(session, ActivityDaily, {"day": day, "outcome": call["outcome"]}, {"count": 1})


def sale_recorded(session: Session, event: Event, zone: ZoneInfo) -> None:
    sale = event.payload
    key = {"currency": sale["currency"], "day": local_day(sale["recorded_at"], zone),
           "customer_id": sale["customer_id"]}
    add_to(session, SalesDaily, key, {"revenue": sale["revenue"], "cost": sale["cost"],
                                      "sales": 1})


PROJECTIONS = {
    ("customer.registered", 1): customer_seen,
    ("customer.updated", 1): customer_seen,
    ("call.scheduled", 1): call_scheduled,
    ("call.completed", 1): call_completed,
    ("sale.recorded", 1): sale_recorded,
}
READ_MODELS = (CustomerDim, ActivityDaily, SalesDaily)


def apply(session: Session, event: Event, zone: ZoneInfo) -> None:
    """Fold one event into the read models; types no report needs yet are only logged."""
    project = PROJECTIONS.get((event.event_type, event.event_version))
    if project is not None:
        project(session, event, zone)


def rebuild(session: Session, zone: ZoneInfo) -> int:
    """Empty the read models and replay the whole event log into them."""
    for model in READ_MODELS:
        session.execute(delete(model))
    replayed = 0
    for event in event_log.replay(session):
        apply(session, event, zone)
        replayed += 1
    return replayed
