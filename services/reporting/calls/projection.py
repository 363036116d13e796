"""A call's plan folded into the activity read models: scheduled, assigned,
cancelled and missed calls, and the helpers the outcome's projection shares
(``outcomes``).

A planned call counts on its local due day under its current assignment: an
assignment (or a re-schedule) moves the count from the old bucket to the new one,
so the cube holds the same whatever order the events arrive in. Missed calls count
under the dimensions their event carries. Every activity count is also kept per
agent (``agent_cube``, agent ``""`` for a call no one holds): a key may name its
``agent_id``, which only that table is keyed by.
"""

from __future__ import annotations

import json
from datetime import date
from functools import cache

from sqlalchemy.orm import Session

from services.reporting.agents.tables import AgentCube
from services.reporting.calls.tables import ActivityCube, ActivityDay, CallState
from services.reporting.customers import overdue
from services.reporting.relationships.tables import CustomerYtd
from services.reporting.store import year_to_date
from services.reporting.store.counters import Rollup, add_to, local_day
from services.reporting.store.locked_rows import insert_if_absent, row_for_update

UNKNOWN = "unknown"
RANKS = {"scheduled": 1, "missed": 2, "cancelled": 3, "completed": 4}


def dims(data: dict, state: CallState | None = None) -> dict:
    """The report dimensions of ``data``, each missing one taken from the call's
    ``state`` where given (an event's own, for every completed call, without it)."""
    get = data.get
    if state is not None:

        def get(name):
            value = data.get(name)
            return getattr(state, name, None) if value is None else value

    return {
        "segment": get("segment") or UNKNOWN,
        "channel": get("channel") or UNKNOWN,
        "team": get("team") or "",
        "agent_kind": get("agent_kind") or "",
        "partner_id": get("partner_id") or "",
    }


def agent_of(data: dict, state: CallState | None = None) -> dict:
    """The agent a count goes to: the event's, else the call's holder, else ""."""
    return {"agent_id": data.get("agent_id") or (state.agent_id if state else "") or ""}


def call_state(session: Session, call_id: str, customer_id: str) -> CallState:
    return row_for_update(
        session,
        CallState,
        {"call_id": call_id},
        customer_id=customer_id,
        team="",
        agent_kind="",
        partner_id="",
        agent_id="",
        status="unknown",
        rank=0,
    )


def _planned_key(state: CallState, zone) -> dict | None:
    """Where the call counts: planned, or once cancelled as cancelled (so a cancelled
    call too counts under its last assignment, whether that came before or after)."""
    if state.due_at is None:
        return None
    count = "cancelled" if state.status == "cancelled" else "planned"
    return {
        "day": local_day(state.due_at, zone),
        **dims({}, state),
        **agent_of({}, state),
        "count": count,
    }


def _move_planned(session: Session, state: CallState, zone, change) -> None:
    """Apply ``change`` to the state, then move its planned count if its key moved."""
    old = _as_key(json.loads(state.planned_key)) if state.planned_key else None
    change()
    new = _planned_key(state, zone)
    new_text = json.dumps(new, default=str, sort_keys=True) if new else None
    if new_text == state.planned_key:
        return
    if old:
        _count_planned(session, state, old, -1)
    if new:
        _count_planned(session, state, new, 1)
    state.planned_key = new_text


def _count_planned(session: Session, state: CallState, key: dict, sign: int) -> None:
    key = dict(key)
    count = key.pop("count", "planned")  # keys stored before cancellations moved
    activity(session, key, {count: sign})
    if count == "planned":
        customer_month(session, state.customer_id, key["day"], planned=sign)


def activity(session: Session, key: dict, amounts: dict, agent_only: dict | None = None) -> None:
    """Add to the agent's activity, and so to the activity cube (the agents' summed)
    and its day totals over every dimension; ``agent_only``: more of the agent's
    counts (``agent_cube``'s alone), added to its row by the same write."""
    cube = {name: value for name, value in key.items() if name != "agent_id"}
    if agent_only:
        rollups = _activity_rollups(tuple(cube), tuple(amounts))
        amounts = {**amounts, **agent_only}
    else:
        rollups = _activity_rollups(tuple(cube))
    add_to(session, AgentCube, {**cube, "agent_id": key.get("agent_id") or ""}, amounts, rollups)


