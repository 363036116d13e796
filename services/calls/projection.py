"""The local projection of customers, kept from customer events.

Events may arrive late or out of order: each row remembers the time of the newest
event applied to it, and an older event never overwrites what a newer one set.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from services.calls.models import Customer

PROFILE = ("name", "phone", "preferred_language")


def apply_registered(session: Session, payload: dict, at: datetime) -> None:
    """Insert the customer, or bring a row an earlier-delivered update made up to date."""
    customer = session.get(Customer, payload["customer_id"])
    if customer is None:
        session.add(Customer(customer_id=payload["customer_id"], segment=payload["segment"],
                             lifecycle_status=payload["lifecycle_status"], updated_at=at,
                             **{name: payload[name] for name in PROFILE}))
        return
    if customer.updated_at > at:
        # A newer update got here first: keep what it set, fill in what it did not know.
        for name in PROFILE:
            if getattr(customer, name) is None:
                setattr(customer, name, payload[name])
        return
    for name in (*PROFILE, "segment", "lifecycle_status"):
        setattr(customer, name, payload[name])
    customer.updated_at = at


def apply_updated(session: Session, payload: dict, at: datetime) -> None:
    """Move the customer to its new segment and apply the changed fields known here;
    an update for a customer not seen yet creates it from what the event has."""
    customer = session.get(Customer, payload["customer_id"])
    if customer is None:
        customer = Customer(customer_id=payload["customer_id"], lifecycle_status="active")
        session.add(customer)
    elif customer.updated_at > at:
        return
    customer.segment = payload["segment"]
    for name, value in _known_changes(payload).items():
        setattr(customer, name, value)
    customer.updated_at = at


def _known_changes(payload: dict) -> dict:
    """The changed fields this projection keeps: ``changes`` maps a field to its new
    value; the contract's optional ``name`` is the current name."""
    changes = payload["changes"]
    known = {name: changes[name] for name in PROFILE
             if name in changes and (changes[name] is None or isinstance(changes[name], str))}
    if isinstance(changes.get("lifecycle_status"), str):
        known["lifecycle_status"] = changes["lifecycle_status"]
    if payload.get("name"):
        known["name"] = payload["name"]
    return known
