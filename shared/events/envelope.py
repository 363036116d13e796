"""The one envelope every event travels in (spec section 3).

``make_event`` validates the payload against its contract before it is written to
the outbox, so a producer cannot emit what consumers would refuse; ``parse_event``
validates both envelope and payload on the way in. Both load through
``shared.events.loading``: marshmallow's answers, without its per-field cost for
well-formed events.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

import orjson
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from shared import clock, context
from shared.events.contracts import contract_for, routing_key
from shared.events.decoding import decode
from shared.events.loading import loader
from shared.ids import ordered_id

# A body over this many bytes is refused before it is parsed: events are a few
# hundred bytes, and a consumer must not spend its memory on a hostile one.
MAX_BODY_BYTES = 1 << 20


class EnvelopeError(ValueError):
    """The message is not a well-formed Rapport event; retrying cannot help.

    ``reason`` says why in a word, for logs, metrics and the dead-letter CLI:
    ``too_large``, ``not_json``, ``bad_envelope`` or ``bad_payload``."""

    def __init__(self, message: str, reason: str = "bad_envelope"):
        super().__init__(message)
        self.reason = reason


class EnvelopeSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    event_id = fields.UUID(required=True)
    event_type = fields.String(required=True, validate=validate.Regexp(r"^[a-z_]+\.[a-z_]+$"))
    event_version = fields.Integer(required=True, validate=validate.Range(min=1))
    occurred_at = fields.AwareDateTime(required=True, default_timezone=timezone.utc)
    producer = fields.String(required=True)
    correlation_id = fields.String(required=True)
    causation_id = fields.String(load_default=None, allow_none=True)
    payload = fields.Dict(required=True)


_ENVELOPE = EnvelopeSchema()
_load_envelope = loader(_ENVELOPE)


@dataclass(frozen=True)
class Event:
    event_id: str
    event_type: str
    event_version: int
    occurred_at: datetime
    producer: str
    correlation_id: str
    causation_id: str | None
    payload: dict[str, Any]
    wire_payload: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def routing_key(self) -> str:
        return routing_key(self.event_type, self.event_version)

    def to_json(self) -> str:
        wire = self.wire_payload
        if wire is None:
            wire = schema_for(self.event_type, self.event_version).dump(self.payload)
        # orjson: the compact form json.dumps(separators=(",", ":")) wrote, with text
        # as UTF-8 instead of \u escapes, in a tenth of the time. A contract's wire
        # form holds only JSON types (its Float fields refuse NaN), so nothing else
        # differs.
        return orjson.dumps({
            "event_id": self.event_id,
            "event_type": self.event_type,
            "event_version": self.event_version,
            "occurred_at": self.occurred_at.isoformat(),
            "producer": self.producer,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "payload": wire,
        }, option=orjson.OPT_NON_STR_KEYS).decode()


@lru_cache(maxsize=None)
def schema_for(event_type: str, version: int):
    """One schema instance per contract: building a marshmallow schema is costly."""
    return contract_for(event_type, version)()


@lru_cache(maxsize=None)
def load_for(event_type: str, version: int):
    """The contract's ``load``, checked path first (see ``shared.events.loading``)."""
    return loader(schema_for(event_type, version))


def make_event(event_type: str, payload: dict, *, producer: str, version: int = 1,
               occurred_at: datetime | None = None) -> Event:
    """Build an event, taking correlation and causation from the current context."""
    wire = schema_for(event_type, version).dump(payload)
    try:
        loaded = load_for(event_type, version)(wire)
    except ValidationError as exc:
        raise ValueError(f"{event_type}.v{version} payload breaks its contract: "
                         f"{exc.messages}") from exc
    # Time-ordered, so the outbox, inbox and event-log indexes keyed by event id grow
    # at their end instead of taking a random page of each per event (shared.ids).
    event_id = ordered_id()
    return Event(
        event_id=event_id,
        event_type=event_type,
        event_version=version,
        occurred_at=occurred_at or clock.now(),
        producer=producer,
        correlation_id=context.correlation_id.get() or event_id,
        causation_id=context.causation_id.get(),
        payload=loaded,
        wire_payload=wire,
    )


def parse_event(body: bytes | str) -> Event:
    """Validate an incoming message; raise EnvelopeError if it can never be handled.

    Any exception while decoding or validating a body means the body is malformed
    (a RecursionError, MemoryError or UnicodeDecodeError as much as a
    ValidationError): it is refused, never raised as something a retry could fix."""
    if len(body) > MAX_BODY_BYTES:
        raise EnvelopeError(f"malformed envelope: a body of {len(body)} bytes is over the "
                            f"{MAX_BODY_BYTES}-byte cap", "too_large")
    try:
        data = decode(body)
    except Exception as exc:  # noqa: BLE001 - whatever the body does, it is refused
        raise EnvelopeError(f"malformed envelope: not JSON: {_short(exc)}", "not_json") from exc
    try:
        env = _load_envelope(data)
        load = _contract_loader(env["event_type"], env["event_version"])
    except Exception as exc:  # noqa: BLE001
        raise EnvelopeError(f"malformed envelope: {_short(exc)}") from exc
    payload = env["payload"]
    if load is not None:
        try:
            payload = load(payload)
        except ValidationError as exc:
            raise EnvelopeError(f"payload breaks {env['event_type']} contract: {exc.messages}",
                                "bad_payload") from exc
        except Exception as exc:  # noqa: BLE001
            raise EnvelopeError(f"payload breaks {env['event_type']} contract: {_short(exc)}",
                                "bad_payload") from exc
    return Event(
        event_id=str(env["event_id"]),
        event_type=env["event_type"],
        event_version=env["event_version"],
        occurred_at=env["occurred_at"],
        producer=env["producer"],
        correlation_id=env["correlation_id"],
        causation_id=env["causation_id"],
        payload=payload,
        wire_payload=env["payload"] if load is not None else None,
    )


def _contract_loader(event_type: str, version: int):
    try:
        return load_for(event_type, version)
    except KeyError:
        return None  # a type nobody here knows: the consumer logs and acks it


def _short(exc: Exception) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 300 else text[:300] + "…"
