"""Coverage compliance per customer a plan targets, by the one definition in
``shared.coverage``: due again the tightest policy of its plans after its last
qualifying contact (never contacted: at its first planned call's due time),
compliant while not past that time."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from services.calls.calls.tables import Call
from services.calls.customers.tables import Customer
from services.calls.plans import recurrence
from services.calls.plans.scheduling import NOT_CALLED
from services.calls.plans.tables import CallPlan
from shared import coverage as rule
from shared.clock import utcnow
from shared.errors import Invalid
from shared.web.pagination import decode_cursor, encode_cursor


def required_days(plan: CallPlan, now: datetime) -> int:
    """The plan's policy: the longest gap between two of its next occurrences."""
    return recurrence.longest_gap_days(plan.rrule, plan.timezone, plan.starts_at, now)


def coverage(uow, filters: dict, limit: int, cursor: str | None) -> dict:
    now = utcnow()
    after = (decode_cursor(cursor, 1) or [""])[0]
    if not isinstance(after, str):
        raise Invalid(
            "the cursor is not one this API issued", errors={"cursor": ["not a valid cursor"]}
        )
    items: list[dict] = []
    with uow.reader() as session:
        plans = [(p, required_days(p, now)) for p in session.scalars(select(CallPlan))]
        while len(items) <= limit:
            customers = _customers(session, filters, after, 500)
            if not customers:
                break
            last, first = _contacts(session, [c.customer_id for c in customers])
            for customer in customers:
                row = _row(
                    customer,
                    plans,
                    last.get(customer.customer_id),
                    first.get(customer.customer_id),
                    now,
                )
                if row and not (filters.get("overdue") and row["compliant"]):
                    items.append(row)
            after = customers[-1].customer_id
    more = len(items) > limit
    items = items[:limit]
    return {
        "items": items,
        "next_cursor": encode_cursor(items[-1]["customer_id"]) if more else None,
    }


def _customers(session, filters: dict, after: str, size: int) -> list[Customer]:
    query = (
        select(Customer)
        .where(Customer.customer_id > after, Customer.lifecycle_status.not_in(NOT_CALLED))
        .order_by(Customer.customer_id)
        .limit(size)
    )
    for name in ("customer_id", "segment"):
        if filters.get(name):
            query = query.where(getattr(Customer, name) == filters[name])
    return list(session.scalars(query))


def _contacts(session, ids: list[str]) -> tuple[dict, dict]:
    """Each customer's last qualifying contact, and its first planned call's due time."""
    last = (
        select(Call.customer_id, func.max(Call.completed_at))
        .where(
            Call.customer_id.in_(ids), Call.status == "completed", Call.outcome.in_(rule.QUALIFYING)
        )
        .group_by(Call.customer_id)
    )
    first = (
        select(Call.customer_id, func.min(Call.due_at))
        .where(Call.customer_id.in_(ids), Call.status != "cancelled", Call.due_at.is_not(None))
        .group_by(Call.customer_id)
    )
    return dict(session.execute(last).all()), dict(session.execute(first).all())


def _row(
    customer: Customer, plans, last: datetime | None, first: datetime | None, now: datetime
) -> dict | None:
    required = [
        days
        for plan, days in plans
        if customer.segment in plan.segments or customer.customer_id in plan.customer_ids
    ]
    if not required:
        return None
    days = min(required)
    last, first = _aware(last, now), _aware(first, now)
    since = (now - last) / timedelta(days=1) if last else None
    due = rule.due_by(last, days, first)
    return {
        "customer_id": customer.customer_id,
        "segment": customer.segment,
        "required_days": days,
        "last_contact_at": last,
        "days_since_contact": round(since, 2) if since is not None else None,
        "due_by": due,
        "compliant": rule.compliant(due, now),
    }


def _aware(when: datetime | None, now: datetime) -> datetime | None:
    return when.replace(tzinfo=now.tzinfo) if when is not None and when.tzinfo is None else when
