"""Scheduling: turn a plan's recurrence into call rows for every customer of its
segment over a horizon, idempotently and in bulk.

The rows go in in transactions of about ``ROWS_PER_TRANSACTION`` so that a run over
a large segment never holds the database's write lock for long; each transaction
writes its calls and their ``call.scheduled`` events together. A run that fails
half-way leaves whole chunks behind, and running it again fills in the rest.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, select

from services.calls import recurrence
from services.calls.models import Call, CallPlan, Customer, new_id
from services.calls.services import get_plan
from shared.errors import Invalid
from shared.messaging.tables import utcnow
from shared.messaging.unit_of_work import UnitOfWork

ROWS_PER_TRANSACTION = 10_000
MAX_CALLS_PER_CUSTOMER = 1_000
NOT_CALLED = ("archived",)


def schedule_plan(uow, plan_id: str, horizon_days: int) -> dict:
    """Create the plan's missing calls due in [now, now + horizon]."""
    plan = get_plan(uow, plan_id)
    now = utcnow()
    due = _due_times(plan, now, now + timedelta(days=horizon_days))
    created = existing = 0
    if due:
        per_chunk = max(1, ROWS_PER_TRANSACTION // len(due))
        for chunk in _chunks(_targets(uow, plan.segment), per_chunk):
            new = _schedule_chunk(uow, plan, chunk, due, now)
            created, existing = created + new, existing + len(chunk) * len(due) - new
    return {"created": created, "existing": existing}


def _chunks(items: list[str], size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _due_times(plan: CallPlan, start: datetime, end: datetime) -> list[datetime]:
    try:
        return recurrence.occurrences(plan.rrule, plan.timezone, plan.starts_at, start, end,
                                      MAX_CALLS_PER_CUSTOMER)
    except recurrence.TooManyOccurrences:
        why = (f"This plan gives more than {MAX_CALLS_PER_CUSTOMER} calls per customer "
               "over this horizon; choose a shorter one.")
        raise Invalid("the horizon gives too many calls per customer",
                      errors={"horizon_days": [why]}) from None


def _targets(uow, segment: str) -> list[str]:
    query = (select(Customer.customer_id)
             .where(Customer.segment == segment, Customer.lifecycle_status.not_in(NOT_CALLED))
             .order_by(Customer.customer_id))
    with uow.reader() as session:
        return list(session.scalars(query))


def _schedule_chunk(uow, plan: CallPlan, customers: list[str], due: list[datetime],
                    now: datetime) -> int:
    with uow() as work:
        # Concurrent runs of one plan take turns, so neither inserts what the other did.
        work.session.execute(select(CallPlan.id).where(CallPlan.id == plan.id).with_for_update())
        have = _existing(work, plan.id, customers, due)
        rows = [_call_row(plan, customer, at, now) for customer in customers for at in due
                if (customer, at) not in have]
        if rows:
            work.session.execute(insert(Call), rows)
            _emit_scheduled(work, plan, rows)
    return len(rows)


def _existing(work: UnitOfWork, plan_id: str, customers: list[str],
              due: list[datetime]) -> set[tuple[str, datetime]]:
    """One query for the chunk: a range over the (plan, customer, due) unique index."""
    query = select(Call.customer_id, Call.due_at).where(
        Call.plan_id == plan_id, Call.customer_id.between(customers[0], customers[-1]),
        Call.due_at.between(due[0], due[-1]))
    return {(customer, due_at) for customer, due_at in work.session.execute(query)}


def _call_row(plan: CallPlan, customer_id: str, due_at: datetime, now: datetime) -> dict:
    return {"id": new_id(), "plan_id": plan.id, "customer_id": customer_id,
            "channel": plan.channel, "due_at": due_at, "status": "scheduled",
            "priority": plan.priority, "created_at": now}


def _emit_scheduled(work: UnitOfWork, plan: CallPlan, rows: list[dict]) -> None:
    """One bulk insert for the chunk's events: a run of a million calls could not
    hold an object per event."""
    work.emit_many("call.scheduled", ({
        "call_id": row["id"], "plan_id": plan.id, "customer_id": row["customer_id"],
        "channel": plan.channel, "due_at": row["due_at"], "segment": plan.segment,
    } for row in rows))
