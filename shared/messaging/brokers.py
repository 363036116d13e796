"""Where the broker is: one AMQP URL, or several (the nodes of a RabbitMQ cluster).

``RAPPORT_AMQP_URL`` may hold several URLs separated by commas, e.g.
``amqp://u:p@rmq-a:5672/%2F,amqp://u:p@rmq-b:5672/%2F,amqp://u:p@rmq-c:5672/%2F``.
Every connection tries them in order and keeps the first that answers; one lost
later is opened again the same way, so a client of a node that stops moves to
the next. Each URL keeps its own query options (``heartbeat``, timeouts).
"""

from __future__ import annotations

import pika


def urls(amqp_url: str) -> list[str]:
    """The URLs of ``amqp_url``, in order; a single URL is a list of one."""
    found = [part.strip() for part in amqp_url.split(",") if part.strip()]
    if not found:
        raise ValueError("no AMQP URL given")
    return found


def parameters(
    amqp_url: str, heartbeat: int | None = None, **overrides
) -> list[pika.URLParameters]:
    """Connection parameters for each URL (``heartbeat`` where the URL sets none,
    ``overrides`` set on every one), for ``pika.BlockingConnection``, which takes
    the list and tries each in turn."""
    found = []
    for url in urls(amqp_url):
        params = pika.URLParameters(url)
        if heartbeat is not None:
            params.heartbeat = params.heartbeat or heartbeat
        for name, value in overrides.items():
            setattr(params, name, value)
        found.append(params)
    return found


def connect(amqp_url: str, heartbeat: int | None = None, **overrides) -> pika.BlockingConnection:
    """A blocking connection to the first node of ``amqp_url`` that answers."""
    return pika.BlockingConnection(parameters(amqp_url, heartbeat, **overrides))


def where(params: pika.ConnectionParameters) -> str:
    """``host:port`` of one node, for messages (no credentials)."""
    return f"{params.host}:{params.port}"
