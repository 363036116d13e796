"""The raw broker ceiling: persistent 1 KB messages to a quorum queue, published
in the same mode as the relay (confirms, mandatory, batched)."""

from __future__ import annotations

import time
import uuid

import pika

from shared.messaging import topology
from shared.messaging.publisher import ConfirmingPublisher, Message

ONLY = {"bench": ("#",)}


def ceiling(amqp_url: str, messages: int = 50_000, batch: int = 500, size: int = 1024) -> float:
    names = topology.Names(f"bench-{uuid.uuid4().hex[:8]}")
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = conn.channel()
    topology.declare(channel, names, bindings=ONLY)
    publisher = ConfirmingPublisher(amqp_url, names.exchange)
    publisher.connect()
    body = b"x" * size
    try:
        started = time.perf_counter()
        for start in range(0, messages, batch):
            _confirmed, failed = publisher.publish_batch(
                Message(i, str(i), "bench.published.v1", body)
                for i in range(start, min(start + batch, messages))
            )
            assert not failed, "the broker refused messages"
        return messages / (time.perf_counter() - started)
    finally:
        publisher.close()
        topology.delete(channel, names, bindings=ONLY)
        conn.close()
