"""Reading and replaying a service's dead-letter queue.

Messages are taken with ``basic_get`` and held unacked, so nothing is lost if the
reader stops half-way; what is not replayed is nacked back in one frame, in its
order. A replayed message is published to the service's own queue (not the
events exchange, which would hand it to every other service bound to its key
again), persistent and mandatory, on a channel in confirm mode, and removed from
the dead-letter queue only once the broker has confirmed the copy. It goes back
without the consumer's failure count (a fresh budget) and keeps its ``x-death``
history; the consumer's inbox makes a replay of an event already applied a no-op.

An erasure reaches the dead-letter queue too (``scrub``): a message about an erased
customer is replaced by a copy without their personal data, as the outbox rows are.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
import pika

from shared.events import EnvelopeError, parse_event
from shared.events.envelope import MAX_BODY_BYTES
from shared.messaging import erasure, retries
from shared.messaging.topology import Names

log = logging.getLogger(__name__)
_UUID = re.compile(rb"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class NotDeadLettered(LookupError):
    """Some of the ids asked for are not in the dead-letter queue."""


@dataclass
class DeadLetter:
    tag: int
    properties: pika.BasicProperties
    body: bytes
    settled: bool = field(default=False, repr=False)

    @property
    def message_id(self) -> str | None:
        return self.properties.message_id

    @property
    def envelope(self) -> dict:
        """What the body says of itself, if it is a JSON object at all."""
        if len(self.body) > MAX_BODY_BYTES:
            return {}
        try:
            data = orjson.loads(self.body)
        except orjson.JSONDecodeError:
            return {}
        return data if isinstance(data, dict) else {}

    @property
    def deaths(self) -> list[dict]:
        value = (self.properties.headers or {}).get("x-death")
        return [d for d in value if isinstance(d, dict)] if isinstance(value, list) else []

    def matches(self, ids: set[str]) -> bool:
        return bool({self.message_id, _text(self.envelope.get("event_id"))} & ids)

    def reason(self) -> str:
        error = retries.last_error(self.properties)
        if error:
            return f"handler failed {retries.failures(self.properties)} times: {error}"
        try:
            parse_event(self.body)
        except EnvelopeError as exc:
            return f"malformed ({exc.reason}): {exc}"
        why = _text(self.deaths[0].get("reason")) if self.deaths else None
        if why == "delivery_limit":
            return (
                "returned by the broker past its delivery limit without a verdict "
                "(did it stop its consumer?)"
            )
        return why or "unknown"

    def describe(self) -> dict:
        times = [_moment(d.get("time")) for d in self.deaths]
        first = min((t for t in times if t is not None), default=None)
        envelope = self.envelope
        return {
            "message_id": self.message_id,
            "event_id": _text(envelope.get("event_id")),
            "event_type": _text(envelope.get("event_type")),
            "reason": self.reason(),
            "deaths": sum(
                d.get("count", 0) for d in self.deaths if isinstance(d.get("count"), int)
            ),
            "first_death": first.isoformat() if first else None,
            "size": len(self.body),
        }


@contextmanager
def held(channel, queue: str):
    """The messages in ``queue`` when it is opened, held unacked; on leaving, those
    not settled go back to it, in their order."""
    depth = channel.queue_declare(queue, passive=True).method.message_count
    letters: list[DeadLetter] = []
    try:
        # No further than the depth at the start: a message dead-lettered meanwhile
        # waits for the next look, and one handed back cannot be read twice.
        for _ in range(depth):
            method, properties, body = channel.basic_get(queue)
            if method is None:
                break
            letters.append(DeadLetter(method.delivery_tag, properties, body))
        yield letters
    finally:
        unsettled = [letter.tag for letter in letters if not letter.settled]
        if unsettled and channel.is_open:
            channel.basic_nack(max(unsettled), multiple=True, requeue=True)


def listing(connection, names: Names, service: str) -> list[dict]:
    with held(connection.channel(), names.dead_letter_queue(service)) as letters:
        return [letter.describe() for letter in letters]


def replay(connection, names: Names, service: str, ids: Iterable[str] | None = None) -> list[dict]:
    """Replay the dead letters with these message or event ids (all if None); every id
    must be found, or nothing is replayed."""
    reader, writer = connection.channel(), connection.channel()
    writer.confirm_delivery()
    with held(reader, names.dead_letter_queue(service)) as letters:
        wanted = None if ids is None else set(ids)
        chosen = [letter for letter in letters if wanted is None or letter.matches(wanted)]
        if wanted is not None:
            found = {
                i
                for letter in chosen
                for i in (letter.message_id, _text(letter.envelope.get("event_id")))
            }
            if wanted - found:
                raise NotDeadLettered(", ".join(sorted(wanted - found)))
        replayed = []
        for letter in chosen:
            writer.basic_publish(
                "",
                names.queue(service),
                letter.body,
                mandatory=True,
                properties=_fresh(letter.properties),
            )
            reader.basic_ack(letter.tag)
            letter.settled = True
            replayed.append(letter.describe())
        return replayed


def scrub(
    connection, names: Names, service: str, erased: Callable[[set[str]], Iterable[str]]
) -> int:
    """Blank the personal data of erased customers in ``service``'s dead letters
    (``shared.messaging.erasure.scrub``, as in the outbox); answers how many messages
    changed. ``erased`` is asked once, with every id the held messages mention, which
    of them belong to erased customers.

    Each message about one is replaced by a scrubbed copy with the same properties (its
    ``x-death`` history and failure count, so it is listed and replayed as before, at
    the back of the queue), published on a confirmed channel; the original is acked
    only once the broker has confirmed the copy. A message that names one but is no
    event at all (it can never be applied) is dropped, and logged by its id. A pass
    that stops half-way leaves the originals not yet settled in the queue for the next
    pass (a replayed duplicate is absorbed by the consumer's inbox)."""
    queue = names.dead_letter_queue(service)
    reader, writer = connection.channel(), connection.channel()
    writer.confirm_delivery()
    changed = 0
    with held(reader, queue) as letters:
        mentions = [mentioned_by(letter) for letter in letters]
        mentioned = set().union(*mentions)
        ids = set(erased(mentioned)) if mentioned else set()
        if not ids:
            return 0
        for letter, mention in zip(letters, mentions, strict=True):
            if not mention & ids:
                continue
            envelope = letter.envelope
            payload = envelope.get("payload")
            if isinstance(payload, dict):
                scrubbed = erasure.scrub(payload, ids)
                if scrubbed == payload:
                    continue
                body = json.dumps(
                    {**envelope, "payload": scrubbed}, separators=(",", ":"), ensure_ascii=False
                )
                writer.basic_publish(
                    "", queue, body.encode(), mandatory=True, properties=letter.properties
                )
            else:
                log.warning(
                    "dead letter %s names an erased customer and is no event: dropped",
                    letter.message_id,
                )
            reader.basic_ack(letter.tag)
            letter.settled = True
            changed += 1
    return changed


def mentioned_by(letter: DeadLetter) -> set[str]:
    """The UUIDs (customer ids among them) anywhere in a dead letter's body."""
    return {match.decode() for match in _UUID.findall(letter.body)}


def _fresh(properties: pika.BasicProperties) -> pika.BasicProperties:
    properties = copy.copy(properties)
    properties.headers = {
        key: value
        for key, value in (properties.headers or {}).items()
        if key not in (*retries.RETRY_HEADERS, "x-delivery-count")
    }
    properties.delivery_mode = pika.DeliveryMode.Persistent.value
    return properties


def _text(value) -> str | None:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return value if isinstance(value, str) else None


def _moment(value) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int):
        return datetime.fromtimestamp(value, UTC)
    return None
