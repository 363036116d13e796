"""The calls consumer and relay against the real RabbitMQ: a customer registered on
the bus is projected, and the calls scheduled for it go out on the bus."""

import json
import threading
from contextlib import contextmanager
from datetime import UTC, datetime

import pika
import pytest

from services.calls import config
from services.calls.customers.tables import Customer
from services.calls.db import Inbox, Outbox
from services.calls.handlers import subscriptions
from shared.entrypoints import build_dispatcher
from shared.events import make_event
from shared.messaging.consumer import Consumer
from shared.messaging.relay import Relay
from shared.testing import wait_for
from tests.calls.helpers import build_app, create_plan, schedule

pytestmark = pytest.mark.integration


@contextmanager
def running(worker):
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_for(lambda: worker.ready, message=f"{type(worker).__name__} ready")
        yield worker
    finally:
        stop.set()
        thread.join(20)


def publish(amqp_url, names, event) -> None:
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = conn.channel()
        channel.confirm_delivery()
        channel.basic_publish(
            names.exchange,
            event.routing_key,
            event.to_json(),
            pika.BasicProperties(
                delivery_mode=2, message_id=event.event_id, content_type="application/json"
            ),
            mandatory=True,
        )
    finally:
        conn.close()


def drain(amqp_url, queue) -> list[dict]:
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel, bodies = conn.channel(), []
        while (message := channel.basic_get(queue, auto_ack=True))[0] is not None:
            bodies.append(json.loads(message[2]))
        return bodies
    finally:
        conn.close()


def collect(seen: list, amqp_url, queue, expected: int) -> bool:
    seen.extend(drain(amqp_url, queue))
    return len(seen) >= expected


def projected(db, customer_id):
    with db.reader() as s:
        return s.get(Customer, customer_id)


def test_registered_customer_is_projected_and_its_calls_are_published(
    service_app, database_url, amqp_url, namespace
):
    app = build_app(service_app, database_url)
    db = app.extensions["rapport"].db
    settings = config.load({"DATABASE_URL": database_url, "DEV_MODE": "1"})
    dispatcher = build_dispatcher(settings, db, Outbox, Inbox, subscriptions(settings))
    consumer = Consumer("calls", dispatcher, amqp_url, namespace, prefetch=10, delivery_limit=2)
    relay = Relay("calls", db, Outbox, amqp_url, namespace)
    registered = make_event(
        "customer.registered",
        {
            "customer_id": "c1",
            "name": "Chan Tai Man",
            "segment": "smb",
            "registered_at": datetime.now(UTC),
        },
        producer="customer",
    )
    seen: list[dict] = []  # everything on the bus, as the reporting queue (bound to #) sees it
    try:
        with running(consumer), running(relay):
            publish(amqp_url, namespace, registered)
            wait_for(lambda: projected(db, "c1"), message="the customer projected")
            plan = create_plan(app.test_client())
            assert schedule(app.test_client(), plan["id"]).json["created"] == 4
            wait_for(
                lambda: collect(seen, amqp_url, namespace.queue("reporting"), 5),
                message="four call.scheduled on the bus",
            )
    finally:
        db.dispose()
    scheduled = [e for e in seen if e["event_type"] == "call.scheduled"]
    assert len(scheduled) == 4 and {e["payload"]["customer_id"] for e in scheduled} == {"c1"}
    assert {e["payload"]["plan_id"] for e in scheduled} == {plan["id"]}
