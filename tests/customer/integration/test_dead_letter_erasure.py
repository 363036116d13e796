"""An erasure reaches the events waiting in every service's dead-letter queue: the
customer service's periodic ``dead-letter-erasure`` job blanks the erased person's
data there (and in profiles merged into theirs), and leaves everyone else's alone."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pika
import pytest

from services.customer import config, periodic
from services.customer.app import create_app
from shared.events import make_event
from shared.messaging import dead_letters, topology
from shared.testing import wait_for
from tests.conftest import auth
from tests.shared.test_messaging import queue_depth

pytestmark = pytest.mark.integration


@pytest.fixture
def app(service_app, sqlite_url, amqp_url, namespace):
    return service_app(
        create_app,
        config.MIGRATIONS,
        sqlite_url,
        AMQP_URL=amqp_url,
        NAMESPACE=namespace.namespace,
    )


def register(client, name, phone, key):
    r = client.post(
        "/api/v1/customers",
        json={"name": name, "phone": phone, "segment": "smb"},
        headers={**auth(), "Idempotency-Key": key},
    )
    assert r.status_code == 201, r.json
    return r.json["id"]


def registered(customer_id: str, name: str) -> bytes:
    payload = {
        "customer_id": customer_id,
        "name": name,
        "phone": "+85291234567",
        "segment": "smb",
        "registered_at": datetime.now(UTC),
    }
    return make_event("customer.registered", payload, producer="customer").to_json().encode()


def held(amqp_url, names, service) -> dict[str, dict]:
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        with dead_letters.held(conn.channel(), names.dead_letter_queue(service)) as letters:
            return {letter.message_id: json.loads(letter.body)["payload"] for letter in letters}
    finally:
        conn.close()


def test_the_periodic_job_blanks_erased_customers_in_every_dead_letter_queue(
    app, amqp_url, namespace
):
    client = app.test_client()
    erased = register(client, "Chan Tai Man", "9123 4567", "a")
    merged = register(client, "Chan T M", "9123 4568", "b")
    kept = register(client, "Wong Siu Ming", "5123 4567", "c")
    r = client.post(
        f"/api/v1/customers/{erased}/merge",
        json={"duplicate_id": merged},
        headers=auth("manager"),
    )
    assert r.status_code == 200, r.json
    r = client.post(
        f"/api/v1/customers/{erased}/erasure",
        json={"reason": "data subject request"},
        headers=auth("manager"),
    )
    assert r.status_code == 200, r.json

    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = topology.declare(conn.channel(), namespace)
    channel.confirm_delivery()
    letters = {"calls": ("erased", "kept"), "reporting": ("merged",)}
    ids = {"erased": erased, "merged": merged, "kept": kept}
    for service, which in letters.items():
        for name in which:
            channel.basic_publish(
                namespace.dead_letter_exchange,
                service,
                registered(ids[name], f"{name} person"),
                pika.BasicProperties(message_id=name),
            )
    conn.close()
    wait_for(lambda: queue_depth(amqp_url, namespace.dead_letter_queue("calls")) == 2, 20)
    wait_for(lambda: queue_depth(amqp_url, namespace.dead_letter_queue("reporting")) == 1, 20)

    ctx = app.extensions["rapport"]
    [job] = [j for j in periodic.jobs(ctx.settings, ctx.db) if j.name == "dead-letter-erasure"]
    assert job.run(datetime.now(UTC)) == 2
    assert job.run(datetime.now(UTC)) == 0

    calls = held(amqp_url, namespace, "calls")
    assert calls["erased"]["name"] == "[erased]" and calls["erased"]["phone"] is None
    assert calls["kept"]["name"] == "kept person" and calls["kept"]["phone"] == "+85291234567"
    reporting = held(amqp_url, namespace, "reporting")
    assert reporting["merged"]["name"] == "[erased]"
    assert reporting["merged"]["customer_id"] == merged
