"""The outbox, relay, consumer and inbox against the real RabbitMQ.

Every test runs on SQLite and PostgreSQL, in a broker namespace of its own.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import pika
import pytest
from sqlalchemy import distinct, func, select

from shared.config import Settings
from shared.entrypoints import build_dispatcher
from shared.messaging.consumer import Consumer
from shared.messaging.relay import Relay
from shared.metrics import metrics_for
from shared.testing import wait_for
from tests.shared import messaging_app as m
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.integration


@pytest.fixture
def db(database_url):
    db = m.make_db(database_url)
    yield db
    db.dispose()


@contextmanager
def running(worker):
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        stop.set()
        thread.join(20)


def relay(db, amqp_url, names, **kw):
    return Relay(m.SERVICE, db, m.Outbox, amqp_url, names, **kw)


def consumer(db, amqp_url, names, prefetch=50, delivery_limit=2, **kw):
    settings = Settings.from_env(m.SERVICE, {"DEV_MODE": "1", "DATABASE_URL": db.url})
    dispatcher = build_dispatcher(settings, db, m.Outbox, m.Inbox, m.SUBSCRIPTIONS)
    return Consumer(
        m.SERVICE,
        dispatcher,
        amqp_url,
        names,
        prefetch=prefetch,
        delivery_limit=delivery_limit,
        **kw,
    )


def applied(db) -> tuple[int, int]:
    with db.reader() as s:
        return (
            s.scalar(select(func.count()).select_from(m.Applied)),
            s.scalar(select(func.count(distinct(m.Applied.event_id)))),
        )


def pending(db) -> int:
    with db.reader() as s:
        return s.scalar(
            select(func.count()).select_from(m.Outbox).where(m.Outbox.sent_at.is_(None))
        )


def queue_depth(amqp_url, queue) -> int:
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        return conn.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        conn.close()


def test_every_outbox_row_is_delivered_and_applied_once(db, amqp_url, namespace):
    m.emit_calls(db, 1200)
    with (
        running(relay(db, amqp_url, namespace, batch_size=500)),
        running(consumer(db, amqp_url, namespace)),
    ):
        wait_for(lambda: applied(db) == (1200, 1200), 30, message="1200 effects")
    assert pending(db) == 0


def _queued(db, amqp_url, names, n: int) -> None:
    """``n`` events waiting in the queue, no consumer yet."""
    m.emit_calls(db, n)
    with running(relay(db, amqp_url, names, batch_size=500)):
        wait_for(lambda: pending(db) == 0, 30, message="relayed")


def test_deferred_work_runs_once_the_queue_is_quiet(db, amqp_url, namespace):
    _queued(db, amqp_url, namespace, 600)
    seen = []  # what was applied each time the deferred work ran
    with running(
        consumer(db, amqp_url, namespace, idle=lambda: seen.append(applied(db)[0]), idle_every=3600)
    ):
        wait_for(lambda: seen, 30, message="the deferred work ran")
        time.sleep(1.5)  # quiet, with nothing new: it does not run again
        assert seen == [600]
        m.emit_calls(db, 5)
        with running(relay(db, amqp_url, namespace)):
            wait_for(lambda: len(seen) == 2, 15, message="it ran after the new events")
    assert seen == [600, 605]


def test_deferred_work_runs_during_a_backlog_and_a_failure_stops_nothing(db, amqp_url, namespace):
    _queued(db, amqp_url, namespace, 600)
    seen = []

    def idle():
        seen.append(applied(db)[0])
        if len(seen) == 1:
            raise RuntimeError("the deferred work failed")

    failed = metrics_for(m.SERVICE).deferred_failed
    failures = failed._value.get()
    with running(consumer(db, amqp_url, namespace, idle=idle, idle_every=0)):
        wait_for(lambda: seen and seen[-1] == 600, 30, message="all applied, then it ran")
    assert applied(db) == (600, 600)
    assert failed._value.get() == failures + 1
    assert len(seen) > 3 and seen[0] < 600  # after windows, not only at the end


def test_the_same_event_delivered_twice_changes_nothing_the_second_time(db, amqp_url, namespace):
    [_event_id] = m.emit_calls(db, 1)
    with running(relay(db, amqp_url, namespace)):
        wait_for(lambda: pending(db) == 0, 10, message="relayed")
    with db.reader() as s:
        body = s.scalar(select(m.Outbox.body))
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    conn.channel().basic_publish(namespace.exchange, "call.completed.v1", body.encode())
    conn.close()
    with running(consumer(db, amqp_url, namespace)):
        wait_for(
            lambda: queue_depth(amqp_url, namespace.queue(m.SERVICE)) == 0,
            10,
            message="queue drained",
        )
    assert applied(db) == (1, 1)


def test_a_handler_failing_every_time_is_dead_lettered_after_exactly_the_delivery_limit_of_attempts_with_its_reason_while_others_flow(  # noqa: E501
    db, amqp_url, namespace
):
    [poison] = m.emit_calls(db, 1, notes="poison")
    m.emit_calls(db, 50)
    m.POISONED.clear()
    with (
        running(relay(db, amqp_url, namespace)),
        running(consumer(db, amqp_url, namespace, delivery_limit=3)),
    ):
        wait_for(lambda: applied(db) == (50, 50), 20, message="the good events")
        dlq = namespace.dead_letter_queue(m.SERVICE)
        wait_for(lambda: queue_depth(amqp_url, dlq) == 1, 20, message="poison dead-lettered")
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    _method, props, body = conn.channel().basic_get(namespace.dead_letter_queue(m.SERVICE))
    conn.close()
    assert json.loads(body)["event_id"] == poison
    # Three deliveries; in a window of several, each is tried in the window's
    # transaction and again alone (shared.messaging.dispatcher), both rolled back.
    assert set(m.POISONED) == {poison} and 3 <= len(m.POISONED) <= 6
    # The consumer counted the failures and rejected it (the broker's own count is a
    # backstop for restarts, see shared.messaging.retries), carrying the last error.
    assert props.headers["x-death"][0]["reason"] == "rejected"
    assert props.headers["x-rapport-failures"] == 3
    assert props.headers["x-rapport-error"] == "RuntimeError: this event always fails"


def test_a_database_outage_keeps_events_instead_of_dead_lettering_them(db, amqp_url, namespace):
    m.emit_calls(db, 20)
    m.OUTAGE["until"] = time.monotonic() + 2  # far longer than 3 quick redeliveries take
    try:
        with running(relay(db, amqp_url, namespace)), running(consumer(db, amqp_url, namespace)):
            wait_for(lambda: applied(db) == (20, 20), 30, message="all applied after the outage")
    finally:
        m.OUTAGE["until"] = 0.0
    assert queue_depth(amqp_url, namespace.dead_letter_queue(m.SERVICE)) == 0


def test_malformed_and_unknown_messages(db, amqp_url, namespace):
    with running(consumer(db, amqp_url, namespace)) as c:
        wait_for(lambda: c.ready, 10, message="consumer connected")
        conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
        ch = conn.channel()
        ch.basic_publish(namespace.exchange, "call.completed.v1", b"not json at all")
        unknown = {
            "event_id": "9f0b1a8e-8d51-4a8f-9d43-3c1c1f8f5b11",
            "event_type": "call.teleported",
            "event_version": 1,
            "occurred_at": "2026-01-01T00:00:00+00:00",
            "producer": "x",
            "correlation_id": "x",
            "payload": {},
        }
        ch.queue_bind(namespace.queue(m.SERVICE), namespace.exchange, "call.teleported.v1")
        ch.basic_publish(namespace.exchange, "call.teleported.v1", json.dumps(unknown).encode())
        conn.close()
        wait_for(
            lambda: queue_depth(amqp_url, namespace.dead_letter_queue(m.SERVICE)) == 1,
            10,
            message="malformed message dead-lettered",
        )
        wait_for(
            lambda: queue_depth(amqp_url, namespace.queue(m.SERVICE)) == 0,
            10,
            message="unknown event acked",
        )
    assert applied(db) == (0, 0)


def test_broker_connections_dropped_mid_stream_lose_nothing_and_apply_once(db, amqp_url, namespace):
    proxy = TcpProxy()
    try:
        with (
            running(relay(db, proxy.url(), namespace, batch_size=100)),
            running(consumer(db, proxy.url(), namespace)),
        ):
            for round_ in range(4):
                m.emit_calls(db, 250)
                wait_for(lambda: applied(db)[0] > round_ * 250, 20, message="progress")
                proxy.cut()
                m.emit_calls(db, 250)  # written while the broker is unreachable
                proxy.restore()
            wait_for(lambda: applied(db) == (2000, 2000), 60, message="all 2000 effects once")
    finally:
        proxy.close()
    assert pending(db) == 0


def test_relay_killed_mid_batch_loses_no_event(db, amqp_url, namespace, tmp_path):
    ids = set(m.emit_calls(db, 20000))
    argv = [
        sys.executable,
        "-m",
        "tests.shared.messaging_app",
        db.url,
        amqp_url,
        namespace.namespace,
    ]
    first = subprocess.Popen(argv)
    try:
        wait_for(lambda: 0 < pending(db) < 15000, 30, interval=0.01, message="relay under way")
        first.send_signal(signal.SIGKILL)
        first.wait()
        left = pending(db)
        assert left > 0, "the relay finished before it could be killed"
    finally:
        if first.poll() is None:
            first.kill()
    second = subprocess.Popen(argv)
    try:
        wait_for(lambda: pending(db) == 0, 60, message="restarted relay drains the outbox")
    finally:
        second.terminate()
        second.wait(10)
    assert {
        json.loads(body)["event_id"] for body in drain(amqp_url, namespace.queue(m.SERVICE))
    } == ids


def drain(amqp_url, queue):
    """Every message now in ``queue``, consumed with a prefetch window (not one by one)."""
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    ch = conn.channel()
    ch.basic_qos(prefetch_count=1000)
    bodies = []
    for method, _props, body in ch.consume(queue, inactivity_timeout=1):
        if method is None:
            break
        bodies.append(body)
        ch.basic_ack(method.delivery_tag)
    ch.cancel()
    conn.close()
    return bodies
