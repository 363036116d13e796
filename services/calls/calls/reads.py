"""Call reads: one call, lists of calls, an agent's queue."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, tuple_

from services.calls.bounds import fits
from services.calls.calls.findings import checklist
from services.calls.calls.tables import Call
from services.calls.customers.tables import Customer
from shared import clock
from shared.errors import Invalid, NotFound
from shared.web.pagination import decode_cursor, decode_time_cursor, encode_cursor, page


def get_call(uow, call_id: str) -> Call:
    with uow.reader() as session:
        call = session.get(Call, call_id)
    if call is None:
        raise NotFound(f"no call {call_id}")
    return call


def list_calls(uow, filters: dict, limit: int, cursor: str | None) -> dict:
    """Calls by due time, optionally of one customer, plan or status."""
    query = select(Call).order_by(Call.due_at, Call.id).limit(limit + 1)
    for name in ("customer_id", "plan_id", "status", "agent_id", "partner_id"):
        if filters.get(name):
            query = query.where(getattr(Call, name) == filters[name])
    if filters.get("unassignable"):
        query = query.where(
            Call.status == "scheduled", Call.agent_id.is_(None), Call.unassigned_reason.is_not(None)
        )
    after = decode_time_cursor(cursor)
    if after:
        query = query.where(tuple_(Call.due_at, Call.id) > after)
    with uow.reader() as session:
        rows = list(session.scalars(query))
    return page(rows, limit, lambda c: (c.due_at.isoformat(), c.id))


# The queue's views: "due" is due within the next day (or already), "overdue" is past
# its due time and still open.
QUEUE_VIEWS = ("all", "due", "overdue", "callbacks", "escalations")
DUE_AHEAD = timedelta(days=1)


def queue(uow, caller, limit: int, cursor: str | None, show: str = "all") -> dict:
    """The caller's own open calls by due time, then priority: an agent's assigned
    calls; for a manager, also the escalations no one has taken. ``show`` narrows
    it to one of ``QUEUE_VIEWS``."""

    mine = Call.agent_id == caller.subject
    if caller.role in ("manager", "admin"):
        mine = or_(mine, (Call.for_role == "manager") & Call.agent_id.is_(None))
    query = (
        select(Call)
        .where(Call.status == "scheduled", mine, *_view(show))
        .order_by(Call.due_at, Call.priority, Call.id)
        .limit(limit + 1)
    )
    after = decode_cursor(cursor, 3)
    if after:
        query = query.where(tuple_(Call.due_at, Call.priority, Call.id) > _queue_key(after))
    with uow.reader() as session:
        calls = list(session.scalars(query))
        items = [_queue_item(session, call, checklist(session, call)) for call in calls[:limit]]
    more = len(calls) > limit
    last = calls[limit - 1] if more else None
    return {
        "items": items,
        "next_cursor": encode_cursor(last.due_at.isoformat(), last.priority, last.id)
        if more
        else None,
    }


def _view(show: str) -> list:
    now = clock.now()
    return {
        "all": [],
        "due": [Call.due_at <= now + DUE_AHEAD],
        "overdue": [Call.due_at < now],
        "callbacks": [Call.kind == "callback"],
        "escalations": [Call.kind == "escalation"],
    }[show]


def _queue_key(key: list):
    try:
        when = datetime.fromisoformat(key[0])
        if when.tzinfo is None or not fits(key[1]) or not isinstance(key[2], str):
            raise ValueError
    except (TypeError, ValueError):
        raise Invalid(
            "the cursor is not one this API issued", errors={"cursor": ["not a valid cursor"]}
        ) from None
    return when, key[1], key[2]


def _queue_item(session, call: Call, items: list) -> dict:
    customer = session.get(Customer, call.customer_id)
    return {
        "call": call,
        "checklist": items,
        "items_to_confirm": list(customer.gaps or []) if customer else [],
        "customer": {
            "customer_id": call.customer_id,
            "name": customer.name if customer else None,
            "phone": customer.phone if customer else None,
            "preferred_language": customer.preferred_language if customer else None,
            "segment": customer.segment if customer else None,
        },
    }
