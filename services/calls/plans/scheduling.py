"""Scheduling: turn a plan's recurrence into call rows for every customer it
targets over a horizon, idempotently, in bulk, consent-gated and capped.

The rows go in in transactions of about ``ROWS_PER_TRANSACTION`` so that a run over
a large segment never holds the database's write lock for long; each transaction
writes its calls and their ``call.scheduled`` events together (``scheduled_calls``:
time-ordered keys, one bulk insert through the driver per table). A run that fails
half-way leaves whole chunks behind, and running it again fills in the rest. The
event handlers use ``materialise`` for one customer inside their own unit of work.

The recurrence, windows and holidays are worked out once per run (``due_slots``: no
slot depends on the customer), and each chunk asks the database three set-based
questions (existing calls, consent, and the cap's nearby calls if there is a cap).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import insert, or_, select, text

from services.calls.calls.tables import HOLDS_SLOT, Call
from services.calls.customers import consent
from services.calls.customers.tables import Customer
from services.calls.db import new_id
from services.calls.plans import policy, recurrence, scheduled_calls, windows
from services.calls.plans.plans import MAX_CALLS_PER_CUSTOMER, get_plan
from services.calls.plans.scheduled_calls import Slot
from services.calls.plans.tables import CallPlan
from shared.clock import utcnow
from shared.errors import Conflict, Invalid
from shared.messaging.unit_of_work import UnitOfWork

ROWS_PER_TRANSACTION = 10_000
NOT_CALLED = ("archived", "erased", "merged")
COUNTS = ("created", "existing", "no_consent", "capped")


class Stale(Exception):
    """The plan changed (a new version, paused, ended) while a run was planning it."""


def schedule_plan(
    uow, plan_id: str, horizon_days: int | None = None, now: datetime | None = None
) -> dict:
    """Create the plan's missing calls due in [now, now + horizon] (the plan's own
    horizon unless one is given). A run that finds the plan changed under it stops:
    the next run plans what the new version asks for."""
    plan = get_plan(uow, plan_id)
    if plan.status != "active":
        raise Conflict(f"the call plan is {plan.status}: it plans no calls")
    now = now or utcnow()
    slots = due_slots(plan, now, now + timedelta(days=horizon_days or plan.horizon_days))
    totals = Counter()
    if slots:
        cap = policy.current(uow)
        per_chunk = max(1, ROWS_PER_TRANSACTION // len(slots))
        try:
            for chunk in _chunks(_targets(uow, plan), per_chunk):
                with uow() as work:
                    totals += materialise(work, plan, chunk, slots, now, cap)
        except Stale:
            pass
    return {name: totals[name] for name in COUNTS}


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def due_slots(
    plan: CallPlan, start: datetime, end: datetime, limit: int = MAX_CALLS_PER_CUSTOMER
) -> list[Slot]:
    """The plan's occurrences in [start, end], each moved into a calling window."""
    try:
        found = recurrence.occurrences(plan.rrule, plan.timezone, plan.starts_at, start, end, limit)
    except recurrence.TooManyOccurrences:
        why = (
            f"This plan gives more than {MAX_CALLS_PER_CUSTOMER} calls per customer "
            "over this horizon; choose a shorter one."
        )
        raise Invalid(
            "the horizon gives too many calls per customer", errors={"horizon_days": [why]}
        ) from None
    slots = {}
    for occurrence in found:
        try:
            due, window_end = windows.place(
                occurrence, plan.timezone, plan.windows, plan.allow_holidays
            )
        except windows.NeverOpens:
            continue
        if plan.ends_at is None or due <= plan.ends_at:
            slots.setdefault(due, window_end)
    return sorted(slots.items())


def targets_query(plan: CallPlan):
    who = []
    if plan.segments:
        who.append(Customer.segment.in_(plan.segments))
    if plan.customer_ids:
        who.append(Customer.customer_id.in_(plan.customer_ids))
    return (
        select(Customer.customer_id, Customer.segment)
        .where(or_(*who), Customer.lifecycle_status.not_in(NOT_CALLED))
        .order_by(Customer.customer_id)
    )


def _targets(uow, plan: CallPlan) -> list[tuple[str, str]]:
    with uow.reader() as session:
        return [tuple(row) for row in session.execute(targets_query(plan))]


def targets(plan: CallPlan, customer: Customer) -> bool:
    return customer.lifecycle_status not in NOT_CALLED and (
        customer.segment in plan.segments or customer.customer_id in plan.customer_ids
    )


