"""Calls held by two staff agents (``ann``, ``bob``) and a partner's agent (``pat`` of
``p1``), some handed from one to another, some never assigned, some cancelled; and
the raw record of each, so a test can compute the agents report's answer from only
the records, without the read models' code.

Times are spread over the hours of the day, so a call's local (Hong Kong) day is not
always its UTC day; the test period cuts the calls' months at both ends. A completed
call may carry quality flags (or, as from an older producer, no such field); a
sale-opportunity call may have opened a deal, later won or lost, dated after it.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from tests.reporting.dimensions import HK
from tests.reporting.generate import event, utc

START, END = date(2025, 3, 10), date(2025, 4, 20)
PERIOD = {"from": str(START), "to": str(END)}
AGENTS = {
    "ann": ("staff", "", "north"),
    "bob": ("staff", "", "south"),
    "pat": ("partner", "p1", ""),
}
OUTCOMES = ("reached", "no_answer", "interested", "sale_opportunity", "complaint")
FLAGS = (
    (),
    (),
    (),
    ("duration",),
    ("overlap", "rate"),
    ("checklist_incomplete",),
    ("outside_window", "duration"),
)
SEGMENTS, CHANNELS = ("retail", "sme"), ("phone", "visit")


def local_day(moment) -> date:
    return moment.astimezone(HK).date()


def in_period(day) -> bool:
    return day is not None and START <= day <= END


def world(seed: int = 3, calls: int = 240):
    """(events, records): every call's events, and what each call was."""
    rng = random.Random(seed)
    events, records = [], []
    for n in range(calls):
        records.append(_call(rng, n, events))
    return events, records


def _assign(call: dict, agent: str, at) -> object:
    kind, partner, team = AGENTS[agent]
    return event(
        "call.assigned",
        at,
        call_id=call["call_id"],
        customer_id=call["customer_id"],
        agent_id=agent,
        agent_kind=kind,
        partner_id=partner or None,
        team=team or None,
        assigned_at=at,
    )


def _call(rng, n: int, events: list) -> dict:
    due = utc(2025, 3, 1, 1) + timedelta(days=rng.randrange(61), hours=rng.randrange(22))
    r = {
        "call_id": f"call-{n}",
        "customer_id": f"cust-{n % 30}",
        "segment": rng.choice(SEGMENTS),
        "channel": rng.choice(CHANNELS),
        "due_day": local_day(due),
        "agent": "",
        "day": None,
        "missed": False,
        "cancelled": False,
    }
    dims = {"segment": r["segment"], "channel": r["channel"]}
    events.append(
        event(
            "call.scheduled",
            due - timedelta(days=20),
            call_id=r["call_id"],
            plan_id="plan",
            customer_id=r["customer_id"],
            due_at=due,
            **dims,
        )
    )
    holders = rng.choice(((), ("ann",), ("bob",), ("pat",), ("ann", "bob"), ("pat", "ann")))
    for step, agent in enumerate(holders):  # the last assignment holds the call
        events.append(_assign(r, agent, due - timedelta(days=10 - step)))
    if holders:
        r["agent"] = holders[-1]
    kind, partner, team = AGENTS.get(r["agent"], ("", "", ""))
    r.update(agent_kind=kind, partner=partner, team=team)
    holder = {
        "agent_id": r["agent"] or None,
        "agent_kind": kind or None,
        "partner_id": partner or None,
        "team": team or None,
    }
    fate = rng.choice(("done", "done", "done", "missed", "cancelled", "open"))
    if fate == "cancelled":
        r["cancelled"] = True
        events.append(
            event(
                "call.cancelled",
                due - timedelta(days=1),
                call_id=r["call_id"],
                customer_id=r["customer_id"],
                reason="customer asked",
                cancelled_at=due - timedelta(days=1),
            )
        )
    elif fate == "missed":
        r["missed"] = True
        events.append(
            event(
                "call.missed",
                due + timedelta(hours=2),
                call_id=r["call_id"],
                customer_id=r["customer_id"],
                due_at=due,
                missed_at=due + timedelta(hours=2),
                **dims,
                **holder,
            )
        )
    elif fate == "done" and r["agent"]:
        at = due + timedelta(hours=rng.choice((-5, 1, 30, 70)))
        outcome = rng.choice(OUTCOMES)
        spoken = outcome != "no_answer"
        r.update(
            day=local_day(at),
            outcome=outcome,
            satisfaction=rng.randint(1, 5) if spoken else None,
            propensity=rng.randint(0, 100) if spoken and rng.random() < 0.7 else None,
            checklist=rng.choice((None, 0.5, 1.0, 1.0)),
        )
        completed = {**holder, "agent_kind": kind}
        # Drawn apart, so the calls' other figures are those of the world before.
        extra = random.Random(n)
        r["flags"] = extra.choice(FLAGS)
        flagged = (
            {"quality_flags": list(r["flags"])} if r["flags"] or extra.random() < 0.5 else {}
        )  # an older producer's event has no such field
        events.append(
            event(
                "call.completed",
                at,
                call_id=r["call_id"],
                customer_id=r["customer_id"],
                outcome=outcome,
                completed_at=at,
                due_at=due,
                satisfaction=r["satisfaction"],
                propensity=r["propensity"],
                checklist_compliance=r["checklist"],
                **dims,
                **completed,
                **flagged,
            )
        )
        r["deal"] = None
        if outcome == "sale_opportunity" and extra.random() < 0.75:
            r["deal"] = _deal(extra, r, at, events)
    return r


def _deal(rng, r: dict, at, events: list) -> str:
    """A deal opened from the call (its segment may differ from the call's); answers
    its stage now: ``lead`` or the stage it closed in."""
    deal = {"deal_id": f"deal-{r['call_id']}", "customer_id": r["customer_id"]}
    opened = at + timedelta(hours=rng.randrange(1, 48))
    events.append(
        event(
            "deal.created",
            opened,
            **deal,
            stage="lead",
            expected_value="900",
            source_call_id=r["call_id"],
            segment=rng.choice(SEGMENTS),
            created_at=opened,
        )
    )
    close = rng.choice(("lead", "won", "won", "lost"))
    if close != "lead":
        # Closed after the period too: it counts with the call, whenever it closed.
        moved = opened + timedelta(days=rng.randrange(1, 60))
        events.append(
            event(
                "deal.stage_changed",
                moved,
                **deal,
                from_stage="lead",
                to_stage=close,
                changed_at=moved,
            )
        )
    return close
