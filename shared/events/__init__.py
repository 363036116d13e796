"""Event envelope and versioned contracts, defined once for producers and consumers."""

from shared.events.contracts import CONTRACTS, contract_for, json_schema, routing_key
from shared.events.envelope import EnvelopeError, Event, make_event, parse_event, to_wire

__all__ = [
    "CONTRACTS",
    "EnvelopeError",
    "Event",
    "contract_for",
    "json_schema",
    "make_event",
    "parse_event",
    "routing_key",
    "to_wire",
]
