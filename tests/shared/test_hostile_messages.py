"""One bad message never costs a good one, against the real RabbitMQ and database.

Hostile bodies travel among valid events while the consumer keeps losing its
broker connection and being restarted, holding the same messages each time, more
often than its delivery limit: every valid event is applied once, and the bad
bodies, and only they, end in the dead-letter queue.
"""

from __future__ import annotations

import logging
from collections import defaultdict

import pika
import pytest
from sqlalchemy.exc import OperationalError

from shared.config import Settings
from shared.entrypoints import build_dispatcher
from shared.events.envelope import MAX_BODY_BYTES
from shared.messaging import topology
from shared.messaging.consumer import Consumer
from shared.testing import wait_for
from tests.shared import messaging_app as m
from tests.shared.test_messaging import applied, drain, pending, queue_depth, relay, running
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.integration

DELIVERY_LIMIT = 2
HOSTILE = [
    b"[" * 5000,
    b'{"pad": "' + b"x" * (MAX_BODY_BYTES + 1) + b'"}',
    bytes(range(256)) * 4,
    '{"producer": "caf\u00e9"}'.encode("latin-1"),
    b'{"event_type": "call.completed", "data": [1, 2, 3]}',
]


@pytest.fixture
def db(database_url):
    db = m.make_db(database_url)
    yield db
    db.dispose()


class Outage:
    """The database as the handler sees it: down on demand, with a record of the
    broker connection (by the consumer's count of connects) each attempt ran on."""

    def __init__(self):
        self.down = False
        self.attempts: list[int] = []
        self.connects = 0

    def handler(self, work, event):
        self.attempts.append(self.connects)
        if self.down:
            raise OperationalError("INSERT ...", {}, Exception("the database is down"))
        m.on_call_completed(work, event)

    handler.inbox_name = "on_call_completed"


class Watched(Consumer):
    """The consumer, recording the broker's count of returns of every message."""

    def __init__(self, outage: Outage, returns: dict, *args, **kw):
        super().__init__(*args, **kw)
        self.outage, self.returns = outage, returns

    def _connect(self):
        self.outage.connects += 1
        return super()._connect()

    def _on_message(self, channel, method, properties, body):
        count = (properties.headers or {}).get("x-delivery-count", 0)
        self.returns[properties.message_id] = max(self.returns[properties.message_id], count)
        super()._on_message(channel, method, properties, body)


def watched(db, url, names, outage, returns):
    settings = Settings.from_env(m.SERVICE, {"DEV_MODE": "1", "DATABASE_URL": db.url})
    subscriptions = {"call.completed.v1": [outage.handler]}
    dispatcher = build_dispatcher(settings, db, m.Outbox, m.Inbox, subscriptions)
    return Watched(
        outage,
        returns,
        m.SERVICE,
        dispatcher,
        url,
        names,
        prefetch=50,
        delivery_limit=DELIVERY_LIMIT,
    )


def publish_raw(amqp_url, names, bodies) -> None:
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = conn.channel()
        channel.confirm_delivery()
        for i, body in enumerate(bodies):
            channel.basic_publish(
                names.exchange,
                "call.completed.v1",
                body,
                mandatory=True,
                properties=pika.BasicProperties(message_id=f"hostile-{i}"),
            )
    finally:
        conn.close()


def test_hostile_bodies_among_a_thousand_events_and_restarts_past_the_delivery_limit_cost_no_good_event(  # noqa: E501
    db, amqp_url, namespace
):
    with running(relay(db, amqp_url, namespace, batch_size=250)):
        for part in range(4):
            m.emit_calls(db, 250)
            wait_for(lambda: pending(db) == 0, 30, message="relayed")
            publish_raw(amqp_url, namespace, HOSTILE[part::4])
    outage, returns, proxy = Outage(), defaultdict(int), TcpProxy()
    try:
        # Down from the start: the consumer, cautious after each connect, holds the
        # first message alone, and the same one comes back after every cut.
        outage.down = True
        with running(watched(db, proxy.url(), namespace, outage, returns)):
            for _ in range(DELIVERY_LIMIT + 1):
                # The consumer holds its deliveries on this connection; cut it.
                connects = outage.connects
                wait_for(lambda: connects in outage.attempts, 30, message="a delivery held")
                proxy.cut()
                proxy.restore()
                wait_for(lambda: outage.connects > connects, 30, message="reconnected")
            wait_for(lambda: outage.connects in outage.attempts, 30, message="a delivery held")
        # ...and stopped outright while it holds one: a restart.
        with running(watched(db, proxy.url(), namespace, outage, returns)):
            outage.down = False
            wait_for(lambda: applied(db) == (1000, 1000), 60, message="every event once")
            dlq = namespace.dead_letter_queue(m.SERVICE)
            wait_for(
                lambda: queue_depth(amqp_url, dlq) == len(HOSTILE),
                30,
                message="the hostile bodies dead-lettered",
            )
            wait_for(
                lambda: queue_depth(amqp_url, namespace.queue(m.SERVICE)) == 0,
                30,
                message="the queue drained",
            )
    finally:
        proxy.close()
    # The same messages came back more often than the delivery limit, and still count
    # as good: the broker's returns are not the retry budget.
    assert max(returns.values()) > DELIVERY_LIMIT
    assert sorted(drain(amqp_url, namespace.dead_letter_queue(m.SERVICE))) == sorted(HOSTILE)
    assert applied(db) == (1000, 1000)


def test_a_queue_declared_with_an_older_delivery_limit_is_kept_and_everything_else_declared(
    amqp_url, namespace, caplog
):
    queue = namespace.queue("customer")
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        old = {**topology.queue_arguments(namespace, "customer"), "x-delivery-limit": 5}
        conn.channel().queue_declare(queue, durable=True, arguments=old)
        with caplog.at_level(logging.WARNING, logger="shared.messaging.topology"):
            channel = topology.declare(conn.channel(), namespace)
        assert channel.is_open
        channel.confirm_delivery()
        channel.basic_publish(namespace.exchange, "call.completed.v1", b"{}", mandatory=True)
        # Bound as ever, and the queues after it declared too.
        assert channel.queue_declare(queue, passive=True).method.message_count == 1
        channel.queue_declare(namespace.queue("reporting"), passive=True)
    finally:
        conn.close()
    assert f"queue {queue} exists with other arguments" in caplog.text
    assert f"rabbitmqctl delete_queue {queue}" in caplog.text


def test_after_a_fresh_delivery_the_consumer_takes_its_full_window(db, amqp_url, namespace):
    """The broker applies a prefetch only to consumers started after it is set; the
    consumer's widening must bring windows of many events, not one at a time."""
    sizes: list[int] = []

    class Measured(Consumer):
        def _take(self):
            batch = super()._take()
            sizes.append(len(batch))
            return batch

    with running(relay(db, amqp_url, namespace, batch_size=250)):
        m.emit_calls(db, 400)
        wait_for(lambda: pending(db) == 0, 30, message="relayed")
    settings = Settings.from_env(m.SERVICE, {"DEV_MODE": "1", "DATABASE_URL": db.url})
    dispatcher = build_dispatcher(
        settings, db, m.Outbox, m.Inbox, {"call.completed.v1": [m.on_call_completed]}
    )
    with running(Measured(m.SERVICE, dispatcher, amqp_url, namespace, prefetch=100)):
        wait_for(lambda: applied(db) == (400, 400), 30, message="every event once")
    assert sizes[0] == 1  # cautious: the first delivery alone
    assert max(sizes) > 1 and len(sizes) < 100, sizes
