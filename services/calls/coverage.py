"""Coverage compliance: for each customer a plan targets, the days since its last
qualified contact (a completed call on which the customer was spoken to) against
the longest gap its plans allow (the tightest plan wins)."""
from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import func, select

from services.calls import recurrence
from services.calls.models import Call, CallPlan, Customer
from services.calls.scheduling import NOT_CALLED
from shared.errors import Invalid
from shared.messaging.tables import utcnow
from shared.web.pagination import decode_cursor, encode_cursor

# Outcomes on which the customer was actually spoken to.
QUALIFIED = ("reached", "callback_requested", "not_interested", "interested",
             "sale_opportunity", "complaint", "do_not_call_requested")
_PERIOD_DAYS = {"DAILY": 1, "WEEKLY": 7, "MONTHLY": 31, "YEARLY": 366}


def required_days(plan: CallPlan, now: datetime) -> int:
    """The longest gap between two of the plan's next occurrences, in whole days."""
    start = max(now, plan.starts_at)
    due = recurrence.next_n(plan.rrule, plan.timezone, plan.starts_at, start, 13)
    if len(due) < 2:
        parts = dict(p.split("=") for p in plan.rrule.split(";"))
        return _PERIOD_DAYS[parts["FREQ"]] * int(parts.get("INTERVAL", 1))
    gap = max(b - a for a, b in zip(due, due[1:]))
    return max(1, math.ceil(gap / timedelta(days=1)))


def coverage(uow, filters: dict, limit: int, cursor: str | None) -> dict:
    now = utcnow()
    after = (decode_cursor(cursor, 1) or [""])[0]
    if not isinstance(after, str):
        raise Invalid("the cursor is not one this API issued",
                      errors={"cursor": ["not a valid cursor"]})
    items: list[dict] = []
    with uow.reader() as session:
        plans = [(p, required_days(p, now)) for p in session.scalars(select(CallPlan))]
        while len(items) <= limit:
            customers = _customers(session, filters, after, 500)
            if not customers:
                break
            last = _last_contacts(session, [c.customer_id for c in customers])
            for customer in customers:
                row = _row(customer, plans, last.get(customer.customer_id), now)
                if row and not (filters.get("overdue") and row["compliant"]):
                    items.append(row)
            after = customers[-1].customer_id
    more = len(items) > limit
    items = items[:limit]
    return {"items": items,
            "next_cursor": encode_cursor(items[-1]["customer_id"]) if more else None}


def _customers(session, filters: dict, after: str, size: int) -> list[Customer]:
    query = (select(Customer).where(Customer.customer_id > after,
                                    Customer.lifecycle_status.not_in(NOT_CALLED))
             .order_by(Customer.customer_id).limit(size))
    for name in ("customer_id", "segment"):
        if filters.get(name):
            query = query.where(getattr(Customer, name) == filters[name])
    return list(session.scalars(query))


def _last_contacts(session, ids: list[str]) -> dict[str, datetime]:
    query = (select(Call.customer_id, func.max(Call.completed_at))
             .where(Call.customer_id.in_(ids), Call.status == "completed",
                    Call.outcome.in_(QUALIFIED))
             .group_by(Call.customer_id))
    return {customer: at for customer, at in session.execute(query)}


def _row(customer: Customer, plans, last: datetime | None, now: datetime) -> dict | None:
    required = [days for plan, days in plans
                if customer.segment in plan.segments or customer.customer_id in plan.customer_ids]
    if not required:
        return None
    days = min(required)
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=now.tzinfo)
    since = (now - last) / timedelta(days=1) if last else None
    return {"customer_id": customer.customer_id, "segment": customer.segment,
            "required_days": days, "last_contact_at": last,
            "days_since_contact": round(since, 2) if since is not None else None,
            "due_by": last + timedelta(days=days) if last else None,
            "compliant": since is not None and since <= days}
