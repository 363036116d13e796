"""The broker topology, declared in one place.

One durable topic exchange for every event; one quorum queue per consuming
service bound to the routing keys its handlers subscribe to; a dead-letter
exchange with one dead-letter queue per service. Declaring is idempotent, and
both relays and consumers declare everything on start, so no event is unroutable
just because its consumer has not started yet.

The queues' ``x-delivery-limit`` is a backstop, not the retry budget: RabbitMQ 3.10
counts every return of a message, a consumer's restart or lost connection as much
as a requeue, so it would spend the budget of good messages a consumer merely held.
Consumers count handler failures themselves (``shared.messaging.retries``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pika

log = logging.getLogger(__name__)

# Returns of one message the broker tolerates before dead-lettering it: only a
# message that kills its consumer before any verdict gets there (consumers take
# redelivered messages one at a time, so a crash loop returns that one alone).
BROKER_DELIVERY_LIMIT = 50

# Routing keys each consuming service binds; a service's handlers may subscribe to
# nothing outside its list (checked when its consumer starts and by a contract test).
BINDINGS: dict[str, tuple[str, ...]] = {
    "customer": (
        "call.completed.v1",
        "sale.recorded.v1",
        "sale.returned.v1",
        "sale.cancelled.v1",
        "subject.export_contributed.v1",
    ),
    "calls": (
        "customer.registered.v1",
        "customer.updated.v1",
        "customer.merged.v1",
        "customer.consent_changed.v1",
        "customer.opted_out.v1",
        "customer.erased.v1",
        "customer.gaps_detected.v1",
        "subject.export_requested.v1",
        "call.assigned.v1",
        "call.cancelled.v1",
        "followup.created.v1",
    ),
    "sales": (
        "customer.registered.v1",
        "customer.updated.v1",
        "customer.merged.v1",
        "customer.erased.v1",
        "call.completed.v1",
        "subject.export_requested.v1",
    ),
    "reporting": ("#",),
}


@dataclass(frozen=True)
class Names:
    namespace: str = "rapport"

    @property
    def exchange(self) -> str:
        return f"{self.namespace}.events"

    @property
    def dead_letter_exchange(self) -> str:
        return f"{self.namespace}.dead-letter"

    def queue(self, service: str) -> str:
        return f"{self.namespace}.{service}"

    def dead_letter_queue(self, service: str) -> str:
        return f"{self.namespace}.{service}.dead-letter"


def queue_arguments(names: Names, service: str) -> dict:
    return {
        "x-queue-type": "quorum",
        # 3.10 has no default delivery limit: without one a message that kills its
        # consumer loops forever.
        "x-delivery-limit": BROKER_DELIVERY_LIMIT,
        "x-dead-letter-exchange": names.dead_letter_exchange,
        "x-dead-letter-routing-key": service,
        # Dead-lettering is at-most-once unless both of these are set.
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }


def declare(channel, names: Names, bindings: dict[str, tuple[str, ...]] = BINDINGS):
    """Declare the whole topology on a pika blocking channel; return an open channel
    of the same connection (a new one if the broker closed the one given)."""
    channel.exchange_declare(names.exchange, exchange_type="topic", durable=True)
    channel.exchange_declare(names.dead_letter_exchange, exchange_type="direct", durable=True)
    for service, keys in bindings.items():
        dlq = names.dead_letter_queue(service)
        channel.queue_declare(dlq, durable=True, arguments={"x-queue-type": "quorum"})
        channel.queue_bind(dlq, names.dead_letter_exchange, routing_key=service)
        queue = names.queue(service)
        channel = _declare_queue(channel, queue, queue_arguments(names, service))
        for key in keys:
            channel.queue_bind(queue, names.exchange, routing_key=key)
    return channel


def _declare_queue(channel, queue: str, arguments: dict):
    """A queue declared earlier with other arguments (an older delivery limit) makes
    the broker close the channel (406 PRECONDITION_FAILED); it is kept as it is, and
    the log says how to move it to the new arguments."""
    try:
        channel.queue_declare(queue, durable=True, arguments=arguments)
        return channel
    except pika.exceptions.ChannelClosedByBroker as exc:
        if exc.reply_code != 406:
            raise
        channel = channel.connection.channel()
        channel.queue_declare(queue, passive=True)
        log.warning(
            "queue %s exists with other arguments than %s (%s); keeping it. To migrate: "
            "stop its consumers and relays, let it drain (or move its messages with a "
            "shovel), delete it (rabbitmqctl delete_queue %s) and start them again: they "
            "declare it anew",
            queue,
            arguments,
            exc.reply_text,
            queue,
        )
        return channel


def delete(channel, names: Names, bindings: dict[str, tuple[str, ...]] = BINDINGS) -> None:
    """Remove a namespace's topology (tests and benchmarks clean up after themselves)."""
    for service in bindings:
        channel.queue_delete(names.queue(service))
        channel.queue_delete(names.dead_letter_queue(service))
    channel.exchange_delete(names.exchange)
    channel.exchange_delete(names.dead_letter_exchange)
