"""The one envelope every event travels in (spec section 3).

``make_event`` validates the payload against its contract before it is written to
the outbox, so a producer cannot emit what consumers would refuse; ``parse_event``
validates both envelope and payload on the way in.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import datetime, timezone
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from shared import context
from shared.events.contracts import contract_for, routing_key


class EnvelopeError(ValueError):
    """The message is not a well-formed Rapport event; retrying cannot help."""


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
        return json.dumps({
            "event_id": self.event_id,
            "event_type": self.event_type,
            "event_version": self.event_version,
            "occurred_at": self.occurred_at.isoformat(),
            "producer": self.producer,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "payload": wire,
        }, separators=(",", ":"))


@lru_cache(maxsize=None)
def schema_for(event_type: str, version: int):
    """One schema instance per contract: building a marshmallow schema is costly."""
    return contract_for(event_type, version)()


def make_event(event_type: str, payload: dict, *, producer: str, version: int = 1,
               occurred_at: datetime | None = None) -> Event:
    """Build an event, taking correlation and causation from the current context."""
    schema = schema_for(event_type, version)
    wire = schema.dump(payload)
    try:
        loaded = schema.load(wire)
    except ValidationError as exc:
        raise ValueError(f"{event_type}.v{version} payload breaks its contract: "
                         f"{exc.messages}") from exc
    event_id = str(uuid.uuid4())
    return Event(
        event_id=event_id,
        event_type=event_type,
        event_version=version,
        occurred_at=occurred_at or datetime.now(timezone.utc),
        producer=producer,
        correlation_id=context.correlation_id.get() or event_id,
        causation_id=context.causation_id.get(),
        payload=loaded,
        wire_payload=wire,
    )


def parse_event(body: bytes | str) -> Event:
    """Validate an incoming message; raise EnvelopeError if it can never be handled."""
    try:
        raw = json.loads(body)
        env = _ENVELOPE.load(raw)
    except (ValueError, ValidationError, TypeError) as exc:
        raise EnvelopeError(f"malformed envelope: {exc}") from exc
    try:
        schema = schema_for(env["event_type"], env["event_version"])
    except KeyError:
        schema = None
    payload = env["payload"]
    if schema is not None:
        try:
            payload = schema.load(payload)
        except ValidationError as exc:
            raise EnvelopeError(f"payload breaks {env['event_type']} contract: {exc.messages}") from exc
    return Event(
        event_id=str(env["event_id"]),
        event_type=env["event_type"],
        event_version=env["event_version"],
        occurred_at=env["occurred_at"],
        producer=env["producer"],
        correlation_id=env["correlation_id"],
        causation_id=env["causation_id"],
        payload=payload,
        wire_payload=env["payload"] if schema is not None else None,
    )
