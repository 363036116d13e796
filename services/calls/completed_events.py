"""``call.completed`` in bulk: an upload of outcomes writes one event per item, and
validating each through marshmallow costs more than recording the outcome.

As in ``bulk_events``: the first payload of each shape (which fields are empty, the
type of the others, and the values of the enumerated ones) goes through the contract
(``make_event``), and its wire form is compared with the one built here by hand; only
if they are identical are the others of that shape built by hand. Payloads with
referrals, mentions, confirmed fields or quality flags always go through the contract, as does
every shape whose check fails: a change to the contract can make this slower, never
wrong. Every value here was validated already on the way in, with the same ranges."""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from shared import context
from shared.events import Event, make_event
from shared.events.envelope import schema_for
from shared.messaging.tables import utcnow

EVENT = "call.completed"
ENUMERATED = ("outcome", "channel", "agent_kind", "currency")
NESTED = ("competitor_mentions", "referrals", "confirmed_fields", "quality_flags")
_WIRE = {str: None, int: None, bool: None, float: float, Decimal: str,
         datetime: datetime.isoformat}


def outbox_rows(outbox_model, producer: str, payloads: list[dict]) -> list[dict]:
    now = utcnow()
    names = list(schema_for(EVENT, 1).dump_fields)
    trusted: dict = {}
    rows = []
    for payload in payloads:
        shape = _shape(payload, names)
        if shape is None or trusted.get(shape) is False:
            event = make_event(EVENT, payload, producer=producer)
        elif shape in trusted:
            event = _by_hand(wire(payload, names), producer, now)
        else:
            event = make_event(EVENT, payload, producer=producer)
            trusted[shape] = event.wire_payload == wire(payload, names)
        rows.append(outbox_model.row_for(event, now))
    return rows


def _shape(payload: dict, names: list[str]) -> tuple | None:
    if set(payload) != set(names) or any(payload[name] for name in NESTED):
        return None
    if any(type(value) not in _WIRE for value in payload.values()
           if value is not None and not isinstance(value, (list, dict))):
        return None
    return (tuple(type(payload[name]) for name in names)
            + tuple(payload[name] for name in ENUMERATED))


def wire(payload: dict, names: list[str]) -> dict:
    out = {}
    for name in names:
        value = payload[name]
        if value is None or isinstance(value, (list, dict)):
            out[name] = value  # None, or an empty list or mapping (see _shape)
            continue
        convert = _WIRE[type(value)]
        out[name] = convert(value) if convert else value
    return out


def _by_hand(body: dict, producer: str, now) -> Event:
    event_id = str(uuid.uuid4())
    return Event(event_id=event_id, event_type=EVENT, event_version=1, occurred_at=now,
                 producer=producer,
                 correlation_id=context.correlation_id.get() or event_id,
                 causation_id=context.causation_id.get(), payload=body, wire_payload=body)
