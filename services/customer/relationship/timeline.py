"""Reading a customer's timeline: its calls, sales, returns, cancellations and
referrals, newest first, including those of profiles merged into it. The entries
are written as events arrive (``relationship``, ``prospects``)."""

from __future__ import annotations

from sqlalchemy import select, tuple_

from services.customer.profiles.reads import absorbed_ids
from services.customer.profiles.tables import Customer
from services.customer.relationship.tables import Activity
from shared.errors import NotFound
from shared.web.pagination import decode_time_cursor, page


def list_activities(uow, customer_id: str, limit: int, cursor: str | None) -> dict:
    """The timeline, newest first, including profiles merged into this one."""
    with uow.reader() as session:
        if session.get(Customer, customer_id) is None:
            raise NotFound(f"no customer {customer_id}")
        query = (
            select(Activity)
            .where(Activity.customer_id.in_(absorbed_ids(session, customer_id)))
            .order_by(Activity.occurred_at.desc(), Activity.id.desc())
            .limit(limit + 1)
        )
        before = decode_time_cursor(cursor)
        if before:
            query = query.where(tuple_(Activity.occurred_at, Activity.id) < before)
        rows = list(session.scalars(query))
    return page(rows, limit, lambda a: (a.occurred_at.isoformat(), a.id))
