"""The local projection of customers, kept from customer events.

Events may arrive late or out of order: each row remembers the time of the newest
event applied to it, and an older event never overwrites what a newer one set.
Gaps found on a profile may arrive before the customer itself (the customer service
finds them while registering): they wait in ``early_gaps`` until the row is made.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from services.calls.customers.tables import Customer, EarlyGaps

PROFILE = ("name", "phone", "preferred_language")
# Current values an event may carry (optional in the contracts): absent means unknown.
CONTEXT = ("email", "address", "relationship_score", "satisfaction_trend", "external_ref")


def apply_registered(session: Session, payload: dict, at: datetime) -> None:
    """Insert the customer, or bring a row an earlier-delivered update made up to date."""
    customer = session.get(Customer, payload["customer_id"])
    if customer is not None and customer.lifecycle_status == "erased":
        return  # a late copy of the profile must not bring the person back
    if customer is None:
        customer = Customer(
            customer_id=payload["customer_id"],
            segment=payload["segment"],
            lifecycle_status=payload["lifecycle_status"],
            updated_at=at,
            gaps=[],
            **{name: payload[name] for name in PROFILE},
            **{name: payload.get(name) for name in CONTEXT},
        )
        session.add(customer)
        _adopt_early_gaps(session, customer)
        return
    if customer.updated_at > at:
        # A newer update got here first: keep what it set, fill in what it did not know.
        for name in (*PROFILE, *CONTEXT):
            if getattr(customer, name) is None:
                setattr(customer, name, payload.get(name))
        return
    for name in (*PROFILE, "segment", "lifecycle_status"):
        setattr(customer, name, payload[name])
    for name in CONTEXT:
        setattr(customer, name, payload.get(name))
    customer.updated_at = at


def apply_updated(session: Session, payload: dict, at: datetime) -> str | None:
    """Move the customer to its new segment and apply the changed fields known here;
    an update for a customer not seen yet creates it from what the event has.
    Answers the segment it had before, or None if the event was stale."""
    customer = session.get(Customer, payload["customer_id"])
    if customer is None:
        customer = Customer(
            customer_id=payload["customer_id"],
            lifecycle_status="active",
            segment=payload["segment"],
            gaps=[],
        )
        session.add(customer)
        _adopt_early_gaps(session, customer)
        before = None
    elif customer.updated_at > at or customer.lifecycle_status == "erased":
        return None
    else:
        before = customer.segment
    customer.segment = payload["segment"]
    for name, value in _known_changes(payload).items():
        setattr(customer, name, value)
    customer.updated_at = at
    return before


def _known_changes(payload: dict) -> dict:
    """The changed fields this projection keeps: ``changes`` maps a field to its old
    and new value; the contract's optional top-level fields are current values."""
    changes = payload["changes"] or {}
    known = {}
    for name in (*PROFILE, "lifecycle_status"):
        new = (changes.get(name) or {}).get("new")
        if name in changes and (new is None or isinstance(new, str)):
            known[name] = new
    for name in ("name", "preferred_language", "lifecycle_status"):
        if payload.get(name):
            known[name] = payload[name]
    for name in CONTEXT:  # current values when the producer sends them
        if name in payload and (payload[name] is not None or name in changes):
            known[name] = payload[name]
    return known


def apply_erased(session: Session, customer_id: str, at: datetime) -> None:
    """Keep only what calls needs to stay consistent: the id and that it is gone."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        customer = Customer(customer_id=customer_id, segment="", updated_at=at)
        session.add(customer)
    for name in (*PROFILE, *CONTEXT):
        setattr(customer, name, None)
    customer.gaps = []
    early = session.get(EarlyGaps, customer_id)
    if early is not None:
        session.delete(early)
    customer.lifecycle_status = "erased"
    customer.updated_at = max(customer.updated_at or at, at)


def apply_gaps(session: Session, customer_id: str, missing: list[str], at: datetime) -> None:
    """The customer's gaps become the ones found at ``at``, unless a newer finding is
    already applied; for a customer not seen yet they wait in ``early_gaps``."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        early = session.get(EarlyGaps, customer_id)
        if early is None:
            session.add(
                EarlyGaps(customer_id=customer_id, missing=sorted(set(missing)), detected_at=at)
            )
        elif early.detected_at <= at:
            early.missing, early.detected_at = sorted(set(missing)), at
        return
    if customer.lifecycle_status == "erased" or (customer.gaps_at and customer.gaps_at > at):
        return
    customer.gaps, customer.gaps_at = sorted(set(missing)), at


def _adopt_early_gaps(session: Session, customer: Customer) -> None:
    with session.no_autoflush:  # the new row is not complete yet
        early = session.get(EarlyGaps, customer.customer_id)
    if early is not None:
        customer.gaps, customer.gaps_at = list(early.missing), early.detected_at
        session.delete(early)
