"""The one envelope every event travels in (spec section 3).

``make_event`` validates the payload against its contract before it is written to
the outbox, so a producer cannot emit what consumers would refuse; ``parse_event``
validates both envelope and payload on the way in. Both go through msgspec
(``shared.events.contracts``); what a handler sees is a plain dict of Python values
(``datetime``, ``date``, ``Decimal``), the contract's defaults filled in.

On the wire, times are ISO 8601 as ``datetime.isoformat`` writes them (``+00:00``
for UTC; ``Z`` is read too) and money is a decimal string.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Annotated, Any

import msgspec
import orjson

from shared import clock, context
from shared.events import lenient
from shared.events.contracts import CONTRACTS, Contract, routing_key
from shared.events.decoding import decode
from shared.ids import ordered_id

# A body over this many bytes is refused before it is parsed: events are a few
# hundred bytes, and a consumer must not spend its memory on a hostile one.
MAX_BODY_BYTES = 1 << 20
# Values a handler receives as Python objects rather than their wire strings.
NATIVE = (datetime, date, Decimal)


class EnvelopeError(ValueError):
    """The message is not a well-formed Rapport event; retrying cannot help.

    ``reason`` says why in a word, for logs, metrics and the dead-letter CLI:
    ``too_large``, ``not_json``, ``bad_envelope`` or ``bad_payload``."""

    def __init__(self, message: str, reason: str = "bad_envelope"):
        super().__init__(message)
        self.reason = reason


class Envelope(msgspec.Struct):
    """What travels around every payload. A time without an offset is UTC."""

    event_id: uuid.UUID
    event_type: Annotated[str, msgspec.Meta(pattern=r"^[a-z_]+\.[a-z_]+$")]
    event_version: Annotated[int, msgspec.Meta(ge=1)]
    occurred_at: datetime
    producer: str
    correlation_id: str
    payload: dict
    causation_id: str | None = None


_ENVELOPE = msgspec.json.Decoder(Envelope)


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
            wire = to_wire(self.event_type, self.event_version, self.payload)
        return body(
            self.event_id,
            self.event_type,
            self.event_version,
            self.occurred_at,
            self.producer,
            self.correlation_id,
            self.causation_id,
            wire,
        ).decode()


def wire_value(value: Any) -> Any:
    """What orjson cannot write itself: money as a decimal string (as marshmallow wrote
    it), a checked payload (a contract) as its fields."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, msgspec.Struct):
        return fields_of(type(value))(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


@cache
def fields_of(contract: type) -> Callable[[Any], dict]:
    """A checked payload's fields as a dict for orjson (nested contracts and money
    are left to ``wire_value``): ``asdict``, unless a field may be absent (``UNSET``)
    rather than null."""
    if any(each.default is msgspec.UNSET for each in msgspec.structs.fields(contract)):
        return native
    return msgspec.structs.asdict


def body(
    event_id: str,
    event_type: str,
    version: int,
    occurred_at: datetime,
    producer: str,
    correlation_id: str,
    causation_id: str | None,
    payload: dict | Contract,
) -> bytes:
    """An event's message body; ``payload`` checked (``checked``), or a dict of it in
    native or wire form."""
    return orjson.dumps(
        {
            "event_id": event_id,
            "event_type": event_type,
            "event_version": version,
            "occurred_at": occurred_at,
            "producer": producer,
            "correlation_id": correlation_id,
            "causation_id": causation_id,
            "payload": payload,
        },
        default=wire_value,
        option=orjson.OPT_NON_STR_KEYS,
    )


def checked(
    event_type: str, version: int, payload: dict, contract: type[Contract] | None = None
) -> Contract:
    """``payload`` checked against its contract (defaults filled in); ValueError if it
    breaks the contract."""
    try:
        return lenient.convert(
            payload, contract or CONTRACTS[(event_type, version)], producing=True
        )
    except msgspec.ValidationError as exc:
        raise ValueError(f"{event_type}.v{version} payload breaks its contract: {exc}") from exc


def validated(event_type: str, version: int, payload: dict) -> dict:
    """``payload`` checked, as a handler will see it: a dict of Python values."""
    return native(checked(event_type, version, payload))


def native(loaded: msgspec.Struct) -> dict:
    return msgspec.to_builtins(loaded, builtin_types=NATIVE)


def to_wire(event_type: str, version: int, payload: dict) -> dict:
    """A payload in wire form (ISO strings, decimal strings), as a consumer receives it."""
    return orjson.loads(
        orjson.dumps(
            validated(event_type, version, payload),
            default=wire_value,
            option=orjson.OPT_NON_STR_KEYS,
        )
    )


def make_event(
    event_type: str,
    payload: dict,
    *,
    producer: str,
    version: int = 1,
    occurred_at: datetime | None = None,
) -> Event:
    """Build an event, taking correlation and causation from the current context.
    Only the unit of work (``shared.messaging``) makes events for the outbox; this
    is the same path for one event in memory (tests, replays)."""
    loaded = validated(event_type, version, payload)
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
        wire_payload=orjson.loads(
            orjson.dumps(loaded, default=wire_value, option=orjson.OPT_NON_STR_KEYS)
        ),
    )


def parse_event(body: bytes | str) -> Event:
    """Validate an incoming message; raise EnvelopeError if it can never be handled.

    Any exception while decoding or validating a body means the body is malformed
    (a RecursionError, MemoryError or UnicodeDecodeError as much as a
    ValidationError): it is refused, never raised as something a retry could fix."""
    if len(body) > MAX_BODY_BYTES:
        raise EnvelopeError(
            f"malformed envelope: a body of {len(body)} bytes is over the "
            f"{MAX_BODY_BYTES}-byte cap",
            "too_large",
        )
    try:
        env = _ENVELOPE.decode(body)
    except Exception:  # noqa: BLE001 - not the common case: look closer
        env = _envelope(body)
    occurred_at = env.occurred_at
    if occurred_at.tzinfo is None:
        occurred_at = occurred_at.replace(tzinfo=UTC)
    contract = CONTRACTS.get((env.event_type, env.event_version))
    payload, wire = env.payload, None
    if contract is not None:
        try:
            payload, wire = native(lenient.convert(payload, contract)), payload
        except Exception as exc:
            raise EnvelopeError(
                f"payload breaks {env.event_type} contract: {_short(exc)}", "bad_payload"
            ) from exc
    return Event(
        event_id=str(env.event_id),
        event_type=env.event_type,
        event_version=env.event_version,
        occurred_at=occurred_at,
        producer=env.producer,
        correlation_id=env.correlation_id,
        causation_id=env.causation_id,
        payload=payload,
        wire_payload=wire,
    )


def _envelope(body: bytes | str) -> Envelope:
    """The envelope of a body msgspec's decoder refused: read by ``decode`` (which
    takes what the standard library takes) and loosened as the contracts are."""
    try:
        data = decode(body)
    except Exception as exc:
        raise EnvelopeError(f"malformed envelope: not JSON: {_short(exc)}", "not_json") from exc
    try:
        return lenient.convert(data, Envelope)
    except Exception as exc:
        raise EnvelopeError(f"malformed envelope: {_short(exc)}") from exc


def _short(exc: Exception) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 300 else text[:300] + "…"
