"""Reporting's consumer on the real RabbitMQ: every event published on the exchange
reaches the read models once, however often it is delivered."""

import threading
from datetime import date

import pika
import pytest
from sqlalchemy import func, select

from services.reporting import catalogue, config
from services.reporting.entrypoints.consumer import build_consumer
from services.reporting.pnl.tables import PnlYtd
from services.reporting.relationships.tables import CustomerYtd
from services.reporting.store.year_to_date import PENDING
from services.reporting.tables import EventLog
from shared.messaging import topology
from shared.testing import wait_for
from tests.reporting.events import completed, registered, sale

pytestmark = pytest.mark.integration


@pytest.fixture
def running_consumer(make_dispatcher, sqlite_url, amqp_url, namespace):
    """The consumer as reporting's process builds it, with windows of 25 events."""
    dispatcher = make_dispatcher(sqlite_url)
    settings = config.load({"DATABASE_URL": sqlite_url, "DEV_MODE": "1", "AMQP_URL": amqp_url})
    consumer = build_consumer(settings, dispatcher.uow.db, dispatcher, namespace, window=25)
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
                names.exchange,
                event.routing_key,
                event.to_json().encode(),
                mandatory=True,
                properties=pika.BasicProperties(
                    delivery_mode=2, message_id=event.event_id, content_type="application/json"
                ),
            )
    finally:
        connection.close()


def test_events_from_the_exchange_reach_the_read_models_once(running_consumer, amqp_url, namespace):
    dispatcher = running_consumer
    sold = sale("c1", "250.50", "100", sale_id="s1")
    publish(
        amqp_url, namespace, [sold, completed("2025-03-01T04:00"), sold, registered("c1", "smb")]
    )

    def logged():
        with dispatcher.uow.reader() as session:
            return session.scalar(select(func.count()).select_from(EventLog)) == 3

    wait_for(logged, timeout=15, message="three events in the log")
    report = catalogue.pnl_report(dispatcher.uow, "HKD")
    assert [(s["segment"], str(s["revenue"]), s["sales"]) for s in report["segments"]] == [
        ("smb", "250.50", 1)
    ]


def test_once_the_queue_is_quiet_the_pending_months_are_spread(
    running_consumer, amqp_url, namespace
):
    """61 events in windows of 25: the March entries end up in every month's
    year-to-date row from March to December, and nothing stays pending."""
    dispatcher = running_consumer
    publish(
        amqp_url,
        namespace,
        [sale("c1", "100", "10", sale_id=f"s{i}") for i in range(60)]
        + [completed("2025-03-01T04:00")],
    )

    def spread():
        with dispatcher.uow.reader() as session:
            return session.scalar(select(func.count()).select_from(EventLog)) == 61 and not any(
                session.scalar(select(func.count()).select_from(model))
                for model in PENDING.values()
            )

    wait_for(spread, timeout=15, message="the pending months spread")
    with dispatcher.uow.reader() as session:
        sales = session.execute(select(PnlYtd.month, PnlYtd.sales)).all()
        calls = session.execute(select(CustomerYtd.month, CustomerYtd.calls)).all()
    months = [date(2025, m, 1) for m in range(3, 13)]
    assert sorted(sales) == [(m, 60) for m in months]
    assert sorted(calls) == [(m, 1) for m in months]
