"""Verdicts on a window of deliveries: what is applied, retried, dead-lettered.

A message that is not a valid event, whatever its body does to a parser, is
rejected at once, alone, and the broker dead-letters it. A delivery that has
failed ``delivery_limit`` times already is rejected too. A delivery the broker
returned without a verdict from us (``redelivered``: the consumer holding it
stopped or lost its connection) is a suspect, since it may be what killed that
consumer: it is applied in a transaction of its own. The other events of a window
are applied in one transaction (``shared.messaging.dispatcher``) and acked after
it committed. A handler failure is counted on a confirmed copy at the back of
the queue (``shared.messaging.retries``).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable

from sqlalchemy.exc import OperationalError

from shared.events import EnvelopeError, Event, parse_event
from shared.messaging import retries
from shared.messaging.dispatcher import Dispatcher
from shared.metrics import metrics_for

log = logging.getLogger(__name__)


class Settler:
    """Settles the deliveries of one channel; built anew on every connection."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        channel,
        retrier: retries.Retrier,
        delivery_limit: int,
        sleep: Callable[[float], None],
        stopping: Callable[[], bool],
    ):
        self.dispatcher, self.channel, self.retrier = dispatcher, channel, retrier
        self.delivery_limit = delivery_limit
        self.sleep, self.stopping = sleep, stopping
        self.metrics = metrics_for(dispatcher.service)

    def settle(self, batch: list) -> bool:
        """Settle ``(tag, properties, body, redelivered)`` deliveries; True if any was
        fresh (not returned by the broker)."""
        fresh = []
        for tag, properties, body, suspect in batch:
            try:
                event = parse_event(body)
            except EnvelopeError as exc:
                self._dead_letter(
                    tag,
                    exc.reason,
                    "dead-lettering a malformed message %s: %s",
                    properties.message_id,
                    exc,
                )
                continue
            if retries.failures(properties) >= self.delivery_limit:
                self._dead_letter(
                    tag,
                    "handler_failed",
                    "dead-lettering %s %s after %d failures: %s",
                    event.event_type,
                    event.event_id,
                    retries.failures(properties),
                    retries.last_error(properties),
                )
            elif suspect:
                self._apply([(tag, properties, body, event)])
            else:
                fresh.append((tag, properties, body, event))
        if fresh:
            self._apply(fresh)
        return not all(suspect for *_, suspect in batch)

    def _dead_letter(self, tag, reason: str, message: str, *args) -> None:
        log.error(message, *args)
        self.metrics.dead_lettered.labels(reason).inc()
        self.channel.basic_reject(tag, requeue=False)

    def _apply(self, deliveries: list) -> None:
        results = self._dispatch([event for *_, event in deliveries])
        failures, consumed = 0, Counter[str]()
        for (tag, properties, body, event), result in zip(deliveries, results):
            if isinstance(result, OperationalError):
                failures += 1  # stopping in a database outage: left to come back on close
            elif isinstance(result, Exception):
                failures += 1
                self._failed(tag, properties, body, event, result)
            elif result:
                consumed[event.event_type] += 1
            else:
                log.warning("no handler for %s here; acking it", event.routing_key)
        for event_type, count in consumed.items():
            self.metrics.consumed.labels(event_type).inc(count)
        if failures == 0:
            # A window in one frame: the deliveries before its last that are not in it
            # have been settled already (a suspect alone acks only itself).
            self.channel.basic_ack(deliveries[-1][0], multiple=len(deliveries) > 1)
            return
        for (tag, *_), result in zip(deliveries, results):
            if not isinstance(result, Exception):
                self.channel.basic_ack(tag)

    def _dispatch(self, events: list[Event]) -> list:
        """Dispatch the window; while the database itself is unavailable, keep the
        messages and try again (heartbeats serviced) instead of burning their
        delivery attempts: an outage must not dead-letter good events."""
        delay = 0.25
        while True:
            try:
                results = self.dispatcher.dispatch_batch(events)
            except Exception as exc:  # noqa: BLE001 - the commit failed: every one failed
                results = [exc] * len(events)
            unavailable = [r for r in results if isinstance(r, OperationalError)]
            if not unavailable or self.stopping():
                return results
            log.warning(
                "database unavailable (%r); retrying %d events in %.1fs",
                unavailable[0],
                len(events),
                delay,
            )
            self.sleep(delay)
            delay = min(delay * 2, 30.0)

    def _failed(self, tag, properties, body, event, error: Exception) -> None:
        failed = retries.failures(properties) + 1
        log.error(
            "handling %s %s failed (attempt %s of %s): %r",
            event.event_type,
            event.event_id,
            failed,
            self.delivery_limit,
            error,
            exc_info=(type(error), error, error.__traceback__),
        )
        self.metrics.failed.labels(event.event_type).inc()
        # Counted on a confirmed copy; the original is acked only after the confirm.
        self.retrier.retry(properties, body, failed, error)
        self.channel.basic_ack(tag)
