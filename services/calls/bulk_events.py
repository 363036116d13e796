"""``call.scheduled`` in bulk: a scheduling run writes hundreds of thousands of events,
and validating each through marshmallow costs more than the run's SQL.

The first payload of a batch goes through the contract (``make_event``); its wire
form is compared with the one built here by hand, and only if they are identical
are the others built the same way (same fields, same types, values changed). Any
difference falls back to the contract for every event, so a change to the contract
can make this slower but never wrong.
"""
from __future__ import annotations

import uuid

from shared import context
from shared.events import Event, make_event
from shared.messaging.tables import utcnow

EVENT = "call.scheduled"


def wire(row: dict) -> dict:
    window_end = row["window_end"]
    return {"call_id": row["id"], "plan_id": row["plan_id"], "customer_id": row["customer_id"],
            "channel": row["channel"], "due_at": row["due_at"].isoformat(),
            "segment": row["segment"], "plan_version": row["plan_version"],
            "purpose": row["purpose"], "priority": row["priority"],
            "window_end": window_end.isoformat() if window_end else None,
            "max_gap_days": row.get("max_gap_days")}


def payload(row: dict) -> dict:
    return {"call_id": row["id"], "plan_id": row["plan_id"], "customer_id": row["customer_id"],
            "channel": row["channel"], "due_at": row["due_at"], "segment": row["segment"],
            "plan_version": row["plan_version"], "purpose": row["purpose"],
            "priority": row["priority"], "window_end": row["window_end"],
            "max_gap_days": row.get("max_gap_days")}


def outbox_rows(outbox_model, producer: str, rows: list[dict]) -> list[dict]:
    now = utcnow()
    first = make_event(EVENT, payload(rows[0]), producer=producer)
    if first.wire_payload != wire(rows[0]):
        return [outbox_model.row_for(make_event(EVENT, payload(row), producer=producer), now)
                for row in rows]
    correlation, causation = context.correlation_id.get(), context.causation_id.get()
    out = [outbox_model.row_for(first, now)]
    for row in rows[1:]:
        event_id = str(uuid.uuid4())
        body = wire(row)
        out.append(outbox_model.row_for(Event(
            event_id=event_id, event_type=EVENT, event_version=1, occurred_at=now,
            producer=producer, correlation_id=correlation or event_id, causation_id=causation,
            payload=body, wire_payload=body), now))
    return out
