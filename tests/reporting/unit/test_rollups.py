"""The roll-ups behind the P&L and findings reports (per segment, per customer and
month, per month) answer exactly what the raw events say, for periods cut at any
day, every segment filter, events out of order, redelivered, in delivery windows,
and customers whose segment arrives or changes after their sales."""

import random
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from services.reporting import catalogue
from shared.types import to_cents
from tests.reporting.generate import event, utc

HK = ZoneInfo("Asia/Hong_Kong")
SEGMENTS = ("retail", "sme", "vip")
PERIODS = [
    (None, None),
    (date(2025, 1, 1), date(2025, 3, 31)),
    (date(2025, 1, 17), date(2025, 3, 9)),
    (date(2025, 2, 3), date(2025, 2, 20)),
    (None, date(2025, 2, 14)),
    (date(2025, 2, 28), None),
]


def stream(seed=5):
    """Sales, returns, cancellations and costed calls of 30 customers over Jan–Mar
    2025; most registered (some only after their sales), some moved segment later,
    some never known."""
    rng = random.Random(seed)
    events, money, calls, segment_of = [], [], [], {}
    for n in range(30):
        cid = f"c{n}"
        if n % 6:
            first = rng.choice(SEGMENTS)
            when = utc(2025, 1, 1) + timedelta(days=rng.randrange(80))
            events.append(
                event(
                    "customer.registered",
                    when,
                    customer_id=cid,
                    name="x",
                    segment=first,
                    registered_at=when,
                )
            )
            segment_of[cid] = first
            if n % 4 == 0:
                later = rng.choice([s for s in SEGMENTS if s != first])
                events.append(
                    event(
                        "customer.updated",
                        when + timedelta(days=3),
                        customer_id=cid,
                        segment=later,
                        changes={},
                    )
                )
                segment_of[cid] = later
        for k in range(rng.randint(3, 9)):
            at = utc(2025, 1, 1) + timedelta(minutes=rng.randrange(89 * 24 * 60))
            revenue, cost = Decimal(rng.randint(1, 99999)) / 100, Decimal(rng.randint(0, 50))
            sale_id = f"{cid}-s{k}"
            events.append(
                event(
                    "sale.recorded",
                    at,
                    sale_id=sale_id,
                    customer_id=cid,
                    currency="HKD",
                    recorded_at=at,
                    revenue=revenue,
                    cost=cost,
                    lines=[{"quantity": Decimal(1), "unit_price": revenue, "unit_cost": cost}],
                )
            )
            money.append((cid, at, {"revenue": revenue, "cost_of_goods": cost, "sales": 1}))
            later = at + timedelta(hours=rng.randint(1, 900))
            if rng.random() < 0.2:
                events.append(
                    event(
                        "sale.cancelled",
                        later,
                        sale_id=sale_id,
                        customer_id=cid,
                        currency="HKD",
                        revenue=revenue,
                        cost=cost,
                        cancelled_at=later,
                    )
                )
                money.append(
                    (cid, later, {"revenue": -revenue, "cost_of_goods": -cost, "sales": -1})
                )
            elif rng.random() < 0.2:
                events.append(
                    event(
                        "sale.returned",
                        later,
                        return_id=f"r-{sale_id}",
                        sale_id=sale_id,
                        customer_id=cid,
                        currency="HKD",
                        returned_at=later,
                        revenue=revenue / 2,
                        cost=cost / 2,
                    )
                )
                money.append((cid, later, {"returns": revenue / 2, "cost_of_goods": -cost / 2}))
        for k in range(rng.randint(1, 6)):
            at = utc(2025, 1, 1) + timedelta(minutes=rng.randrange(89 * 24 * 60))
            call = {
                "outcome": rng.choice(("reached", "no_answer", "interested", "complaint")),
                "satisfaction": rng.choice((None, 1, 2, 3, 4, 5)),
                "segment": rng.choice(SEGMENTS),
                "at": at,
            }
            cost = Decimal(rng.randint(1, 2000)) / 100
            events.append(
                event(
                    "call.completed",
                    at,
                    call_id=f"{cid}-call{k}",
                    customer_id=cid,
                    channel="phone",
                    outcome=call["outcome"],
                    completed_at=at,
                    satisfaction=call["satisfaction"],
                    segment=call["segment"],
                    cost=cost,
                    currency="HKD",
                )
            )
            money.append((cid, at, {"cost_to_serve": cost}))
            calls.append(call)
    return events, money, calls, segment_of


