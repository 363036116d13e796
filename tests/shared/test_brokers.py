"""Several broker URLs: clients connect to the first node that answers."""

from __future__ import annotations

import pika
import pytest

from deploy.launcher import broker_problem, free_ports
from shared.messaging import brokers, topology
from shared.messaging.publisher import ConfirmingPublisher, Message, PublishError


def dead_url() -> str:
    """A URL where nothing listens (a stopped node)."""
    return f"amqp://guest:guest@127.0.0.1:{free_ports(1)[0]}/%2F"


def test_urls_are_split_on_commas_and_keep_their_own_options():
    many = brokers.parameters(
        "amqp://u:p@a:5701/%2F?heartbeat=7, amqp://u:p@b:5702/%2F,", heartbeat=30, socket_timeout=2
    )
    assert [(p.host, p.port, p.heartbeat, p.socket_timeout) for p in many] == [
        ("a", 5701, 7, 2),
        ("b", 5702, 30, 2),
    ]
    assert brokers.urls("amqp://x/") == ["amqp://x/"]
    with pytest.raises(ValueError):
        brokers.urls(" , ")


@pytest.mark.integration
def test_a_blocking_connection_skips_a_node_that_is_down(amqp_url):
    conn = brokers.connect(f"{dead_url()},{amqp_url}")
    try:
        assert conn.is_open
    finally:
        conn.close()
    assert broker_problem(f"{dead_url()},{amqp_url}") is None
    problem = broker_problem(f"{dead_url()},{dead_url()}")
    assert (
        problem.startswith("RabbitMQ is not reachable at 127.0.0.1:")
        and problem.count("127.0.0.1:") == 2
    )


@pytest.mark.integration
def test_the_publisher_skips_a_node_that_is_down_and_confirms_there(amqp_url, namespace):
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    topology.declare(conn.channel(), namespace, {"customer": ("t.#",)})
    publisher = ConfirmingPublisher(f"{dead_url()},{amqp_url}", namespace.exchange)
    publisher.connect()
    try:
        confirmed, failed = publisher.publish_batch(
            [Message(1, "m-1", "t.one", b"{}"), Message(2, "m-2", "t.two", b"{}")]
        )
        assert (confirmed, failed) == ([1, 2], [])
        depth = conn.channel().queue_declare(namespace.queue("customer"), passive=True)
        assert depth.method.message_count == 2
    finally:
        publisher.close()
        topology.delete(conn.channel(), namespace, {"customer": ("t.#",)})
        conn.close()


def test_the_publisher_reports_when_no_node_answers():
    publisher = ConfirmingPublisher(f"{dead_url()},{dead_url()}", "x", connect_timeout=3)
    with pytest.raises(PublishError):
        publisher.connect()
