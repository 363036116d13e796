"""Call events folded into the activity, findings and customer read models.

A planned call counts on its local due day under its current assignment: an
assignment (or a re-schedule) moves the count from the old bucket to the new one,
so the cube holds the same whatever order the events arrive in. Completed and
missed calls count under the dimensions their event carries.
"""
from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.reporting.increments import add_to, local_day, month_of, row_for_update
from services.reporting.models_facts import (ActivityCube, CallState, CompetitorDaily,
                                             CustomerFacts, CustomerMonth, FindingsCube,
                                             ScoreCube)

UNKNOWN = "unknown"
# Outcomes where nobody was reached; every other outcome is a contact.
NOT_CONTACTED = frozenset({"no_answer", "busy", "wrong_number"})
RANKS = {"scheduled": 1, "missed": 2, "cancelled": 3, "completed": 4}


def dims(data: dict, state: CallState | None = None) -> dict:
    def pick(name):
        value = data.get(name)
        if value is None and state is not None:
            value = getattr(state, name, None)
        return value or ""
    return {"segment": pick("segment") or UNKNOWN, "channel": pick("channel") or UNKNOWN,
            "team": pick("team"), "agent_kind": pick("agent_kind"),
            "partner_id": pick("partner_id")}


def call_state(session: Session, call_id: str, customer_id: str) -> CallState:
    return row_for_update(session, CallState, {"call_id": call_id}, customer_id=customer_id,
                          team="", agent_kind="", partner_id="", status="unknown", rank=0)


def _planned_key(state: CallState, zone) -> dict | None:
    if state.due_at is None or state.status in ("cancelled",):
        return None
    return {"day": local_day(state.due_at, zone), **dims({}, state)}


def _move_planned(session: Session, state: CallState, zone, change) -> None:
    """Apply ``change`` to the state, then move its planned count if its key moved."""
    old = _as_key(json.loads(state.planned_key)) if state.planned_key else None
    change()
    new = _planned_key(state, zone)
    new_text = json.dumps(new, default=str, sort_keys=True) if new else None
    if new_text == state.planned_key:
        return
    if old:
        add_to(session, ActivityCube, old, {"planned": -1})
        _month(session, state.customer_id, old["day"], planned=-1)
    if new:
        add_to(session, ActivityCube, new, {"planned": 1})
        _month(session, state.customer_id, new["day"], planned=1)
    state.planned_key = new_text


def _as_key(stored: dict) -> dict:
    return {**stored, "day": date.fromisoformat(stored["day"])}


def _month(session, customer_id, day, **amounts) -> None:
    add_to(session, CustomerMonth, {"customer_id": customer_id, "month": month_of(day)}, amounts)


def _advance(state: CallState, status: str) -> bool:
    if RANKS[status] < state.rank:
        return False
    state.status, state.rank = status, RANKS[status]
    return True


def call_scheduled(session: Session, event, zone) -> None:
    data = event.payload
    state = call_state(session, data["call_id"], data["customer_id"])

    if state.status == "cancelled" and state.due_at is None:  # the cancel came first
        add_to(session, ActivityCube, {"day": local_day(data["due_at"], zone),
                                       **dims(data, state)}, {"cancelled": 1})

    def change():
        state.due_at, state.channel = data["due_at"], data["channel"]
        state.segment = data.get("segment") or state.segment
        if state.rank == 0:
            state.status, state.rank = "scheduled", RANKS["scheduled"]
    _move_planned(session, state, zone, change)
    refresh_overdue(session, state.customer_id)


def call_assigned(session: Session, event, zone) -> None:
    data = event.payload
    state = call_state(session, data["call_id"], data["customer_id"])
    if state.assigned_at is not None and data["assigned_at"] < state.assigned_at:
        return  # an older assignment arriving late

    def change():
        state.assigned_at = data["assigned_at"]
        state.team, state.agent_kind = data.get("team") or "", data["agent_kind"]
        state.partner_id = data.get("partner_id") or ""
    _move_planned(session, state, zone, change)


def call_cancelled(session: Session, event, zone) -> None:
    data = event.payload
    state = call_state(session, data["call_id"], data["customer_id"])
    if state.due_at is not None:
        add_to(session, ActivityCube, {"day": local_day(state.due_at, zone), **dims({}, state)},
               {"cancelled": 1})
    _move_planned(session, state, zone, lambda: _advance(state, "cancelled"))
    refresh_overdue(session, state.customer_id)


