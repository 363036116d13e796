"""Call events folded into the activity, findings and customer read models.

A planned call counts on its local due day under its current assignment: an
assignment (or a re-schedule) moves the count from the old bucket to the new one,
so the cube holds the same whatever order the events arrive in. Completed and
missed calls count under the dimensions their event carries.
"""
from __future__ import annotations

import json
from datetime import date

from sqlalchemy.orm import Session

from services.reporting import cumulative, overdue
from services.reporting.increments import add_to, local_day, month_of
from services.reporting.models_facts import (ActivityCube, CallState, CompetitorDaily,
                                             CustomerFacts, FindingsCube, ScoreCube)
from services.reporting.models_rollups import MONTHLY, ActivityDay, CustomerYtd, OutcomeDay
from services.reporting.rows import held, insert_if_absent, row_for_update, set_later

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
        _count_planned(session, state, old, -1)
    if new:
        _count_planned(session, state, new, 1)
    state.planned_key = new_text


def _count_planned(session: Session, state: CallState, key: dict, sign: int) -> None:
    _activity(session, key, {"planned": sign})
    _month(session, state.customer_id, key["day"], planned=sign)


def _activity(session: Session, key: dict, amounts: dict) -> None:
    """The activity cube and its day totals over every dimension."""
    add_to(session, ActivityCube, key, amounts)
    add_to(session, ActivityDay, {"day": key["day"]}, amounts)


def _as_key(stored: dict) -> dict:
    return {**stored, "day": date.fromisoformat(stored["day"])}


def _month(session, customer_id, day, **amounts) -> None:
    cumulative.add(session, CustomerYtd, {"customer_id": customer_id}, day, amounts)


def _advance(state: CallState, status: str) -> bool:
    if RANKS[status] < state.rank:
        return False
    state.status, state.rank = status, RANKS[status]
    return True


def call_scheduled(session: Session, event, zone) -> None:
    data = event.payload
    if _scheduled_first(session, data, zone):
        return
    state = call_state(session, data["call_id"], data["customer_id"])

    if state.status == "cancelled" and state.due_at is None:  # the cancel came first
        _activity(session, {"day": local_day(data["due_at"], zone), **dims(data, state)},
                  {"cancelled": 1})

    def change():
        state.due_at, state.channel = data["due_at"], data["channel"]
        state.segment = data.get("segment") or state.segment
        if state.rank == 0:
            state.status, state.rank = "scheduled", RANKS["scheduled"]
    _move_planned(session, state, zone, change)
    overdue.mark(session, state.customer_id)


def _scheduled_first(session: Session, data: dict, zone) -> bool:
    """The usual case, nothing heard of the call before: the row is inserted
    whole, as the general path below would leave it, with no update after."""
    state = CallState(call_id=data["call_id"], customer_id=data["customer_id"],
                      channel=data["channel"], segment=data.get("segment"),
                      due_at=data["due_at"], team="", agent_kind="", partner_id="",
                      assigned_at=None, status="scheduled", rank=RANKS["scheduled"])
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
    _move_planned(session, state, zone, change)


def call_cancelled(session: Session, event, zone) -> None:
    data = event.payload
    state = call_state(session, data["call_id"], data["customer_id"])
    if state.due_at is not None:
        _activity(session, {"day": local_day(state.due_at, zone), **dims({}, state)},
                  {"cancelled": 1})
    _move_planned(session, state, zone, lambda: _advance(state, "cancelled"))
    overdue.mark(session, state.customer_id)


def call_missed(session: Session, event, zone) -> None:
    data = event.payload
    state = call_state(session, data["call_id"], data["customer_id"])
    if state.due_at is None:
        _move_planned(session, state, zone, lambda: setattr(state, "due_at", data["due_at"]))
    _advance(state, "missed")
    _activity(session, {"day": local_day(data["due_at"], zone), **dims(data)}, {"missed": 1})
    overdue.mark(session, state.customer_id)


def call_completed(session: Session, event, zone) -> None:
    data = event.payload
    day = local_day(data["completed_at"], zone)
    key = {"day": day, **dims(data)}
    due = data.get("due_at")
    on_time = int(due is not None and day <= local_day(due, zone))
    _activity(session, key, {"completed": 1, "on_time": on_time})
    _cube(session, FindingsCube, {**key, "outcome": data["outcome"]}, _findings(data))
    add_to(session, OutcomeDay, {"day": day, "outcome": data["outcome"]}, {"calls": 1})
    _scores(session, key, data)
    for name in data.get("competitor_mentions") or ():
        add_to(session, CompetitorDaily, {"day": day, "segment": key["segment"],
                                          "competitor": name[:120]}, {"mentions": 1})
    contacted = data["outcome"] not in NOT_CONTACTED
    _month(session, data["customer_id"], day, calls=1, contacts=int(contacted),
           **_signals(data))
    _complete(session, data["call_id"], data["customer_id"])
    overdue.change_later(session, data["customer_id"],
                         lambda facts: _facts(session, facts, data, contacted))


def _complete(session: Session, call_id: str, customer_id: str) -> None:
    """Completed is the highest rank, so it always wins: written blind, without
    loading the call, unless an earlier event of this transaction already holds it."""
    state = held(session, CallState, {"call_id": call_id})
    if state is not None:
        _advance(state, "completed")
        return
    set_later(session, CallState, {"call_id": call_id}, {"customer_id": customer_id},
              {"status": "completed", "rank": RANKS["completed"]})


def _cube(session, model, key: dict, amounts: dict) -> None:
    """The day cube and its monthly roll-up."""
    add_to(session, model, key, amounts)
    add_to(session, MONTHLY[model.__tablename__], {**key, "day": month_of(key["day"])}, amounts)


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
        _cube(session, ScoreCube, {**key, "measure": "satisfaction",
                                   "bucket": data["satisfaction"]}, {"count": 1})
    if data.get("propensity") is not None:
        _cube(session, ScoreCube, {**key, "measure": "propensity",
                                   "bucket": min(data["propensity"] // 10, 9)}, {"count": 1})


def _later(new, old) -> bool:
    return old is None or new >= old


def _facts(session, facts: CustomerFacts, data: dict, contacted: bool) -> None:
    at = data["completed_at"]
    if _later(at, facts.last_call_at):
        facts.last_call_at = at
    if contacted and _later(at, facts.last_contact_at):
        facts.last_contact_at, facts.last_outcome = at, data["outcome"]
    if data.get("propensity") is not None and _later(at, facts.last_propensity_at):
        facts.last_propensity, facts.last_propensity_at = data["propensity"], at
    if facts.overdue_since is not None:  # with nothing owed, a completion changes nothing
        overdue.mark(session, data["customer_id"])


PROJECTIONS = {
    ("call.scheduled", 1): call_scheduled,
    ("call.assigned", 1): call_assigned,
    ("call.completed", 1): call_completed,
    ("call.missed", 1): call_missed,
    ("call.cancelled", 1): call_cancelled,
}
