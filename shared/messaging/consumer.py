"""The consumer loop: at-least-once delivery, exactly-once effects.

Messages arrive with manual acks inside a prefetch window. What has arrived is
handled in one transaction, each handler recording ``(event_id, handler)`` in
the inbox beside its effect; a message is acked only after that transaction has
committed (should one event fail, the others are applied again without it). A redelivered event
finds its inbox rows and is acked without effect. A handler failure is nacked
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
from typing import Callable, Mapping, Sequence

import pika
from sqlalchemy import insert, select
from sqlalchemy.exc import OperationalError

from shared import context
from shared.events import EnvelopeError, Event, parse_event
from shared.messaging import topology
from shared.messaging.tables import utcnow
from shared.messaging.unit_of_work import UnitOfWork, UnitOfWorkFactory
from shared.metrics import metrics_for

log = logging.getLogger(__name__)

Handler = Callable[[UnitOfWork, Event], None]
WILDCARD = "#"
# How long a window may wait to fill, and the quiet that ends the wait early.
GATHER_SECONDS = 0.1
GATHER_POLL_SECONDS = 0.002


def handler_name(handler: Handler) -> str:
    return getattr(handler, "inbox_name", None) or f"{handler.__module__}.{handler.__qualname__}"


class Dispatcher:
    """Runs an event through its handlers, once per (event, handler)."""

    def __init__(self, service: str, uow: UnitOfWorkFactory, inbox_model,
                 subscriptions: Mapping[str, Sequence[Handler]]):
        self.service = service
        self.uow = uow
        self.inbox = inbox_model
        self.subscriptions = subscriptions
        self.metrics = metrics_for(service)

    def handlers_for(self, event: Event) -> list[Handler]:
        return [*self.subscriptions.get(event.routing_key, ()),
                *self.subscriptions.get(WILDCARD, ())]

    def dispatch(self, event: Event) -> bool:
        """Apply one event in a transaction of its own; False if nobody here handles
        its type; a handler's exception is raised."""
        [result] = self.dispatch_batch([event])
        if isinstance(result, Exception):
            raise result
        return result

    def dispatch_batch(self, events: Sequence[Event]) -> list:
        """Apply events; per event True (applied, or applied before), False (no
        handler here), or the exception that failed it.

        The whole batch is tried in one transaction: one inbox look-up, one commit,
        which is what lets a consumer keep up with a relay. If anything in it fails,
        it is rolled back and every event is applied again in a transaction of its
        own, so one bad event fails alone and the others still commit."""
        try:
            return self._apply(events)
        except Exception as exc:  # noqa: BLE001 - isolate the culprit below
            if len(events) == 1:
                return [exc]
        return [self._isolated(event) for event in events]

    def _isolated(self, event: Event):
        try:
            return self._apply([event])[0]
        except Exception as exc:  # noqa: BLE001 - reported per event
            return exc

    def _apply(self, events: Sequence[Event]) -> list[bool]:
        results, done, now = [], [], utcnow()
        with self.uow() as work:
            seen = self._already_applied(work, events)
            for event in events:
                handlers = self.handlers_for(event)
                results.append(bool(handlers))
                tokens = _enter_context(event)
                try:
                    for handler in handlers:
                        key = (event.event_id, handler_name(handler))
                        if key in seen:
                            self.metrics.duplicate.labels(event.event_type).inc()
                            continue
                        seen.add(key)
                        handler(work, event)
                        done.append({"event_id": key[0], "handler": key[1],
                                     "event_type": event.event_type, "processed_at": now})
                finally:
                    _leave_context(tokens)
            if done:
                # A concurrent consumer that applied the same event first makes this
                # fail on the primary key: the batch is retried and then skips it.
                work.session.connection().execute(insert(self.inbox.__table__), done)
        return results

    def _already_applied(self, work: UnitOfWork, events: Sequence[Event]) -> set:
        ids = list({event.event_id for event in events})
        # Core on the session's connection: the ORM's execution path cost more than
        # the look-up itself, and at a trickle every window of one event pays it.
        table = self.inbox.__table__
        rows = work.session.connection().execute(
            select(table.c.event_id, table.c.handler).where(table.c.event_id.in_(ids)))
        return {(event_id, handler) for event_id, handler in rows}


def _enter_context(event: Event) -> tuple:
    """Events a handler emits are correlated with, and caused by, this one. Set once
    per event for all its handlers, without a generator context manager: a window
    of a thousand events paid for one of those per handler."""
    return (context.correlation_id.set(event.correlation_id),
            context.causation_id.set(event.event_id), context.event_id.set(event.event_id))


def _leave_context(tokens: tuple) -> None:
    correlation, causation, event_id = tokens
    context.event_id.reset(event_id)
    context.causation_id.reset(causation)
    context.correlation_id.reset(correlation)


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
