"""The consumer loop: at-least-once delivery, exactly-once effects.

Messages arrive with manual acks inside a prefetch window. What has arrived is
handed to the dispatcher (``shared.messaging.dispatcher``), which applies it in one
transaction with the inbox; a message is acked only after that transaction has
committed (should one event fail, the others are applied again without it). An
event applied before is applied without effect and acked. A handler failure is
counted on a confirmed copy at the back of the queue (``shared.messaging.retries``);
after ``delivery_limit`` failures the message is dead-lettered, while the messages
behind it keep flowing. What is decided for each delivery is
``shared.messaging.settling``'s; this module owns the connection and the windows.

After connecting, the prefetch is one until a fresh delivery arrives (or none
does): a message that killed the consumer comes back alone, applied in a
transaction of its own, and does not make the broker count a return for every
message of a window beside it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pika

from shared.messaging import brokers, retries, topology
from shared.messaging.dispatcher import WILDCARD, Dispatcher
from shared.messaging.settling import Settler
from shared.metrics import metrics_for

log = logging.getLogger(__name__)

# How long a window may wait to fill, and the quiet that ends the wait early.
GATHER_SECONDS = 0.1
GATHER_POLL_SECONDS = 0.002


class Consumer:
    def __init__(
        self,
        service: str,
        dispatcher: Dispatcher,
        amqp_url: str,
        names: topology.Names,
        prefetch: int = 200,
        delivery_limit: int = 5,
        window: int | None = None,
        idle: Callable[[], object] | None = None,
        idle_every: float = 60.0,
    ):
        """``idle``, if given, is work a service defers while events keep coming: it
        runs once the queue has gone quiet after a window, and during a backlog after
        any window that ends ``idle_every`` seconds or more after it last ran, so that
        the deferred work does not pile up. If it fails, it is logged and runs again
        at the next such point."""
        allowed = set(topology.BINDINGS.get(service, ()))
        unbound = set(dispatcher.subscriptions) - allowed
        if unbound and WILDCARD not in allowed:
            raise ValueError(
                f"{service} handles {sorted(unbound)} but its queue is not bound to them"
            )
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
        self._connection: Any = None  # a pika.BlockingConnection (no type hints) once connected
        self._settler: Settler | None = None
        self._cautious = True  # prefetch of one until a fresh delivery arrives
        self._consumer_tag: str | None = None
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
                assert self._settler is not None  # set by _connect
                backoff = 0.5
                while not stop.is_set():
                    # Returns as soon as messages are waiting; their callbacks buffer them.
                    self._connection.process_data_events(time_limit=0.5)
                    if self._buffer:
                        self._gather()
                        if self._settler.settle(self._take()) and self._cautious:
                            self._widen(channel)
                        self._worked = True
                        if time.monotonic() - self._idle_at >= self.idle_every:
                            self._run_idle()
                    elif self._cautious:
                        self._widen(channel)
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
        except Exception:
            self.metrics.deferred_failed.inc()
            log.exception("%s: the deferred work between windows failed", self.service)

    def _connect(self):
        self._buffer = []  # unacked deliveries of a lost connection are redelivered
        # Several URLs (a cluster's nodes): the first that answers.
        self._connection = brokers.connect(self.amqp_url, heartbeat=30)
        channel = topology.declare(self._connection.channel(), self.names)
        retrier = retries.Retrier(self._connection.channel(), self.names.queue(self.service))
        self._settler = Settler(
            self.dispatcher,
            channel,
            retrier,
            self.delivery_limit,
            sleep=self._connection.sleep,
            stopping=self._stop.is_set,
        )
        self._cautious = True
        channel.basic_qos(prefetch_count=1)
        self._consumer_tag = channel.basic_consume(self.names.queue(self.service), self._on_message)
        self._consuming = True
        log.info("consuming from %s", self.names.queue(self.service))
        return channel

    def _close(self) -> None:
        self._consuming = False
        conn, self._connection = self._connection, None
        if conn is not None and conn.is_open:
            try:
                conn.close()
            except Exception:
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
        self._buffer.append((method.delivery_tag, properties, body, method.redelivered))

    def _take(self) -> list:
        batch, self._buffer = self._buffer, []
        return batch

    def _widen(self, channel) -> None:
        """The full window, by a consumer of its own: the broker gives a prefetch
        (``basic.qos``, per consumer) only to consumers started after it is set, so
        the narrow one is replaced rather than raised. Cancelling it hands back only
        what it was sent and not yet given to us (at most one message, returned to
        the queue); what it gave us is ours to settle as before."""
        channel.basic_qos(prefetch_count=self.prefetch)
        narrow = self._consumer_tag
        self._consumer_tag = channel.basic_consume(self.names.queue(self.service), self._on_message)
        channel.basic_cancel(narrow)
        self._cautious = False