def dispatched(dispatcher, events):
    mixed = events + random.Random(3).sample(events, 25)  # some delivered twice
    random.Random(8).shuffle(mixed)
    for start in range(0, len(mixed), 37):  # in consumer-sized windows
        assert not [
            r
            for r in dispatcher.dispatch_batch(mixed[start : start + 37])
            if isinstance(r, Exception)
        ]


def within(at, start, end):
    day = at.astimezone(HK).date()
    return (start is None or day >= start) and (end is None or day <= end)


def expected_pnl(money, segment_of, start, end, segment):
    totals, customers = defaultdict(Decimal), set()
    for cid, at, amounts in money:
        if within(at, start, end) and segment in (None, segment_of.get(cid, "unknown")):
            customers.add(cid)
            for name, value in amounts.items():
                totals[name] += value
    return totals, customers


@pytest.mark.parametrize("start,end", PERIODS)
def test_pnl_by_segment_and_customer_equals_the_raw_entries(dispatcher, start, end):
    events, money, _, segment_of = stream()
    dispatched(dispatcher, events)
    for segment in (None, *SEGMENTS, "unknown"):
        totals, customers = expected_pnl(money, segment_of, start, end, segment)
        args = {"currency": "HKD", "start": start, "end": end, "segment": segment}
        body = catalogue.report("pnl", dispatcher.uow, HK, args)
        for name in ("revenue", "returns", "cost_of_goods", "cost_to_serve"):
            assert body["totals"][name] == to_cents(totals[name]), (segment, name)
        assert body["totals"]["sales"] == totals["sales"]
        assert body["reconciliation"]["balanced"] is True
        assert body["reconciliation"]["customers"] == len(customers)
        by_segment = {row["segment"]: row["revenue"] for row in body["segments"]}
        assert by_segment == {
            s: to_cents(expected_pnl(money, segment_of, start, end, s)[0]["revenue"])
            for s in ({segment} if segment else set(by_segment))
        }
        per_customer = catalogue.report("pnl", dispatcher.uow, HK, {**args, "group_by": "customer"})
        assert {row["customer"]: row["revenue"] for row in per_customer["segments"]} == {
            cid: to_cents(_revenue(money, cid, start, end)) for cid in customers
        }


def _revenue(money, cid, start, end):
    return sum(
        (a.get("revenue", 0) for c, at, a in money if c == cid and within(at, start, end)),
        Decimal(0),
    )


@pytest.mark.parametrize("start,end", PERIODS[1:])
def test_findings_from_monthly_rollups_equal_the_raw_calls(dispatcher, start, end):
    events, _, calls, _ = stream()
    dispatched(dispatcher, events)
    for segment in (None, "sme"):
        chosen = [
            c for c in calls if within(c["at"], start, end) and segment in (None, c["segment"])
        ]
        scores = [c["satisfaction"] for c in chosen if c["satisfaction"] is not None]
        for by in ("month", "day", "segment"):
            args = {"start": start, "end": end, "segment": segment, "group_by": by}
            body = catalogue.report("findings", dispatcher.uow, HK, args)
            assert body["calls"] == len(chosen)
            assert {o["outcome"]: o["calls"] for o in body["outcomes"]} == dict(
                Counter(c["outcome"] for c in chosen)
            )
            assert body["satisfaction"]["n"] == len(scores)
            assert body["satisfaction"]["distribution"] == {
                str(b): scores.count(b) for b in range(1, 6)
            }
            assert sum(t["calls"] for t in body["trend"]) == len(chosen)
            parity = catalogue.report("outsourcers", dispatcher.uow, HK, args)
            assert parity["staff"]["contact_rate"]["n"] == len(chosen)


@pytest.mark.integration
def test_segment_moves_and_rollups_on_both_databases(database_url, make_dispatcher):
    """The moves are INSERT … SELECT … ON CONFLICT and a DELETE with a row-value IN:
    the same answers on SQLite and PostgreSQL."""
    dispatcher = make_dispatcher(database_url)
    events, money, _, segment_of = stream(seed=6)
    dispatched(dispatcher, events)
    start, end = date(2025, 1, 17), date(2025, 3, 9)
    for segment in (None, *SEGMENTS, "unknown"):
        totals, customers = expected_pnl(money, segment_of, start, end, segment)
        body = catalogue.report(
            "pnl",
            dispatcher.uow,
            HK,
            {"currency": "HKD", "start": start, "end": end, "segment": segment},
        )
        assert body["totals"]["revenue"] == to_cents(totals["revenue"])
        assert body["reconciliation"]["customers"] == len(customers)
        assert body["reconciliation"]["balanced"] is True
