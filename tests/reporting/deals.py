"""Calls, sales and deals in two segments, two currencies and two months, and the
raw record of each, so a test can compute the sales report's answer for a filter
from only the matching records, without the read models' code.

Deals come from sale-opportunity calls (and some from no call) and walk through
their stages over days, some skipping stages, some lost, some still open; half of
them carry their segment on their events, the others leave it to the customer's.
Times are spread over the hours of the day, so a local (Hong Kong) day is not
always the UTC day.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from shared.events.contracts import DEAL_STAGES
from tests.reporting.generate import event, utc

HK = ZoneInfo("Asia/Hong_Kong")
PERIODS = {
    "april": (date(2025, 4, 1), date(2025, 4, 30)),
    "may": (date(2025, 5, 1), date(2025, 5, 31)),
    "ever": (None, None),
}
SEGMENTS, CURRENCIES = ("retail", "sme"), ("HKD", "USD")
CUSTOMERS = {f"{segment}-{n}": segment for segment in SEGMENTS for n in range(5)}
OPEN = DEAL_STAGES[:4]


def local_day(moment) -> date:
    return moment.astimezone(HK).date()


def within(day, period) -> bool:
    start, end = PERIODS[period]
    return day is not None and (start is None or day >= start) and (end is None or day <= end)


def world(seed: int = 11):
    """(events, calls, sales, deals)."""
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
    calls = [_call(rng, n, events) for n in range(300)]
    # Most opportunities open a deal, a few other calls do too (not in the funnel's
    # opportunity → deal step).
    deals = [
        _deal(
            rng, f"deal-{c['call_id']}", c["customer_id"], c["at"] + timedelta(hours=20), c, events
        )
        for c in calls
        if rng.random() < (0.8 if c["outcome"] == "sale_opportunity" else 0.05)
    ]
    deals += [
        _deal(rng, f"walk-in-{n}", rng.choice(sorted(CUSTOMERS)), _moment(rng), None, events)
        for n in range(30)
    ]
    return events, calls, _sales(rng, events), deals


def _moment(rng):
    return utc(2025, 3, 25) + timedelta(
        days=rng.randrange(66), hours=rng.randrange(24), minutes=rng.randrange(60)
    )


def _call(rng, n: int, events: list) -> dict:
    cid = rng.choice(sorted(CUSTOMERS))
    at = _moment(rng)
    outcome = rng.choice(("reached", "no_answer", "interested", "sale_opportunity"))
    events.append(
        event(
            "call.completed",
            at,
            call_id=f"call-{n}",
            customer_id=cid,
            channel="phone",
            outcome=outcome,
            completed_at=at,
            segment=CUSTOMERS[cid],
        )
    )
    return {
        "call_id": f"call-{n}",
        "customer_id": cid,
        "segment": CUSTOMERS[cid],
        "at": at,
        "day": local_day(at),
        "outcome": outcome,
    }


def _deal(rng, deal_id: str, cid: str, created, call, events: list) -> dict:
    """A deal (from ``call``, or none) and its walk through the stages; its record
    lists each stage it was in from when, with its value then."""
    call_id = call and call["call_id"]
    currency = rng.choice(CURRENCIES)
    carried = CUSTOMERS[cid] if rng.random() < 0.5 else None
    value = Decimal(rng.randrange(100, 5000)) + Decimal(rng.randrange(100)) / 100
    common = {"deal_id": deal_id, "customer_id": cid, "currency": currency, "segment": carried}
    events.append(
        event(
            "deal.created",
            created,
            stage="lead",
            expected_value=value,
            source_call_id=call_id,
            created_at=created,
            **common,
        )
    )
    deal = {
        "currency": currency,
        "segment": carried or CUSTOMERS[cid],
        "from_call": bool(call_id),
        "call": call,
        "created": created,
        "path": [(created, "lead", value)],
        "changes": [],
    }
    stage, at = "lead", created
    while stage in OPEN and rng.random() < 0.75:
        later = OPEN[OPEN.index(stage) + 1 :] + ("won",)
        to = "lost" if rng.random() < 0.2 else rng.choice(later[:2])
        moved = at + timedelta(hours=rng.randrange(3, 200))
        seconds = int((moved - at).total_seconds()) if rng.random() < 0.85 else None
        if rng.random() < 0.4:
            value = value + Decimal(rng.randrange(-50, 300))
            new_value = value
        else:
            new_value = None
        events.append(
            event(
                "deal.stage_changed",
                moved,
                from_stage=stage,
                to_stage=to,
                expected_value=new_value,
                seconds_in_previous_stage=seconds,
                changed_at=moved,
                **common,
            )
        )
        deal["path"].append((moved, to, value))
        deal["changes"].append(
            {"day": local_day(moved), "from": stage, "to": to, "seconds": seconds, "at": moved}
        )
        stage, at = to, moved
    return deal


def _sales(rng, events: list) -> list:
    out = []
    for n in range(40):
        cid, currency, at = rng.choice(sorted(CUSTOMERS)), rng.choice(CURRENCIES), _moment(rng)
        revenue = Decimal(rng.randrange(1000, 90000)) / 100
        out.append(
            {
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
