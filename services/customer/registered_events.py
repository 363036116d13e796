"""``customer.registered`` for imported rows, one a row, without the contract's
dump-and-load round trip for each.

As calls' ``completed_events`` does: the first payload of each shape (which of the
optional fields are empty, and the values of the enumerated ones) goes through
the contract (``make_event``) and its wire form is compared with the one built
here by hand; only if they are identical are the others of that shape built by
hand. A payload of another kind of value, and every shape whose check fails, goes
through the contract each time: a change to the contract can make this slower,
never wrong. Every value was validated on the way in by the API's own fields.
"""
from __future__ import annotations

from datetime import datetime

from shared.events import Event, make_event

EVENT = "customer.registered"
OPTIONAL = ("phone", "preferred_language", "owner_team", "external_ref")
ENUMERATED = ("kind", "lifecycle_status", "source")
FIELDS = ("customer_id", "name", "phone", "segment", "preferred_language",
          "lifecycle_status", "registered_at", "kind", "owner_team", "source", "external_ref")
_TRUSTED: dict[tuple, bool] = {}  # per process: the contract does not change at run time


def outbox_row(outbox_model, setup, now: datetime, payload: dict, event_id: str) -> dict:
    """The outbox row of one ``customer.registered`` (``setup``: producer, correlation)."""
    shape = _shape(payload)
    trusted = _TRUSTED.get(shape) if shape is not None else False
    if trusted:
        event = _by_hand(wire(payload), setup, now, event_id)
    else:
        event = make_event(EVENT, payload, producer=setup.producer, occurred_at=now)
        if setup.correlation_id or setup.causation_id:
            event = _with_context(event, setup)
        if trusted is None:
            _TRUSTED[shape] = event.wire_payload == wire(payload)
    return outbox_model.row_for(event, now)


def _shape(payload: dict) -> tuple | None:
    if tuple(payload) != FIELDS or type(payload["registered_at"]) is not datetime \
            or payload["registered_at"].tzinfo is None:
        return None
    if any(type(payload[k]) is not str for k in FIELDS
           if k != "registered_at" and not (k in OPTIONAL and payload[k] is None)):
        return None
    return tuple(payload[k] is None for k in OPTIONAL) + tuple(payload[k] for k in ENUMERATED)


def wire(payload: dict) -> dict:
    return {**payload, "registered_at": payload["registered_at"].isoformat()}


def _by_hand(body: dict, setup, now: datetime, event_id: str) -> Event:
    return Event(event_id=event_id, event_type=EVENT, event_version=1, occurred_at=now,
                 producer=setup.producer, correlation_id=setup.correlation_id or event_id,
                 causation_id=setup.causation_id, payload=body, wire_payload=body)


def _with_context(event: Event, setup) -> Event:
    """The importing process's correlation, which a worker's own context lacks."""
    return Event(**{**event.__dict__, "correlation_id": setup.correlation_id or event.event_id,
                    "causation_id": setup.causation_id})
