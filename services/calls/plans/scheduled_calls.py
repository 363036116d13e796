"""Writing a scheduling chunk: its calls and their ``call.scheduled`` events, in the
unit of work's transaction, each table in one bulk insert (``shared.bulk_writes``).

The calls and events get time-ordered keys (``shared.ids``), so they append to the
indexes; every value that repeats across the chunk (the plan's fields, the due
times and window ends, the creation time) is converted to the driver's form once.
"""

from __future__ import annotations

from datetime import datetime

from services.calls.calls.tables import Call
from services.calls.db import Outbox
from services.calls.plans import recurrence
from services.calls.plans.tables import CallPlan
from shared.bulk_writes import driver_value, insert_prepared
from shared.ids import ordered_ids
from shared.messaging import outbox
from shared.messaging.unit_of_work import UnitOfWork

Slot = tuple[datetime, datetime]  # (due at, end of its window)

# What differs from one call of a chunk to the next, then what the chunk shares.
OWN = ("id", "customer_id", "due_at", "window_end")
SHARED = (
    "plan_id",
    "channel",
    "priority",
    "plan_version",
    "purpose",
    "created_at",
    "status",
    "kind",
    "attempt",
    "for_role",
)
# (customer id, segment, index of its slot)
Pick = tuple[str, str | None, int]


def write(
    work: UnitOfWork, plan: CallPlan, slots: list[Slot], picks: list[Pick], now: datetime
) -> None:
    """A planned call of ``plan`` for each pick, and its event."""
    if not picks:
        return
    connection = work.session.connection()
    column = Call.__table__.c
    shared = tuple(
        driver_value(connection, column[name], value)
        for name, value in zip(
            SHARED,
            (
                plan.id,
                plan.channel,
                plan.priority,
                plan.version,
                plan.purpose,
                now,
                "scheduled",
                "planned",
                0,
                "agent",
            ),
        )
    )
    times = [
        (
            driver_value(connection, column.due_at, due),
            driver_value(connection, column.window_end, end),
        )
        for due, end in slots
    ]
    call_ids = ordered_ids(len(picks))
    insert_prepared(
        connection,
        Call.__table__,
        OWN + SHARED,
        (
            (call_id, customer_id) + times[slot] + shared
            for call_id, (customer_id, _, slot) in zip(call_ids, picks)
        ),
    )
    _write_events(work, plan, slots, picks, call_ids, now)


def _write_events(
    work: UnitOfWork,
    plan: CallPlan,
    slots: list[Slot],
    picks: list[Pick],
    call_ids: list[str],
    now: datetime,
) -> None:
    """The calls' ``call.scheduled`` events, made as the driver reads them."""
    connection = work.session.connection()
    created = driver_value(connection, Outbox.__table__.c.created_at, now)
    policy = recurrence.longest_gap_days(plan.rrule, plan.timezone, plan.starts_at, now)
    payloads = (
        {
            "call_id": call_id,
            "plan_id": plan.id,
            "customer_id": customer_id,
            "channel": plan.channel,
            "due_at": slots[slot][0],
            "segment": segment,
            "plan_version": plan.version,
            "purpose": plan.purpose,
            "priority": plan.priority,
            "window_end": slots[slot][1],
            "max_gap_days": policy,
        }
        for call_id, (customer_id, segment, slot) in zip(call_ids, picks)
    )
    rows = outbox.values(
        outbox.Origin.current(work.producer), "call.scheduled", payloads, now, created=created
    )
    insert_prepared(connection, Outbox.__table__, outbox.COLUMNS, rows)
