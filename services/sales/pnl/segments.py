"""The segment each customer's P&L counts under (``pnl_segments``).

A segment's P&L is that of the customers in it now, history included (the
definition reporting uses too): every summary row of a customer carries the
customer's segment as last heard (newest event wins), ``unknown`` until the
customer is heard of; a merged customer's rows are the survivor's and carry its
segment. So when the segment changes, ``booking.resegment`` moves the rows.

Booking and moving both lock the customer's row here first, in customer order:
a booking waits for a move of its customer to commit (and then reads the new
segment), a move waits for the bookings under way (and then moves their rows
too). A customer's row is created on first need, inserted-or-nothing, so two
transactions meeting a new customer do not both insert it. The row of a merged
customer only serves as its lock: its entries are booked under its survivor.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.sales.customers.tables import Customer
from services.sales.pnl.tables import PnlSegment

UNKNOWN = "unknown"
_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
_CHUNK = 500  # ids per IN (...)


def locked(session: Session, customer_ids, new: dict | None = None) -> dict[str, str]:
    """Each customer's P&L segment, its row locked for this transaction. A missing
    row is inserted with ``new``'s segment for it, else the customer's known one
    (``unknown`` if none)."""
    ids = sorted(set(customer_ids))
    found = _lock(session, ids)
    missing = [c for c in ids if c not in found]
    if missing:
        new, known = new or {}, _known(session, missing)
        session.connection().execute(
            _insert_if_absent(session.get_bind().dialect.name),
            [{"customer_id": c, "segment": new.get(c) or known.get(c) or UNKNOWN} for c in missing],
        )
        found.update(_lock(session, missing))
    return found


def _lock(session: Session, ids: list[str]) -> dict[str, str]:
    found = {}
    for start in range(0, len(ids), _CHUNK):  # in key order: writers cannot deadlock here
        found.update(
            session.connection()
            .execute(
                select(PnlSegment.customer_id, PnlSegment.segment)
                .where(PnlSegment.customer_id.in_(ids[start : start + _CHUNK]))
                .order_by(PnlSegment.customer_id)
                .with_for_update()
            )
            .all()
        )
    return found


def change(session: Session, customer_id: str, segment: str) -> None:
    """Record the segment the customer's rows were just moved to (its row locked)."""
    session.connection().execute(
        update(PnlSegment).where(PnlSegment.customer_id == customer_id).values(segment=segment)
    )


def _known(session: Session, ids: list[str]) -> dict[str, str]:
    found = {}
    for start in range(0, len(ids), _CHUNK):
        found.update(
            session.execute(
                select(Customer.customer_id, Customer.segment).where(
                    Customer.customer_id.in_(ids[start : start + _CHUNK])
                )
            ).all()
        )
    return found


@cache
def _insert_if_absent(dialect: str):
    return (
        _INSERTS[dialect](PnlSegment)
        .values(customer_id=bindparam("customer_id"), segment=bindparam("segment"))
        .on_conflict_do_nothing(index_elements=["customer_id"])
    )
