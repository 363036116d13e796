"""Event envelope and versioned contracts, defined once for producers and consumers."""
from shared.events.envelope import Event, EnvelopeError, make_event, parse_event
from shared.events.contracts import CONTRACTS, contract_for, routing_key

__all__ = ["Event", "EnvelopeError", "make_event", "parse_event", "CONTRACTS",
           "contract_for", "routing_key"]