def call_missed(session: Session, event, zone) -> None:
    data = event.payload
    state = call_state(session, data["call_id"], data["customer_id"])
    if state.due_at is None:
        _move_planned(session, state, zone, lambda: setattr(state, "due_at", data["due_at"]))
    _advance(state, "missed")
    add_to(session, ActivityCube, {"day": local_day(data["due_at"], zone), **dims(data)},
           {"missed": 1})
    refresh_overdue(session, state.customer_id)


def call_completed(session: Session, event, zone) -> None:
    data = event.payload
    day = local_day(data["completed_at"], zone)
    key = {"day": day, **dims(data)}
    due = data.get("due_at")
    on_time = int(due is not None and day <= local_day(due, zone))
    add_to(session, ActivityCube, key, {"completed": 1, "on_time": on_time})
    add_to(session, FindingsCube, {**key, "outcome": data["outcome"]}, _findings(data))
    _scores(session, key, data)
    for name in data.get("competitor_mentions") or ():
        add_to(session, CompetitorDaily, {"day": day, "segment": key["segment"],
                                          "competitor": name[:120]}, {"mentions": 1})
    contacted = data["outcome"] not in NOT_CONTACTED
    _month(session, data["customer_id"], day, calls=1, contacts=int(contacted),
           **_signals(data))
    state = call_state(session, data["call_id"], data["customer_id"])
    _advance(state, "completed")
    facts = _facts(session, data, contacted)
    if facts.overdue_since is not None:  # with nothing owed, a completion changes nothing
        refresh_overdue(session, data["customer_id"])


def _findings(data: dict) -> dict:
    sat, prop, chk = data.get("satisfaction"), data.get("propensity"), \
        data.get("checklist_compliance")
    chk = None if chk is None else round(chk * 1000)
    out = {"calls": 1}
    for prefix, value in (("sat", sat), ("prop", prop), ("chk", chk)):
        out.update({f"{prefix}_n": int(value is not None), f"{prefix}_sum": value or 0,
                    f"{prefix}_sq": (value or 0) ** 2})
    return out


def _signals(data: dict) -> dict:
    sat, prop = data.get("satisfaction"), data.get("propensity")
    return {"sat_n": int(sat is not None), "sat_sum": sat or 0,
            "prop_n": int(prop is not None), "prop_sum": prop or 0}


def _scores(session, key, data) -> None:
    if data.get("satisfaction") is not None:
        add_to(session, ScoreCube, {**key, "measure": "satisfaction",
                                    "bucket": data["satisfaction"]}, {"count": 1})
    if data.get("propensity") is not None:
        add_to(session, ScoreCube, {**key, "measure": "propensity",
                                    "bucket": min(data["propensity"] // 10, 9)}, {"count": 1})


def customer_facts(session: Session, customer_id: str) -> CustomerFacts:
    return row_for_update(session, CustomerFacts, {"customer_id": customer_id})


def _later(new, old) -> bool:
    return old is None or new >= old


def _facts(session, data: dict, contacted: bool) -> CustomerFacts:
    facts = customer_facts(session, data["customer_id"])
    at = data["completed_at"]
    if _later(at, facts.last_call_at):
        facts.last_call_at = at
    if contacted and _later(at, facts.last_contact_at):
        facts.last_contact_at, facts.last_outcome = at, data["outcome"]
    if data.get("propensity") is not None and _later(at, facts.last_propensity_at):
        facts.last_propensity, facts.last_propensity_at = data["propensity"], at
    return facts


def refresh_overdue(session: Session, customer_id: str) -> None:
    """The oldest due time of a call still owed (scheduled or missed) that no later
    contact has made up for; recomputed from the customer's calls, so order-free."""
    facts = customer_facts(session, customer_id)
    session.flush()
    query = select(CallState.due_at).where(
        CallState.customer_id == customer_id, CallState.status.in_(("scheduled", "missed")),
        CallState.due_at.is_not(None))
    if facts.last_contact_at is not None:
        query = query.where(CallState.due_at > facts.last_contact_at)
    dues = list(session.scalars(query))
    facts.overdue_since = min(dues) if dues else None


PROJECTIONS = {
    ("call.scheduled", 1): call_scheduled,
    ("call.assigned", 1): call_assigned,
    ("call.completed", 1): call_completed,
    ("call.missed", 1): call_missed,
    ("call.cancelled", 1): call_cancelled,
}
