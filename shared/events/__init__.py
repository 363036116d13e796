"""Event envelope and versioned contracts, defined once for producers and consumers."""
from shared.events.contracts import CONTRACTS, contract_for, json_schema, routing_key
from shared.events.envelope import Event, EnvelopeError, make_event, parse_event, to_wire

__all__ = ["Event", "EnvelopeError", "make_event", "parse_event", "to_wire", "CONTRACTS",
           "contract_for", "json_schema", "routing_key"]
