"""Calls spread over two values of every report dimension (two segments, channels,
teams, agent kinds and partners), sales in two segments and currencies, deals from
the calls; and the raw record of each, so a test can compute a filtered report's
answer from only the matching records, without the read models' code.

Times are spread over the hours of the day, so a call's local (Hong Kong) day is
not always its UTC day; the period cuts April and June and holds May whole, so
the reports read both their day cubes and their monthly roll-ups.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from tests.reporting.generate import event, utc

HK = ZoneInfo("Asia/Hong_Kong")
START, END = date(2025, 4, 10), date(2025, 6, 20)
PERIOD = {"from": str(START), "to": str(END)}
VALUES = {
    "segment": ("retail", "sme"),
    "channel": ("phone", "visit"),
    "team": ("north", "south"),
    "agent_kind": ("staff", "partner"),
    "partner": ("p1", "p2"),
}
AGENTS = (("staff", ""), ("partner", "p1"), ("partner", "p2"))
COMPETITORS = ("Acme", "Globex", "Initech", "Umbrella")
OUTCOMES = ("reached", "no_answer", "busy", "interested", "sale_opportunity", "complaint")
NOT_CONTACTED = ("no_answer", "busy", "wrong_number")
CUSTOMERS = {f"{segment}-{n}": segment for segment in VALUES["segment"] for n in range(8)}


def local_day(moment) -> date:
    return moment.astimezone(HK).date()


def in_period(day) -> bool:
    return day is not None and START <= day <= END


def world(seed: int = 5, calls: int = 260):
    """(events, calls, sales, deals): the events and the record of each call, sale
    and deal they describe."""
    rng = random.Random(seed)
    events = [
        event(
            "customer.registered",
            utc(2025, 1, 1),
            customer_id=cid,
            name=cid,
            segment=segment,
            registered_at=utc(2025, 1, 1),
        )
        for cid, segment in CUSTOMERS.items()
    ]
    records = [_call(rng, n, events) for n in range(calls)]
    _deals(rng, records, events)
    sales = _sales(rng, events)
    return events, records, sales, _deals_of(events)


def _call(rng, n: int, events: list) -> dict:
    cid = rng.choice(sorted(CUSTOMERS))
    kind, partner = rng.choice(AGENTS)
    r = {
        "call_id": f"call-{n}",
        "customer_id": cid,
        "segment": CUSTOMERS[cid],
        "channel": rng.choice(VALUES["channel"]),
        "team": rng.choice(VALUES["team"]),
        "agent_kind": kind,
        "partner": partner,
        "day": None,
    }
    due = utc(2025, 4, 1, 1) + timedelta(days=rng.randrange(91), hours=rng.randrange(22))
    r["due_day"], fate = local_day(due), rng.choice(("done", "done", "done", "missed", "open"))
    dims = {"segment": r["segment"], "channel": r["channel"]}
    agent = {"team": r["team"], "agent_kind": kind, "partner_id": partner or None}
    events += [
        event(
            "call.scheduled",
            due - timedelta(days=20),
            call_id=r["call_id"],
            plan_id="plan",
            customer_id=cid,
            due_at=due,
            **dims,
        ),
        event(
            "call.assigned",
            due - timedelta(days=19),
            call_id=r["call_id"],
            customer_id=cid,
            agent_id=f"agent-{n % 7}",
            assigned_at=due - timedelta(days=19),
            **agent,
        ),
    ]
    if fate == "missed":
        r["missed"] = True
        events.append(
            event(
                "call.missed",
                due + timedelta(hours=2),
                call_id=r["call_id"],
                customer_id=cid,
                due_at=due,
                missed_at=due + timedelta(hours=2),
                **dims,
                **agent,
            )
        )
    elif fate == "done":
        at = due + timedelta(hours=rng.choice((-3, 1, 30, 60)))
        outcome = rng.choice(OUTCOMES)
        contacted = outcome not in NOT_CONTACTED
        r.update(
            day=local_day(at),
            outcome=outcome,
            satisfaction=rng.randint(1, 5) if contacted else None,
            propensity=rng.randint(0, 100) if contacted and rng.random() < 0.8 else None,
            checklist=rng.choice((0.5, 0.75, 1.0)) if contacted else None,
            mentions=rng.sample(COMPETITORS, rng.randint(0, 2)),
        )
        events.append(
            event(
                "call.completed",
                at,
                call_id=r["call_id"],
                customer_id=cid,
                outcome=outcome,
                completed_at=at,
                due_at=due,
                satisfaction=r["satisfaction"],
                propensity=r["propensity"],
                checklist_compliance=r["checklist"],
                competitor_mentions=r["mentions"],
                **dims,
                **agent,
            )
        )
    return r


def _deals(rng, records: list, events: list) -> None:
    """A deal from most sale opportunities, a day after the call; some won, some lost;
    and deals from no call. All in HKD but one in USD."""
    for r in records:
        if r.get("outcome") != "sale_opportunity" or rng.random() < 0.25:
            continue
        created = utc(r["day"].year, r["day"].month, r["day"].day, 3) + timedelta(days=1)
        deal = f"deal-{r['call_id']}"
        events.append(
            event(
                "deal.created",
                created,
                deal_id=deal,
                customer_id=r["customer_id"],
                stage="lead",
                expected_value=Decimal(100 + rng.randrange(900)),
                source_call_id=r["call_id"],
                created_at=created,
            )
        )
        end = rng.choice(("won", "lost", None))
        if end:
            closed = created + timedelta(days=rng.randint(2, 9))
            events.append(
                event(
                    "deal.stage_changed",
                    closed,
                    deal_id=deal,
                    customer_id=r["customer_id"],
                    from_stage="lead",
                    to_stage=end,
                    changed_at=closed,
                )
            )
    for n, currency in enumerate(("HKD", "HKD", "USD")):
        created = utc(2025, 5, 5 + n, 3)
        events.append(
            event(
                "deal.created",
                created,
                deal_id=f"walk-in-{n}",
                customer_id="retail-0",
                stage="qualified",
                currency=currency,
                expected_value=Decimal(1000 + n),
                created_at=created,
            )
        )


def _deals_of(events: list) -> dict:
    """Each deal's creation (local day, from a call or not, currency, value, stage)
    and close, from the deal events."""
    deals: dict = {}
    for e in events:
        p = e.payload
        if e.event_type == "deal.created":
            deals.setdefault(p["deal_id"], {}).update(
                created=local_day(p["created_at"]),
                from_call=bool(p.get("source_call_id")),
                currency=p.get("currency", "HKD"),
                value=p["expected_value"],
                stage=p["stage"],
            )
        elif e.event_type == "deal.stage_changed":
            deals.setdefault(p["deal_id"], {}).update(
                stage=p["to_stage"], closed=local_day(p["changed_at"]), closed_as=p["to_stage"]
            )
    return deals


def _sales(rng, events: list) -> list:
    out = []
    for n in range(40):
        cid, currency = rng.choice(sorted(CUSTOMERS)), rng.choice(("HKD", "HKD", "USD"))
        at = utc(2025, 4, 1, 1) + timedelta(days=rng.randrange(91), hours=rng.randrange(22))
        revenue = Decimal(rng.randrange(1000, 90000)) / 100
        out.append(
            {
                "customer_id": cid,
                "segment": CUSTOMERS[cid],
                "currency": currency,
                "day": local_day(at),
                "revenue": revenue,
            }
        )
        events.append(
            event(
                "sale.recorded",
                at,
                sale_id=f"sale-{n}",
                customer_id=cid,
                currency=currency,
                recorded_at=at,
                revenue=revenue,
                cost=Decimal(0),
                lines=[{"quantity": Decimal(1), "unit_price": revenue, "unit_cost": Decimal(0)}],
            )
        )
    return out


def matching(calls: list, **filters) -> list:
    return [r for r in calls if all(r[name] == value for name, value in filters.items())]


def mentions(done: list) -> dict:
    return dict(Counter(name for r in done for name in r["mentions"]))
