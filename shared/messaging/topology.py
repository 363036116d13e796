"""The broker topology, declared in one place.

One durable topic exchange for every event; one quorum queue per consuming
service bound to the routing keys its handlers subscribe to; a dead-letter
exchange with one dead-letter queue per service. Declaring is idempotent, and
both relays and consumers declare everything on start, so no event is unroutable
just because its consumer has not started yet.
"""
from __future__ import annotations

from dataclasses import dataclass

# Routing keys each consuming service binds; a service's handlers may subscribe to
# nothing outside its list (checked when its consumer starts and by a contract test).
BINDINGS: dict[str, tuple[str, ...]] = {
    "customer": ("call.completed.v1", "sale.recorded.v1", "sale.returned.v1",
                 "sale.cancelled.v1", "subject.export_contributed.v1"),
    "calls": ("customer.registered.v1", "customer.updated.v1", "customer.merged.v1",
              "customer.consent_changed.v1", "customer.opted_out.v1",
              "customer.erased.v1", "customer.gaps_detected.v1",
              "subject.export_requested.v1"),
    "sales": ("customer.registered.v1", "customer.updated.v1", "customer.merged.v1",
              "customer.erased.v1", "call.completed.v1", "subject.export_requested.v1"),
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


def queue_arguments(names: Names, service: str, delivery_limit: int) -> dict:
    return {
        "x-queue-type": "quorum",
        # 3.10 has no default delivery limit: without one a poison message loops forever.
        "x-delivery-limit": delivery_limit,
        "x-dead-letter-exchange": names.dead_letter_exchange,
        "x-dead-letter-routing-key": service,
        # Dead-lettering is at-most-once unless both of these are set.
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }


def declare(channel, names: Names, delivery_limit: int = 5,
            bindings: dict[str, tuple[str, ...]] = BINDINGS) -> None:
    """Declare the whole topology on a pika blocking channel."""
    channel.exchange_declare(names.exchange, exchange_type="topic", durable=True)
    channel.exchange_declare(names.dead_letter_exchange, exchange_type="direct", durable=True)
    for service, keys in bindings.items():
        dlq = names.dead_letter_queue(service)
        channel.queue_declare(dlq, durable=True, arguments={"x-queue-type": "quorum"})
        channel.queue_bind(dlq, names.dead_letter_exchange, routing_key=service)
        queue = names.queue(service)
        channel.queue_declare(queue, durable=True,
                              arguments=queue_arguments(names, service, delivery_limit))
        for key in keys:
            channel.queue_bind(queue, names.exchange, routing_key=key)


def delete(channel, names: Names, bindings: dict[str, tuple[str, ...]] = BINDINGS) -> None:
    """Remove a namespace's topology (tests and benchmarks clean up after themselves)."""
    for service in bindings:
        channel.queue_delete(names.queue(service))
        channel.queue_delete(names.dead_letter_queue(service))
    channel.exchange_delete(names.exchange)
    channel.exchange_delete(names.dead_letter_exchange)
