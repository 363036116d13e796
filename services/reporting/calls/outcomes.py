"""A completed call folded into the activity, findings, score and customer read
models: its outcome, satisfaction, propensity, checklist compliance and competitor
mentions count under the dimensions its event carries, on its local day (and the
monthly roll-ups), per agent (``agent_cube``, ``agent_outcome``), and in the
customer's year-to-date signals and facts.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy.orm import Session

from services.reporting.agents.tables import AgentFlag, AgentOutcome
from services.reporting.calls.projection import (
    RANKS,
    activity,
    advance,
    agent_of,
    customer_month,
    dims,
)
from services.reporting.calls.tables import (
    MONTHLY,
    CallState,
    CompetitorCube,
    FindingsCube,
    OutcomeDay,
    ScoreCube,
)
from services.reporting.customers import overdue
from services.reporting.customers.tables import CustomerFacts
from services.reporting.store.counters import Rollup, add_to, local_day
from services.reporting.store.locked_rows import held, set_later
from shared import coverage


def call_completed(session: Session, event, zone) -> None:
    data = event.payload
    day = local_day(data["completed_at"], zone)
    key = {"day": day, **dims(data)}
    agent = {**key, **agent_of(data)}
    activity(session, agent, {"completed": 1}, _agent(session, agent, data))
    due = data.get("due_at")
    if due is not None and day <= local_day(due, zone):
        # Done in time counts on its due day, where it is planned: never above planned.
        activity(session, {**agent, "day": local_day(due, zone)}, {"on_time": 1})
    _cube(session, FindingsCube, {**key, "outcome": data["outcome"]}, _findings(data))
    _scores(session, key, data)
    for name in data.get("competitor_mentions") or ():
        add_to(session, CompetitorCube, {**key, "competitor": name[:120]}, {"mentions": 1})
    contacted = coverage.qualifies(data["outcome"])
    customer_month(
        session, data["customer_id"], day, calls=1, contacts=int(contacted), **_signals(data)
    )
    _complete(session, data["call_id"], data["customer_id"])
    overdue.change_later(
        session, data["customer_id"], lambda facts: _facts(session, facts, data, contacted)
    )


def _complete(session: Session, call_id: str, customer_id: str) -> None:
    """Completed is the highest rank, so it always wins: written blind, without
    loading the call, unless an earlier event of this transaction already holds it."""
    state = held(session, CallState, {"call_id": call_id})
    if state is not None:
        advance(state, "completed")
        return
    set_later(
        session,
        CallState,
        {"call_id": call_id},
        {"customer_id": customer_id},
        {"status": "completed", "rank": RANKS["completed"]},
    )


def _agent(session, key: dict, data: dict) -> dict:
    """The agent's outcome mix and quality flags; its scores, checklist,
    opportunities and whether flagged, for the caller to add to its ``agent_cube``
    row with the completed call."""
    add_to(
        session,
        AgentOutcome,
        {**key, "outcome": data["outcome"]},
        {"calls": 1},
        (Rollup(OutcomeDay, ("day", "outcome")),),  # the day's outcomes, every agent's
    )
    sat, prop = data.get("satisfaction"), data.get("propensity")
    chk = data.get("checklist_compliance")
    rules = set(data.get("quality_flags") or ())
    for rule in sorted(rules):
        add_to(session, AgentFlag, {**key, "rule": rule[:32]}, {"calls": 1})
    return {
        "sat_n": int(sat is not None),
        "sat_sum": sat or 0,
        "prop_n": int(prop is not None),
        "prop_sum": prop or 0,
        "chk_n": int(chk is not None),
        "chk_full": int(chk is not None and chk >= 1),
        "opportunities": int(data["outcome"] == "sale_opportunity"),
        "flagged": int(bool(rules)),
    }


def _cube(session, model, key: dict, amounts: dict) -> None:
    """The day cube and its monthly roll-up."""
    add_to(session, model, key, amounts, _monthly(model, tuple(key)))


@cache
def _monthly(model, keys: tuple) -> tuple:
    return (Rollup(MONTHLY[model.__tablename__], keys, True),)


def _findings(data: dict) -> dict:
    sat, prop, chk = (
        data.get("satisfaction"),
        data.get("propensity"),
        data.get("checklist_compliance"),
    )
    chk = None if chk is None else round(chk * 1000)
    out = {"calls": 1}
    for (n, total, squares), value in zip(_MOMENTS, (sat, prop, chk)):
        out[n], out[total], out[squares] = int(value is not None), value or 0, (value or 0) ** 2
    return out


# Each measure's count, sum and sum of squares, in the findings cube's names.
_MOMENTS = tuple((f"{p}_n", f"{p}_sum", f"{p}_sq") for p in ("sat", "prop", "chk"))


def _signals(data: dict) -> dict:
    sat, prop = data.get("satisfaction"), data.get("propensity")
    return {
        "sat_n": int(sat is not None),
        "sat_sum": sat or 0,
        "prop_n": int(prop is not None),
        "prop_sum": prop or 0,
    }


def _scores(session, key, data) -> None:
    if data.get("satisfaction") is not None:
        _cube(
            session,
            ScoreCube,
            {**key, "measure": "satisfaction", "bucket": data["satisfaction"]},
            {"count": 1},
        )
    if data.get("propensity") is not None:
        _cube(
            session,
            ScoreCube,
            {**key, "measure": "propensity", "bucket": min(data["propensity"] // 10, 9)},
            {"count": 1},
        )


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
    if contacted:  # a newer qualifying contact moves the due time
        overdue.mark(session, data["customer_id"])


PROJECTIONS = {("call.completed", 1): call_completed}
