"""The consumer loop: at-least-once delivery, exactly-once effects.

Messages arrive with manual acks inside a prefetch window. What has arrived is
handed to the dispatcher (``shared.messaging.dispatcher``), which applies it in one
transaction with the inbox; a message is acked only after that transaction has
committed (should one event fail, the others are applied again without it). A
redelivered event is applied without effect and acked. A handler failure is nacked
back to the queue; the quorum queue's delivery limit bounds the retries and then
dead-letters the message, while the messages behind it keep flowing. A message
that is not a valid event at all goes to the dead-letter queue at once; an event
type nobody here handles is logged and acked.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from typing import Callable

import pika
from sqlalchemy.exc import OperationalError

from shared.events import EnvelopeError, Event, parse_event
from shared.messaging import topology
from shared.messaging.dispatcher import WILDCARD, Dispatcher
from shared.metrics import metrics_for

log = logging.getLogger(__name__)

# How long a window may wait to fill, and the quiet that ends the wait early.
GATHER_SECONDS = 0.1
GATHER_POLL_SECONDS = 0.002


class Consumer:
    def __init__(self, service: str, dispatcher: Dispatcher, amqp_url: str,
                 names: topology.Names, prefetch: int = 200, delivery_limit: int = 5,
                 window: int | None = None, idle: Callable[[], object] | None = None,
                 idle_every: float = 60.0):
        """``idle``, if given, is work a service defers while events keep coming: it
        runs once the queue has gone quiet after a window, and during a backlog after
        any window that ends ``idle_every`` seconds or more after it last ran, so that
        the deferred work does not pile up. If it fails, it is logged and runs again
        at the next such point."""
        allowed = set(topology.BINDINGS.get(service, ()))
        unbound = set(dispatcher.subscriptions) - allowed
        if unbound and WILDCARD not in allowed:
            raise ValueError(f"{service} handles {sorted(unbound)} but its queue is not bound to them")
        self.service = service
        self.dispatcher = dispatcher
        self.amqp_url = amqp_url
        self.names = names
        self.prefetch = prefetch
        # Events handled in one transaction at most: half the prefetch, so the broker
        # streams the next window while this one is handled.
        self.window = window or max(1, prefetch // 2)
        self.delivery_limit = delivery_limit
        self.idle, self.idle_every = idle, idle_every
        self._worked = False  # a window handled since ``idle`` last ran
        self._idle_at = time.monotonic()
        self.metrics = metrics_for(service)
        self._connection: pika.BlockingConnection | None = None
        self._buffer: list = []
        self._consuming = False
        self._stop = threading.Event()

    @property
    def ready(self) -> bool:
        return self._consuming and self._connection is not None and self._connection.is_open

    def run(self, stop: threading.Event) -> None:
        self._stop = stop
        backoff = 0.5
        while not stop.is_set():
            try:
                channel = self._connect()
                backoff = 0.5
                while not stop.is_set():
                    # Returns as soon as messages are waiting; their callbacks buffer them.
                    self._connection.process_data_events(time_limit=0.5)
                    if self._buffer:
                        self._gather()
                        self._flush(channel)
                        self._worked = True
                        if time.monotonic() - self._idle_at >= self.idle_every:
                            self._run_idle()
                    elif self._worked:
                        self._run_idle()
                channel.cancel()
            except (pika.exceptions.AMQPError, OSError) as exc:
                log.warning("consumer lost the broker, retrying in %.1fs: %r", backoff, exc)
                stop.wait(backoff)
                backoff = min(backoff * 2, 15.0)
            finally:
                self._close()

    def _run_idle(self) -> None:
        self._worked, self._idle_at = False, time.monotonic()
        if self.idle is None:
            return
        try:
            with self.metrics.deferred.time():
                self.idle()
        except Exception:  # noqa: BLE001 - deferred work waits for the next quiet moment
            self.metrics.deferred_failed.inc()
            log.exception("%s: the deferred work between windows failed", self.service)

    def _connect(self):
        self._buffer = []  # unacked deliveries of a lost connection are redelivered
        params = pika.URLParameters(self.amqp_url)
        params.heartbeat = params.heartbeat or 30
        self._connection = pika.BlockingConnection(params)
        channel = self._connection.channel()
        topology.declare(channel, self.names, self.delivery_limit)
        channel.basic_qos(prefetch_count=self.prefetch)
        channel.basic_consume(self.names.queue(self.service), self._on_message)
        self._consuming = True
        log.info("consuming from %s", self.names.queue(self.service))
        return channel

    def _close(self) -> None:
        self._consuming = False
        conn, self._connection = self._connection, None
        if conn is not None and conn.is_open:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                log.debug("error while closing consumer connection", exc_info=True)

    def _gather(self) -> None:
        """Fill the window while deliveries keep coming. What has arrived when the
        socket first goes quiet is a fraction of a backlog's window (≈ 150 events),
        and every window pays a commit and an inbox look-up; a short poll that
        brings nothing ends the wait, so a trickle of events is not held up."""
        deadline = time.monotonic() + GATHER_SECONDS
        while len(self._buffer) < self.window and time.monotonic() < deadline:
            before = len(self._buffer)
            self._connection.process_data_events(time_limit=GATHER_POLL_SECONDS)
            if len(self._buffer) == before:
                return

    def _on_message(self, _channel, method, properties, body) -> None:
        self._buffer.append((method.delivery_tag, properties, body))

    def _flush(self, channel) -> None:
        """Handle what arrived in one transaction; ack what committed, nack the rest."""
        batch, self._buffer = self._buffer, []
        events = []
        for tag, properties, body in batch:
            try:
                events.append((tag, properties, parse_event(body)))
            except EnvelopeError as exc:
                log.error("dead-lettering a malformed message %s: %s",
                          properties.message_id, exc)
                self.metrics.dead_lettered.inc()
                channel.basic_reject(tag, requeue=False)
        if not events:
            return
        results = self._dispatch([event for _, _, event in events])
        failures, consumed = 0, Counter()
        for (tag, properties, event), result in zip(events, results):
            if isinstance(result, Exception):
                failures += 1
                self._failed(channel, tag, properties, event, result)
            elif result:
                consumed[event.event_type] += 1
            else:
                log.warning("no handler for %s here; acking it", event.routing_key)
        for event_type, count in consumed.items():
            self.metrics.consumed.labels(event_type).inc(count)
        if failures == 0:
            # Everything up to the last delivery of the window, in one frame.
            channel.basic_ack(events[-1][0], multiple=True)
            return
        for (tag, _properties, _event), result in zip(events, results):
            if not isinstance(result, Exception):
                channel.basic_ack(tag)

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
            if not unavailable or self._stop.is_set():
                return results
            log.warning("database unavailable (%r); retrying %d events in %.1fs",
                        unavailable[0], len(events), delay)
            self._connection.sleep(delay)
            delay = min(delay * 2, 30.0)

    def _failed(self, channel, tag, properties, event, error: Exception) -> None:
        attempt = (properties.headers or {}).get("x-delivery-count", 0) + 1
        log.error("handling %s %s failed (delivery %s of %s): %r", event.event_type,
                  event.event_id, attempt, self.delivery_limit + 1, error,
                  exc_info=(type(error), error, error.__traceback__))
        self.metrics.failed.labels(event.event_type).inc()
        channel.basic_nack(tag, requeue=True)
