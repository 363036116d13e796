"""The consumer's delivery window: filled while deliveries keep coming, handed over
as soon as they stop (the broker's side is a stand-in: this is about the loop)."""

from __future__ import annotations

from typing import ClassVar

from shared.messaging import topology
from shared.messaging.consumer import Consumer


class Trickle:
    """A connection whose polls deliver the given numbers of messages, then none."""

    def __init__(self, consumer: Consumer, arrivals: list[int]):
        self.consumer, self.arrivals, self.polls = consumer, list(arrivals), 0

    def process_data_events(self, time_limit):
        self.polls += 1
        for _ in range(self.arrivals.pop(0) if self.arrivals else 0):
            self.consumer._buffer.append(("tag", None, b"{}"))


def gathered(arrivals: list[int], prefetch: int = 800, first: int = 150) -> tuple[int, int]:
    consumer = Consumer(
        "reporting",
        dispatcher=_NoDispatch(),
        amqp_url="amqp://unused",
        names=topology.Names("t"),
        prefetch=prefetch,
    )
    consumer._buffer = [("tag", None, b"{}")] * first
    consumer._connection = Trickle(consumer, arrivals)
    consumer._gather()
    return len(consumer._buffer), consumer._connection.polls


class _NoDispatch:
    subscriptions: ClassVar[dict] = {}


def test_a_window_keeps_reading_while_deliveries_keep_coming():
    assert gathered([150, 150, 150], prefetch=2000) == (600, 4)  # the 4th poll: nothing


def test_a_window_stops_at_half_the_prefetch():
    size, polls = gathered([200] * 10)
    assert size == 550 and polls == 2  # 150 + 200 + 200 ≥ 400


def test_a_quiet_queue_hands_over_what_it_has_at_once():
    assert gathered([], first=3) == (3, 1)
