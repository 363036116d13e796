"""Call plan use cases and call reads; scheduling and outcomes have their own modules."""
from __future__ import annotations

from datetime import timezone

from sqlalchemy import select, tuple_

from services.calls import recurrence
from services.calls.models import Call, CallPlan
from shared.errors import Invalid, NotFound
from shared.messaging.tables import utcnow
from shared.web.pagination import decode_time_cursor, page


def create_plan(uow, data: dict) -> CallPlan:
    now = utcnow()
    starts_at = (data["starts_at"] or now).astimezone(timezone.utc)
    # Calls are planned to the minute: seconds of "now" must not leak into due times.
    starts_at = starts_at.replace(second=0, microsecond=0)
    rule = recurrence.normalise(data["rrule"])
    if recurrence.first(rule, data["timezone"], starts_at) is None:
        raise Invalid("the recurrence rule never occurs",
                      errors={"rrule": ["The rule has no occurrence from starts_at on."]})
    with uow() as work:
        plan = CallPlan(**{**data, "rrule": rule, "starts_at": starts_at}, created_at=now)
        work.session.add(plan)
    return plan


def get_plan(uow, plan_id: str) -> CallPlan:
    with uow.reader() as session:
        plan = session.get(CallPlan, plan_id)
    if plan is None:
        raise NotFound(f"no call plan {plan_id}")
    return plan


def list_plans(uow, limit: int, cursor: str | None) -> dict:
    query = select(CallPlan).order_by(CallPlan.created_at, CallPlan.id).limit(limit + 1)
    after = decode_time_cursor(cursor)
    if after:
        query = query.where(tuple_(CallPlan.created_at, CallPlan.id) > after)
    with uow.reader() as session:
        rows = list(session.scalars(query))
    return page(rows, limit, lambda p: (p.created_at.isoformat(), p.id))


def get_call(uow, call_id: str) -> Call:
    with uow.reader() as session:
        call = session.get(Call, call_id)
    if call is None:
        raise NotFound(f"no call {call_id}")
    return call


def list_calls(uow, filters: dict, limit: int, cursor: str | None) -> dict:
    """Calls by due time, optionally of one customer, plan or status."""
    query = select(Call).order_by(Call.due_at, Call.id).limit(limit + 1)
    for name in ("customer_id", "plan_id", "status"):
        if filters.get(name):
            query = query.where(getattr(Call, name) == filters[name])
    after = decode_time_cursor(cursor)
    if after:
        query = query.where(tuple_(Call.due_at, Call.id) > after)
    with uow.reader() as session:
        rows = list(session.scalars(query))
    return page(rows, limit, lambda c: (c.due_at.isoformat(), c.id))

