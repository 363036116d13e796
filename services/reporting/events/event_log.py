"""The append-only log of every event reporting has consumed, and its replay.

Payloads are kept in wire form: as received when the envelope still carries the
received payload (fields newer than our contract included), otherwise re-serialised
by the event's contract, so that datetimes are ISO strings and money is decimal
strings, exactly as a producer of that contract sends them. An event type without
a contract yet is kept as it came.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache

import orjson
from sqlalchemy import event as sa_event
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from services.reporting.tables import EventLog
from shared import bulk_writes
from shared.clock import utcnow
from shared.events import CONTRACTS, Event, parse_event, to_wire
from shared.messaging.unit_of_work import UnitOfWork


def wire_payload(event: Event) -> dict:
    received = getattr(event, "wire_payload", None)
    if received is not None:
        return received
    if (event.event_type, event.event_version) not in CONTRACTS:
        return event.payload  # parse_event left it unparsed, so it is wire form already
    return to_wire(event.event_type, event.event_version, event.payload)


def append(work: UnitOfWork, event: Event) -> None:
    """Log the event. The consumer's inbox lets each event through once; a second
    copy would break the primary key rather than be logged twice. Rows are written
    together before the commit (or before anything reads the log); the events of one
    transaction (a delivery window) are received at one time."""
    session = work.session
    pending = session.info.get("event_log")
    if pending is None:
        pending = session.info["event_log"] = ([], utcnow())
        sa_event.listen(session, "before_commit", write_pending, once=True)
    pending[0].append(
        (
            event.event_id,
            event.event_type,
            event.event_version,
            event.occurred_at,
            event.producer,
            event.correlation_id,
            event.causation_id,
            dumps(wire_payload(event)),
        )
    )


def dumps(payload) -> str:
    """A payload as the log keeps it: compact JSON, by orjson (a tenth of ``json``'s
    time), or by ``json`` for what orjson refuses (an integer beyond 64 bits)."""
    try:
        return orjson.dumps(payload).decode()
    except TypeError:
        return json.dumps(payload, separators=(",", ":"))


def write_pending(session: Session) -> None:
    """Write the events logged in this transaction now."""
    rows, received_at = session.info.pop("event_log", ((), None))
    if rows:
        connection = session.connection()
        ready = _rows(connection.engine.url.drivername)
        # The window's one receipt time, converted for the driver once.
        at = bulk_writes.driver_value(connection, EventLog.__table__.c.received_at, received_at)
        bulk_writes.write(connection, ready.sql, [ready.row_of((*row, at)) for row in rows])


_COLUMNS = (
    "event_id",
    "event_type",
    "event_version",
    "occurred_at",
    "producer",
    "correlation_id",
    "causation_id",
    "payload",
    "received_at",
)


@cache
def _rows(drivername: str) -> bulk_writes.Rows:
    """The log's insert (by ``COPY`` on PostgreSQL), its receipt time given ready."""
    dialect = bulk_writes.dialect_for(drivername)
    return bulk_writes.Rows.insert(EventLog.__table__, _COLUMNS, dialect, prepared=("received_at",))


def to_event(row: EventLog) -> Event:
    """Parse a logged event the way the consumer parses a message."""
    return parse_event(
        json.dumps(
            {
                "event_id": row.event_id,
                "event_type": row.event_type,
                "event_version": row.event_version,
                "occurred_at": row.occurred_at.isoformat(),
                "producer": row.producer,
                "correlation_id": row.correlation_id,
                "causation_id": row.causation_id,
                "payload": json.loads(row.payload),
            }
        )
    )


def replay(session: Session, batch: int = 1000) -> Iterator[Event]:
    """Every logged event in the order it occurred, read in keyset batches."""
    order = (EventLog.occurred_at, EventLog.event_id)
    after = None
    while True:
        query = select(EventLog).order_by(*order).limit(batch)
        if after is not None:
            query = query.where(tuple_(*order) > after)
        rows = list(session.scalars(query))
        for row in rows:
            yield to_event(row)
        if len(rows) < batch:
            return
        after = (rows[-1].occurred_at, rows[-1].event_id)
