"""Outbox rows of events: where every event bound for the outbox is made.

``UnitOfWork.emit`` and ``emit_many`` write what ``values`` makes; a bulk writer
that inserts through the driver itself (a scheduling run, an import's worker
processes) calls ``values`` directly. Either way each payload is checked against its
contract (``shared.events.envelope.checked``) and each event gets a time-ordered
id (``shared.ids``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, NamedTuple

import msgspec
import orjson

from shared import context
from shared.events import Event, contract_for, routing_key
from shared.events.envelope import checked, fields_of, wire_value
from shared.ids import ordered_id

COLUMNS = (
    "event_id",
    "event_type",
    "routing_key",
    "body",
    "created_at",
    "available_at",
    "attempts",
)


class Origin(NamedTuple):
    """Who makes the events, and the request or event they follow from."""

    producer: str
    correlation_id: str | None = None
    causation_id: str | None = None

    @classmethod
    def current(cls, producer: str) -> Origin:
        """The producer, with correlation and causation from the current context."""
        return cls(producer, context.correlation_id.get(), context.causation_id.get())


def values(
    origin: Origin,
    event_type: str,
    payloads: Iterable[dict],
    now: datetime,
    *,
    version: int = 1,
    created: Any = None,
) -> Iterator[tuple]:
    """One outbox row (``COLUMNS``) per payload, made as ``payloads`` is read; every
    event occurs at ``now``. ``created`` is ``now`` as the caller's driver takes it
    (``created_at`` and ``available_at``), ``now`` itself by default."""
    key = routing_key(event_type, version)
    contract = contract_for(event_type, version)
    fields = fields_of(contract)
    created = now if created is None else created
    producer, correlation, causation = origin
    for payload in payloads:
        try:
            loaded = msgspec.convert(payload, contract)
        except msgspec.ValidationError:  # loose values, or a refusal: ``checked`` decides
            loaded = checked(event_type, version, payload, contract)
        event_id = ordered_id()
        # The envelope as ``shared.events.envelope.body`` writes it, inline: this runs
        # once per event of a scheduling run.
        text = orjson.dumps(
            {
                "event_id": event_id,
                "event_type": event_type,
                "event_version": version,
                "occurred_at": now,
                "producer": producer,
                "correlation_id": correlation or event_id,
                "causation_id": causation,
                "payload": fields(loaded),
            },
            default=wire_value,
            option=orjson.OPT_NON_STR_KEYS,
        )
        yield event_id, event_type, key, text.decode(), created, created, 0


def rows(
    origin: Origin, event_type: str, payloads: Iterable[dict], now: datetime, *, version: int = 1
) -> Iterator[dict]:
    """``values`` as mappings of column to value, for a Core ``insert``."""
    for row in values(origin, event_type, payloads, now, version=version):
        yield dict(zip(COLUMNS, row))


def row_of(event: Event, now: datetime) -> dict:
    """The outbox row of an event already made (``UnitOfWork.emit``)."""
    return {
        "event_id": event.event_id,
        "event_type": event.event_type,
        "routing_key": event.routing_key,
        "body": event.to_json(),
        "created_at": now,
        "available_at": now,
        "attempts": 0,
    }