def materialise(
    work: UnitOfWork,
    plan: CallPlan,
    customers: list[tuple[str, str]],
    slots: list[Slot],
    now: datetime,
    cap=None,
) -> Counter:
    """Insert the calls these (sorted) customers lack for these slots."""
    # Concurrent runs of one plan take turns, so neither inserts what the other did;
    # a run holding an older version of the plan stops before planning for it.
    current = work.session.execute(
        select(CallPlan.version, CallPlan.status).where(CallPlan.id == plan.id).with_for_update()
    ).one()
    if tuple(current) != (plan.version, "active"):
        raise Stale(plan.id)
    ids = [customer_id for customer_id, _ in customers]
    have = _existing(work, plan.id, ids, slots)
    ok = consent.allowed(work.session, ids, plan.channel, plan.purpose)
    near = policy.booked(work.session, ids, slots[0][0], cap) if cap else None
    counts, picks = Counter(), []
    for customer_id, segment in customers:
        consented = customer_id in ok
        for slot, (due, _) in enumerate(slots):
            if (customer_id, due) in have:
                counts["existing"] += 1
            elif not consented:
                counts["no_consent"] += 1
            elif cap and not policy.fits(near[customer_id], due, cap):
                counts["capped"] += 1
            else:
                picks.append((customer_id, segment, slot))
                if cap:
                    near[customer_id].append(due)
    scheduled_calls.write(work, plan, slots, picks, now)
    counts["created"] += len(picks)
    return counts


def _existing(
    work: UnitOfWork, plan_id: str, customers: list[str], slots: list[Slot]
) -> set[tuple[str, datetime]]:
    """One query for the chunk: a range over the (plan, customer, due) unique index.

    No upper bound on ``due_at`` (a later call is simply not a slot of this run): with
    a range on both columns, PostgreSQL's generic plan for the prepared statement,
    made before ``calls`` has statistics, could as well take the (plan, due) index
    and read every call of the plan for each chunk, which made a run quadratic. Calls
    cancelled by a plan change free their slot: the index's own predicate, in the
    same words, so that PostgreSQL can use that partial index."""
    query = select(Call.customer_id, Call.due_at).where(
        Call.plan_id == plan_id,
        Call.customer_id.between(customers[0], customers[-1]),
        Call.due_at >= slots[0][0],
        text(HOLDS_SLOT),
    )
    return {(customer, due_at) for customer, due_at in work.session.execute(query)}


EVENT_ONLY = ("segment", "max_gap_days")  # on the call.scheduled event, not the call's row


def call_row(
    plan: CallPlan,
    customer_id: str,
    due_at: datetime,
    window_end: datetime,
    now: datetime,
    segment: str | None = None,
    **extra,
) -> dict:
    return {
        "id": new_id(),
        "plan_id": plan.id,
        "customer_id": customer_id,
        "channel": plan.channel,
        "due_at": due_at,
        "status": "scheduled",
        "priority": plan.priority,
        "created_at": now,
        "plan_version": plan.version,
        "purpose": plan.purpose,
        "window_end": window_end,
        "kind": "planned",
        "attempt": 0,
        "for_role": "agent",
        "segment": segment,
        "max_gap_days": recurrence.longest_gap_days(plan.rrule, plan.timezone, plan.starts_at, now),
        **extra,
    }


def insert_calls(work: UnitOfWork, rows: list[dict]) -> None:
    """A few calls of any kind (re-plans, follow-ups) and their ``call.scheduled``
    events, each in one Core executemany; scheduling runs use ``scheduled_calls``."""
    connection = work.session.connection()
    connection.execute(
        insert(Call.__table__),
        [{k: v for k, v in row.items() if k not in EVENT_ONLY} for row in rows],
    )
    emit_scheduled(work, rows)


def emit_scheduled(work: UnitOfWork, rows: list[dict]) -> None:
    """The rows' ``call.scheduled`` events, in one bulk insert."""
    work.emit_many(
        "call.scheduled",
        (
            {
                "call_id": row["id"],
                "plan_id": row["plan_id"],
                "customer_id": row["customer_id"],
                "channel": row["channel"],
                "due_at": row["due_at"],
                "segment": row["segment"],
                "plan_version": row["plan_version"],
                "purpose": row["purpose"],
                "priority": row["priority"],
                "window_end": row["window_end"],
                "max_gap_days": row.get("max_gap_days"),
            }
            for row in rows
        ),
    )
