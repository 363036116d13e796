"""Handler failures, counted by the consumer rather than by the broker.

A quorum queue on RabbitMQ 3.10 counts every return of a message in
``x-delivery-count``, those caused by a consumer's restart or a lost connection as
much as a requeue; a retry budget kept there is spent by good messages a consumer
merely held. So a failed message is not requeued: a copy (same body and
properties) goes to the back of the service's own queue through the default
exchange, carrying how many times its handling failed and the last error, on a
channel in confirm mode; the original is acked only once the broker has confirmed
the copy. A delivery that arrives having failed ``DELIVERY_LIMIT`` times is
rejected without requeue, so the broker dead-letters it with those headers on it.
"""

from __future__ import annotations

import copy

import pika

FAILURES = "x-rapport-failures"  # handler failures so far
LAST_ERROR = "x-rapport-error"  # the last one, as "ExceptionType: message"
# Headers a replay from the dead-letter queue drops, so the event has a fresh budget.
RETRY_HEADERS = (FAILURES, LAST_ERROR)
_BROKER_HEADERS = ("x-delivery-count",)  # the broker sets it on each copy anew


def failures(properties) -> int:
    """Failures recorded on a delivery; anything but a count (a stranger's header) is none."""
    value = (properties.headers or {}).get(FAILURES) if properties is not None else None
    return value if type(value) is int and value > 0 else 0


def last_error(properties) -> str | None:
    value = (properties.headers or {}).get(LAST_ERROR) if properties is not None else None
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def describe(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= 500 else text[:500] + "…"


class Retrier:
    """Puts failed messages back at the end of one queue, confirmed, with their count."""

    def __init__(self, channel, queue: str):
        channel.confirm_delivery()
        self.channel, self.queue = channel, queue

    def retry(self, properties, body: bytes, failed: int, error: BaseException) -> None:
        """Return once the broker has confirmed the copy; raise if it did not take it
        (the original, still unacked, then comes back when the connection is gone)."""
        properties = copy.copy(properties) if properties is not None else pika.BasicProperties()
        headers = {
            key: value
            for key, value in (properties.headers or {}).items()
            if key not in _BROKER_HEADERS
        }
        headers.update({FAILURES: failed, LAST_ERROR: describe(error)})
        properties.headers = headers
        properties.delivery_mode = pika.DeliveryMode.Persistent.value
        self.channel.basic_publish("", self.queue, body, properties=properties, mandatory=True)
