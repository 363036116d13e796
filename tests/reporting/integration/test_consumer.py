"""Reporting's consumer on the real RabbitMQ: every event published on the exchange
reaches the read models once, however often it is delivered."""
import threading

import pika
import pytest
from sqlalchemy import func, select

from services.reporting import config, services
from services.reporting.models import EventLog
from shared.messaging import topology
from shared.messaging.consumer import Consumer
from shared.testing import wait_for
from tests.reporting.events import completed, registered, sale

pytestmark = pytest.mark.integration


@pytest.fixture
def running_consumer(make_dispatcher, sqlite_url, amqp_url, namespace):
    dispatcher = make_dispatcher(sqlite_url)
    consumer = Consumer(config.SERVICE, dispatcher, amqp_url, namespace, prefetch=50)
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    yield dispatcher
    stop.set()
    thread.join(10)


def publish(amqp_url, names, events):
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        topology.declare(channel, names)
        channel.confirm_delivery()
        for event in events:
            channel.basic_publish(
                names.exchange, event.routing_key, event.to_json().encode(), mandatory=True,
                properties=pika.BasicProperties(delivery_mode=2, message_id=event.event_id,
                                                content_type="application/json"))
    finally:
        connection.close()


def test_events_from_the_exchange_reach_the_read_models_once(running_consumer, amqp_url,
                                                             namespace):
    dispatcher = running_consumer
    sold = sale("c1", "250.50", "100", sale_id="s1")
    publish(amqp_url, namespace, [sold, completed("2025-03-01T04:00"), sold,
                                  registered("c1", "smb")])

    def logged():
        with dispatcher.uow.reader() as session:
            return session.scalar(select(func.count()).select_from(EventLog)) == 3

    wait_for(logged, timeout=15, message="three events in the log")
    report = services.pnl_report(dispatcher.uow, "HKD")
    assert [(s["segment"], str(s["revenue"]), s["sales"]) for s in report["segments"]] == [
        ("smb", "250.50", 1)]
