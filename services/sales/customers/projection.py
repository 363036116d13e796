"""What the sales service knows of customers, kept from customer events.

Registrations and updates keep the segment and name (the newest event wins, by
its time, whatever the order of arrival); the customer's P&L history moves to a
new segment with it, in the same transaction (``booking.resegment``), so a segment's
P&L is that of the customers in it now, whichever of a sale and the update came
first. A merge makes the merged customer an alias of the survivor: its ledger
rows stay as written, its deals and its P&L move to the survivor, under the
survivor's segment. An erasure forgets the name and its deals' free text (title,
lost reason); the ledger keeps the id (sales records are kept for accounting, and
hold no other personal data).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from services.sales.customers.tables import Customer, CustomerAlias
from services.sales.db import IdempotencyKey, Outbox
from services.sales.deals.tables import Deal
from services.sales.pnl import booking
from shared.messaging.erasure import scrub_outbox
from shared.messaging.unit_of_work import UnitOfWork
from shared.web import idempotency


def customer_seen(work: UnitOfWork, data: dict, at: datetime) -> None:
    """customer.registered / customer.updated: insert or refresh, newest wins."""
    session = work.session
    known = session.get(Customer, data["customer_id"], with_for_update=True)
    if known is None:
        known = Customer(
            customer_id=data["customer_id"],
            segment=data["segment"],
            name=data.get("name"),
            as_of=at,
            erased=False,
        )
        session.add(known)
    elif known.as_of is not None and at < known.as_of:
        return
    else:
        known.segment, known.as_of = data["segment"], at
        if data.get("name") and not known.erased:
            known.name = data["name"]
    if session.get(CustomerAlias, known.customer_id) is None:  # else its P&L is the survivor's
        booking.resegment(session, known.customer_id, known.segment)


def customer_merged(work: UnitOfWork, data: dict) -> None:
    merged, survivor = data["merged_id"], data["survivor_id"]
    session = work.session
    if merged == survivor or session.get(CustomerAlias, merged) is not None:
        return
    # Increments deferred in this transaction count under the customers of before
    # the merge, and are then moved with the rest.
    booking.book_pending(session)
    session.execute(
        update(CustomerAlias)
        .where(CustomerAlias.survivor_id == merged)
        .values(survivor_id=survivor)
    )
    session.add(CustomerAlias(merged_id=merged, survivor_id=survivor, merged_at=data["merged_at"]))
    session.flush()
    session.execute(update(Deal).where(Deal.customer_id == merged).values(customer_id=survivor))
    booking.merge(session, merged, survivor)
    kept = session.get(Customer, survivor, with_for_update=True)
    if (
        data.get("segment")
        and kept is not None
        and (kept.as_of is None or data["merged_at"] >= kept.as_of)
    ):
        kept.segment, kept.as_of = data["segment"], data["merged_at"]
        booking.resegment(session, survivor, kept.segment)


def customer_erased(work: UnitOfWork, data: dict) -> None:
    """Forget the name (of the profiles merged into it too), the free text of its
    deals, the personal fields of its events in the outbox and the stored answers
    about it (a replay is then 410 Gone)."""
    ids = [data["customer_id"], *data.get("merged_ids", [])]
    for customer_id in ids:
        known = work.session.get(Customer, customer_id)
        if known is not None:
            known.name, known.erased = None, True
    work.session.execute(
        update(Deal).where(Deal.customer_id.in_(ids)).values(title=None, lost_reason=None)
    )
    scrub_outbox(work.session, Outbox, ids)
    idempotency.forget(work.session, IdempotencyKey, ids)


def known_ids(session, ids: set[str]) -> set[str]:
    return set(session.scalars(select(Customer.customer_id).where(Customer.customer_id.in_(ids))))
