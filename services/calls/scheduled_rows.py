"""Writing a scheduling chunk: its calls and their ``call.scheduled`` events, in the
unit of work's transaction, each table in one bulk insert (``shared.bulk_writes``).

The calls and events get time-ordered keys (``shared.ids``), so they append to the
indexes; every value that repeats across the chunk (the plan's fields, the due
times and window ends, the creation time) is converted to the driver's form once.
"""
from __future__ import annotations

from datetime import datetime

from services.calls import scheduled_events
from services.calls.models import Call, CallPlan, Outbox
from services.calls.scheduled_events import Slot
from shared.bulk_writes import driver_value, insert_prepared
from shared.ids import ordered_ids
from shared.messaging.unit_of_work import UnitOfWork

# What differs from one call of a chunk to the next, then what the chunk shares.
OWN = ("id", "customer_id", "due_at", "window_end")
SHARED = ("plan_id", "channel", "priority", "plan_version", "purpose", "created_at", "status",
          "kind", "attempt", "for_role")
# (customer id, segment, index of its slot)
Pick = tuple[str, str | None, int]


def write(work: UnitOfWork, plan: CallPlan, slots: list[Slot], picks: list[Pick],
          now: datetime) -> None:
    """A planned call of ``plan`` for each pick, and its event."""
    if not picks:
        return
    connection = work.session.connection()
    column = Call.__table__.c
    shared = tuple(driver_value(connection, column[name], value) for name, value in zip(SHARED, (
        plan.id, plan.channel, plan.priority, plan.version, plan.purpose, now, "scheduled",
        "planned", 0, "agent")))
    times = [(driver_value(connection, column.due_at, due),
              driver_value(connection, column.window_end, end)) for due, end in slots]
    call_ids = ordered_ids(len(picks))
    insert_prepared(connection, Call.__table__, OWN + SHARED, (
        (call_id, customer_id) + times[slot] + shared
        for call_id, (customer_id, _, slot) in zip(call_ids, picks)))
    _write_events(work, plan, slots, picks, call_ids, now)


def _write_events(work: UnitOfWork, plan: CallPlan, slots: list[Slot], picks: list[Pick],
                  call_ids: list[str], now: datetime) -> None:
    connection = work.session.connection()
    created = driver_value(connection, Outbox.__table__.c.created_at, now)
    calls = [(call_id, customer_id, segment, slot)
             for call_id, (customer_id, segment, slot) in zip(call_ids, picks)]
    rows = scheduled_events.outbox_rows(work.producer, plan, now, created, slots, calls,
                                        ordered_ids(len(calls)))
    insert_prepared(connection, Outbox.__table__, scheduled_events.COLUMNS, rows)
