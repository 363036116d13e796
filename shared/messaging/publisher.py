"""Safe, batched publishing: publisher confirms, persistent and mandatory.

Waiting for each confirm before the next publish caps a publisher near a
thousand messages a second. This publisher sends a whole batch, then drives the
connection's I/O loop until the broker has acked, nacked or returned every
message of it, and reports which ones are safe. The caller marks only those as
sent; anything else stays pending and is tried again.

Given several broker URLs (a cluster's nodes, ``shared.messaging.brokers``), it
connects to the first that answers, as the blocking connections do.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pika
from pika.adapters.select_connection import SelectConnection

from shared.messaging import brokers

log = logging.getLogger(__name__)


class PublishError(RuntimeError):
    """The connection or channel failed; nothing in flight may be taken as sent."""


@dataclass(frozen=True)
class Message:
    key: object  # the caller's handle (an outbox row id), returned if the message is safe
    message_id: str
    routing_key: str
    body: bytes
    type: str = ""


@dataclass
class _Batch:
    by_tag: dict[int, Message]
    confirmed: list
    failed: list


class ConfirmingPublisher:
    def __init__(
        self,
        amqp_url: str,
        exchange: str,
        confirm_timeout: float = 30.0,
        connect_timeout: float = 10.0,
    ):
        self.nodes = brokers.parameters(amqp_url, heartbeat=30)
        self.exchange = exchange
        self.confirm_timeout = confirm_timeout
        self.connect_timeout = connect_timeout
        # pika has no type hints: its connection and channel are Any, None until connected.
        self._conn: Any = None
        self._channel: Any = None
        self._error: Exception | None = None
        self._next_tag = 1
        self._batch: _Batch | None = None
        self._returned: set[str] = set()

    # -- connection -------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self._channel is not None and self._channel.is_open and self._error is None

    def connect(self) -> None:
        """Connect to the first node that answers; raise the last failure if none."""
        for i, params in enumerate(self.nodes):
            try:
                return self._connect(params)
            except PublishError as exc:
                self.close()
                if i == len(self.nodes) - 1:
                    raise
                log.warning(
                    "publisher: %s refused (%s); trying the next node", brokers.where(params), exc
                )

    def _connect(self, params) -> None:
        self._error = None
        self._channel = None
        self._conn = SelectConnection(
            params,
            on_open_callback=self._on_connection_open,
            on_open_error_callback=self._on_failure,
            on_close_callback=self._on_failure,
        )
        self._drive(lambda: self._channel is not None, self.connect_timeout, "connect")

    def close(self) -> None:
        conn, self._conn, self._channel = self._conn, None, None
        if conn is not None and conn.is_open:
            try:
                conn.close()
                conn.ioloop.call_later(2, conn.ioloop.stop)
                conn.ioloop.start()
            except Exception:
                log.debug("error while closing publisher connection", exc_info=True)

    def _on_connection_open(self, conn):
        conn.channel(on_open_callback=self._on_channel_open)

    def _on_channel_open(self, channel):
        channel.add_on_close_callback(self._on_failure)
        channel.add_on_return_callback(self._on_return)
        self._next_tag = 1
        channel.confirm_delivery(self._on_confirm, callback=lambda _f: self._set_channel(channel))

    def _set_channel(self, channel):
        self._channel = channel
        self._wake()

    def _on_failure(self, _source, error=None, *_):
        self._error = error if isinstance(error, Exception) else PublishError(str(error))
        self._wake()

    # -- publishing -------------------------------------------------------
    def publish_batch(self, messages: Iterable[Message]) -> tuple[list, list]:
        """Publish every message; return (keys confirmed safe, keys not safe)."""
        if not self.is_open:
            raise PublishError("publisher is not connected")
        batch = _Batch(by_tag={}, confirmed=[], failed=[])
        self._batch = batch
        self._returned.clear()
        try:
            for message in messages:
                props = pika.BasicProperties(
                    delivery_mode=pika.DeliveryMode.Persistent,
                    content_type="application/json",
                    message_id=message.message_id,
                    type=message.type or None,
                )
                self._channel.basic_publish(
                    self.exchange,
                    message.routing_key,
                    message.body,
                    properties=props,
                    mandatory=True,
                )
                batch.by_tag[self._next_tag] = message
                self._next_tag += 1
            self._drive(lambda: not batch.by_tag, self.confirm_timeout, "confirm")
        finally:
            self._batch = None
        return batch.confirmed, batch.failed

    def _on_return(self, _channel, _method, properties, _body):
        # A return always precedes the ack of the same message.
        self._returned.add(properties.message_id)

    def _on_confirm(self, frame):
        method = frame.method
        batch = self._batch
        if batch is None:
            return
        acked = isinstance(method, pika.spec.Basic.Ack)
        tags = (
            [t for t in batch.by_tag if t <= method.delivery_tag]
            if method.multiple
            else [method.delivery_tag]
        )
        for tag in tags:
            message = batch.by_tag.pop(tag, None)
            if message is None:
                continue
            if acked and message.message_id not in self._returned:
                batch.confirmed.append(message.key)
            else:
                batch.failed.append(message.key)
        if not batch.by_tag:
            self._wake()

    # -- the I/O loop -----------------------------------------------------
    def idle(self, seconds: float) -> None:
        """Service heartbeats while there is nothing to publish."""
        if self._conn is not None:
            self._drive(lambda: False, seconds, None)

    def _wake(self):
        if self._conn is not None:
            self._conn.ioloop.stop()

    def _drive(self, done, timeout: float, what: str | None) -> None:
        ioloop = self._conn.ioloop
        timed_out = []

        def expire() -> None:
            timed_out.append(True)
            ioloop.stop()

        timer = ioloop.call_later(timeout, expire)
        try:
            while not done() and self._error is None and not timed_out:
                ioloop.start()
        finally:
            ioloop.remove_timeout(timer)
        if self._error is not None:
            raise PublishError(f"broker connection failed: {self._error!r}")
        if timed_out and what is not None and not done():
            raise PublishError(f"timed out waiting to {what}")
