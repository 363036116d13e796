"""Reporting's consumer: the shared consumer loop, with each delivery window filled
before it is handled.

The shared loop handles whatever has arrived when the socket goes quiet, about 150
deliveries on a backlog; reporting's per-window costs (the commit, the inbox
look-up, one upsert per touched read-model row) are then paid three times as often
as they need to be. Here a window keeps reading while deliveries keep coming, up to
``window`` events or ``gather_seconds``, and stops as soon as a short poll brings
nothing (an idle queue adds no latency). The prefetch is twice the window, so the
broker streams the next window while this one is handled.
"""
from __future__ import annotations

import time

from shared.messaging.consumer import Consumer

WINDOW = 1000
GATHER_SECONDS = 0.1
POLL_SECONDS = 0.002


class WindowedConsumer(Consumer):
    def __init__(self, service, dispatcher, amqp_url, names, window: int = WINDOW,
                 delivery_limit: int = 5, gather_seconds: float = GATHER_SECONDS):
        super().__init__(service, dispatcher, amqp_url, names, prefetch=2 * window,
                         delivery_limit=delivery_limit)
        self.window = window
        self.gather_seconds = gather_seconds

    def _flush(self, channel) -> None:
        self._gather()
        super()._flush(channel)

    def _gather(self) -> None:
        deadline = time.monotonic() + self.gather_seconds
        while len(self._buffer) < self.window and time.monotonic() < deadline:
            before = len(self._buffer)
            self._connection.process_data_events(time_limit=POLL_SECONDS)
            if len(self._buffer) == before:
                return