@cache
def _activity_rollups(keys: tuple, names: tuple = ()) -> tuple:
    """The activity cube and day totals an agent's row adds to (of ``names`` only,
    if given); one tuple per shape, not one per call."""
    return (Rollup(ActivityCube, keys, names=names), Rollup(ActivityDay, ("day",), names=names))


def _as_key(stored: dict) -> dict:
    return {**stored, "day": date.fromisoformat(stored["day"])}


def customer_month(session, customer_id, day, **amounts) -> None:
    """Add to the customer's year-to-date calls and signals from ``day``'s month."""
    year_to_date.add(session, CustomerYtd, {"customer_id": customer_id}, day, amounts)


def advance(state: CallState, status: str) -> bool:
    if RANKS[status] < state.rank:
        return False
    state.status, state.rank = status, RANKS[status]
    return True


def call_scheduled(session: Session, event, zone) -> None:
    data = event.payload
    if _scheduled_first(session, data, zone):
        return
    state = call_state(session, data["call_id"], data["customer_id"])

    def change():
        state.due_at, state.channel = data["due_at"], data["channel"]
        state.segment = data.get("segment") or state.segment
        state.plan_id, state.max_gap_days = data["plan_id"], data.get("max_gap_days")
        if state.rank == 0:
            state.status, state.rank = "scheduled", RANKS["scheduled"]

    _move_planned(session, state, zone, change)
    overdue.mark(session, state.customer_id)


def _scheduled_first(session: Session, data: dict, zone) -> bool:
    """The usual case, nothing heard of the call before: the row is inserted
    whole, as the general path below would leave it, with no update after."""
    state = CallState(
        call_id=data["call_id"],
        customer_id=data["customer_id"],
        channel=data["channel"],
        segment=data.get("segment"),
        due_at=data["due_at"],
        team="",
        agent_kind="",
        partner_id="",
        agent_id="",
        assigned_at=None,
        status="scheduled",
        rank=RANKS["scheduled"],
        plan_id=data["plan_id"],
        max_gap_days=data.get("max_gap_days"),
    )
    key = _planned_key(state, zone)
    state.planned_key = json.dumps(key, default=str, sort_keys=True)
    if not insert_if_absent(session, state):
        return False
    _count_planned(session, state, key, 1)
    overdue.mark(session, state.customer_id)
    return True


def call_assigned(session: Session, event, zone) -> None:
    data = event.payload
    state = call_state(session, data["call_id"], data["customer_id"])
    if state.assigned_at is not None and data["assigned_at"] < state.assigned_at:
        return  # an older assignment arriving late

    def change():
        state.assigned_at = data["assigned_at"]
        state.team, state.agent_kind = data.get("team") or "", data["agent_kind"]
        state.partner_id = data.get("partner_id") or ""
        state.agent_id = data["agent_id"]

    _move_planned(session, state, zone, change)


def call_cancelled(session: Session, event, zone) -> None:
    data = event.payload
    state = call_state(session, data["call_id"], data["customer_id"])
    _move_planned(session, state, zone, lambda: advance(state, "cancelled"))
    overdue.mark(session, state.customer_id)


def call_missed(session: Session, event, zone) -> None:
    data = event.payload
    state = call_state(session, data["call_id"], data["customer_id"])
    if state.due_at is None:
        _move_planned(session, state, zone, lambda: setattr(state, "due_at", data["due_at"]))
    advance(state, "missed")
    activity(
        session,
        {"day": local_day(data["due_at"], zone), **dims(data), **agent_of(data)},
        {"missed": 1},
    )
    overdue.mark(session, state.customer_id)


PROJECTIONS = {
    ("call.scheduled", 1): call_scheduled,
    ("call.assigned", 1): call_assigned,
    ("call.missed", 1): call_missed,
    ("call.cancelled", 1): call_cancelled,
}
