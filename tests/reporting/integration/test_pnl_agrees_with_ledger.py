"""Reporting's P&L equals the sales ledger's to the cent, and its reconciliation
finds what it does not.

A generated month goes through the sales service's real use cases (its API and
its consumer's handlers): many customers and products in two currencies, line
discounts, partial and full returns, cancellations of discounted sales, staff
calls costed per second at fractional per-minute rates, partner fees, a merge of
two customers, allocations; customers whose segment changes mid-month (one twice),
a customer registered after its first sale, one never registered, and a merge
across segments whose survivor then changes segment (a segment's P&L is that of
the customers in it now, history included, in both services). Reporting is fed
through its real handler with the calls and customer events both services received
and the very events the sales service put in its outbox, in outbox order. Then both
services' P&L is asked for every grouping they both offer and for a day, a month
and the whole period.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from services.reporting import config as reporting_config
from services.reporting.app import create_app as create_reporting
from services.sales import config as sales_config
from services.sales.app import create_app as create_sales
from services.sales.db import Outbox
from shared.events import make_event, parse_event
from tests.conftest import auth
from tests.sales.conftest import dispatcher_for

HK = ZoneInfo("Asia/Hong_Kong")
SEGMENTS, TEAMS, CHANNELS = ("smb", "retail", "enterprise"), ("east", "west"), ("phone", "visit")
# Reporting's terms: revenue net of discounts, gross margin as "margin".
MEASURES = (
    "revenue",
    "discounts",
    "returns",
    "cost_of_goods",
    "cost_to_serve",
    "allocations",
    "margin",
    "net_contribution",
)


@pytest.fixture
def services(service_app, database_url, tmp_path, make_dispatcher):
    """The sales service on SQLite and again on PostgreSQL; reporting on SQLite."""
    reporting_url = f"sqlite:///{tmp_path / 'reporting.db'}"
    sales = service_app(create_sales, sales_config.MIGRATIONS, database_url)
    reporting = service_app(create_reporting, reporting_config.MIGRATIONS, reporting_url)
    yield sales, dispatcher_for(sales), reporting, make_dispatcher(reporting_url)
    for app in (sales, reporting):
        app.extensions["rapport"].db.dispose()


def call(n, customer_id, segment, at, cost, kind="staff", **kw):
    return make_event(
        "call.completed",
        {
            "call_id": f"call-{n}",
            "customer_id": customer_id,
            "channel": kw.get("channel", "phone"),
            "outcome": "reached",
            "completed_at": at,
            "cost": cost,
            "currency": "HKD",
            "team": kw.get("team", "east"),
            "agent_kind": kind,
            "segment": segment,
            "partner_id": "p1" if kind == "partner" else None,
        },
        producer="calls",
    )


def staff_cost(seconds: int, per_minute: str) -> str:
    """What the calls service charges a staff call: seconds × rate / 60, four places."""
    return str((Decimal(seconds) * Decimal(per_minute) / 60).quantize(Decimal("0.0001")))


def generate_month(client, both, rng, start, now) -> dict:
    """Sales, returns, cancellations, calls and allocations of the 30 days from
    ``start``; returns the customers' segments."""
    customers = {f"c{i:02d}": SEGMENTS[i % 3] for i in range(24)}
    for cid, segment in customers.items():
        both(
            make_event(
                "customer.registered",
                {
                    "customer_id": cid,
                    "name": cid,
                    "segment": segment,
                    "registered_at": start - timedelta(days=1),
                },
                producer="customer",
            )
        )
    for i in range(8):
        body = {
            "sku": f"P{i}",
            "name": f"P{i}",
            "currency": "USD" if i % 4 == 3 else "HKD",
            "price": str(Decimal(rng.randint(100, 99999)).scaleb(-2)),
            "unit_cost": str(Decimal(rng.randint(0, 99999)).scaleb(-3)),
            "effective_from": (start - timedelta(days=1)).isoformat(),
        }
        assert client.post("/api/v1/products", headers=auth(), json=body).status_code == 201

    def moment(low=start):
        return low + timedelta(seconds=rng.randint(0, max(0, int((now - low).total_seconds()) - 1)))

    sales = []
    for n in range(140):
        currency = "USD" if n % 5 == 0 else "HKD"
        skus = [f"P{i}" for i in range(8) if (i % 4 == 3) == (currency == "USD")]
        lines = []
        for _ in range(rng.randint(1, 3)):
            line = {"quantity": str(rng.randint(1, 9))}
            if rng.random() < 0.6:
                line["sku"] = rng.choice(skus)
            else:
                line.update(
                    unit_price=str(Decimal(rng.randint(1, 999999)).scaleb(-4)),
                    unit_cost=str(Decimal(rng.randint(0, 99999)).scaleb(-4)),
                )
            if rng.random() < 0.4:
                line["discount"] = str(Decimal(rng.randint(1, 333)).scaleb(-3))
            lines.append(line)
        sale = post(
            client,
            "/api/v1/transactions",
            {
                "customer_id": rng.choice(list(customers)),
                "currency": currency,
                "recorded_at": moment().isoformat(),
                "lines": lines,
                "team": rng.choice(TEAMS),
                "channel": rng.choice(CHANNELS),
            },
        )
        sales.append(sale)
    segment_changes(client, both, moment)
    # The issue's own case: a sale with a 50.00 discount, cancelled.
    sales.append(
        post(
            client,
            "/api/v1/transactions",
            {
                "customer_id": "c00",
                "recorded_at": moment().isoformat(),
                "team": "east",
                "lines": [
                    {
                        "quantity": "2",
                        "unit_price": "120.00",
                        "unit_cost": "40.00",
                        "discount": "50.00",
                    }
                ],
            },
        )
    )
    cancelled = [sales[-1]] + [s for s in sales[:-1] if Decimal(s["discount"])][:9]
    for sale in cancelled:
        post(client, f"/api/v1/transactions/{sale['id']}/cancellation", {"reason": "keyed twice"})
    for sale in rng.sample([s for s in sales if s not in cancelled], 45):
        at = datetime.fromisoformat(sale["recorded_at"])
        for _step in range(rng.randint(1, 2)):
            at = moment(at)
            left = list(
                client.get(f"/api/v1/transactions/{sale['id']}", headers=auth()).json["lines"]
            )
            taken = returned_so_far(client, sale["id"])
            wanted = [
                {
                    "line_no": ln["line_no"],
                    "quantity": str(
                        Decimal(ln["quantity"]) - taken[ln["line_no"]] if rng.random() < 0.4 else 1
                    ),
                }
                for ln in left
                if Decimal(ln["quantity"]) > taken[ln["line_no"]]
            ]
            if wanted:
                post(
                    client,
                    f"/api/v1/transactions/{sale['id']}/returns",
                    {"returned_at": at.isoformat(), "lines": wanted},
                )
    calls = 0
    for _ in range(36):  # the issue's: 95 s at 2.00/min = 3.1667, booked as 3.17
        calls += 1
        both(call(calls, "c01", customers["c01"], moment(), staff_cost(95, "2.00")))
    for _ in range(300):
        calls += 1
        cid = rng.choice(list(customers))
        if rng.random() < 0.3:
            cost, kind = str(Decimal(rng.choice((2500, 4500, 12000))).scaleb(-2)), "partner"
        else:
            cost = staff_cost(rng.randint(5, 1800), rng.choice(("1.50", "2.00", "3.35")))
            kind = "staff"
        both(
            call(
                calls,
                cid,
                customers[cid],
                moment(),
                cost,
                kind,
                team=rng.choice(TEAMS),
                channel=rng.choice(CHANNELS),
            )
        )
    # A merge: the ledger counts the merged customer's entries, before and after it,
    # under the survivor.
    both(
        make_event(
            "customer.merged",
            {"survivor_id": "c03", "merged_id": "c06", "merged_at": now},
            producer="customer",
        )
    )
    post(
        client,
        "/api/v1/transactions",
        {
            "customer_id": "c06",
            "recorded_at": moment().isoformat(),
            "lines": [{"quantity": "1", "unit_price": "8.8888", "unit_cost": "1"}],
        },
    )
    calls += 1
    both(call(calls, "c06", customers["c06"], moment(), staff_cost(61, "3.35")))
    first = start.date() + timedelta(days=1)
    for spec in (
        {"kind": "training", "amount": "10000.01", "team": "east", "rule": "calls"},
        {"kind": "marketing_fund", "amount": "7777.77", "segment": "smb", "rule": "revenue"},
        {"kind": "promotion_material", "amount": "333.33", "channel": "visit", "rule": "calls"},
        {
            "kind": "marketing_fund",
            "amount": "999.99",
            "currency": "USD",
            "team": "west",
            "rule": "revenue",
        },
    ):
        post(
            client,
            "/api/v1/allocations",
            {
                **spec,
                "period_start": (first + timedelta(days=rng.randint(0, 5))).isoformat(),
                "period_end": (now.date() - timedelta(days=1)).isoformat(),
            },
        )
    return customers


def segment_changes(client, both, moment) -> None:
    """Segments learnt and changed after sales were booked under the old ones."""

    def sell(customer_id):
        post(
            client,
            "/api/v1/transactions",
            {
                "customer_id": customer_id,
                "recorded_at": moment().isoformat(),
                "team": "west",
                "lines": [
                    {"quantity": "3", "unit_price": "19.99", "unit_cost": "7.5", "discount": "1.01"}
                ],
            },
        )

    def customer(kind, customer_id, segment):
        both(
            make_event(
                kind,
                {
                    "customer_id": customer_id,
                    "name": customer_id,
                    "segment": segment,
                    "registered_at": moment(),
                },
                producer="customer",
            )
        )

    for customer_id in ("late", "ghost", "c07"):
        sell(customer_id)
    both(call("late-1", "late", None, moment(), staff_cost(200, "1.50")))
    for customer_id, segment in (("c04", "enterprise"), ("c10", "smb"), ("c10", "enterprise")):
        customer("customer.updated", customer_id, segment)
    customer("customer.registered", "late", "retail")
    both(
        make_event(
            "customer.merged",
            {
                "survivor_id": "c09",
                "merged_id": "c07",
                "merged_at": datetime.now(HK),
                "segment": "smb",
            },
            producer="customer",
        )
    )
    for customer_id in ("c04", "c10", "late", "c07"):
        sell(customer_id)
    customer("customer.updated", "c09", "enterprise")


def post(client, url, body) -> dict:
    r = client.post(url, headers=auth(), json=body)
    assert r.status_code == 201, (url, r.json)
    return r.json


def returned_so_far(client, sale_id) -> dict:
    sale = client.get(f"/api/v1/transactions/{sale_id}", headers=auth()).json
    taken = defaultdict(Decimal)
    for entry in sale["returns"]:
        for line in entry["lines"]:
            taken[line["line_no"]] += Decimal(line["quantity"])
    return taken


def sales_outbox(app) -> list:
    with app.extensions["rapport"].db.reader() as session:
        return [
            parse_event(body.encode())
            for body in session.scalars(select(Outbox.body).order_by(Outbox.id))
        ]


def period(start, end) -> dict:
    return {
        **({"from": start.isoformat()} if start else {}),
        **({"to": end.isoformat()} if end else {}),
    }


def ledger_pnl(client, by, currency, start, end) -> dict:
    """The sales service's P&L in reporting's terms; a month is its days summed."""
    query = {"group_by": "day" if by == "month" else by, "currency": currency, **period(start, end)}
    r = client.get("/api/v1/pnl", headers=auth("analyst"), query_string=query)
    assert r.status_code == 200, r.json
    out = defaultdict(lambda: dict.fromkeys(MEASURES, Decimal(0)))
    for group in r.json["groups"]:
        key = group["key"][:7] if by == "month" else group["key"]
        figures = {name: Decimal(group[name]) for name in group if name in MEASURES}
        figures["revenue"] -= figures["discounts"]
        figures["margin"] = Decimal(group["gross_margin"])
        for name in MEASURES:
            out[key][name] += figures[name]
    return {k: v for k, v in out.items() if any(v.values())}


def reporting_pnl(client, by, currency, start, end) -> tuple[dict, dict]:
    query = {"group_by": by, "currency": currency, **period(start, end)}
    r = client.get("/api/v1/reports/pnl", headers=auth("analyst"), query_string=query)
    assert r.status_code == 200, r.json
    groups = {
        row[by]: {name: Decimal(row[name]) for name in MEASURES} for row in r.json["segments"]
    }
    return {k: v for k, v in groups.items() if any(v.values())}, r.json["reconciliation"]


def test_reporting_pnl_equals_the_ledger_pnl_to_the_cent_for_every_grouping_and_period(services):
    sales, sales_dispatcher, reporting, reporting_dispatcher = services
    rng, now = random.Random(20261206), datetime.now(HK)
    start = (now - timedelta(days=30)).replace(hour=0, minute=0, second=0, microsecond=0)

    def both(event):
        assert sales_dispatcher.dispatch(event)
        assert reporting_dispatcher.dispatch(event)

    generate_month(sales.test_client(), both, rng, start, now)
    events = sales_outbox(sales)
    held = next(
        e for e in events if e.event_type == "sale.returned" and e.payload["currency"] == "HKD"
    )
    for event in events:
        if event is not held:
            assert reporting_dispatcher.dispatch(event)
    ledger, ours = sales.test_client(), reporting.test_client()

    # An event reporting never saw: the day it falls on differs, and the period.
    _, reconciliation = reporting_pnl(ours, "day", "HKD", None, None)
    day = held.payload["returned_at"].astimezone(HK).date().isoformat()
    refund = Decimal(held.payload["revenue"])
    assert reconciliation["balanced"] is False
    found = reconciliation["ledger"]["differences"]
    assert {"day", "measure", "ledger", "reporting", "difference"} <= set(found[0])
    missed = {(d["day"], d["measure"]): d for d in found}
    assert Decimal(missed[(day, "returns")]["difference"]) == -refund
    assert (
        Decimal(missed[(day, "returns")]["ledger"]) - Decimal(missed[(day, "returns")]["reporting"])
        == refund
    )
    assert Decimal(missed[("total", "returns")]["difference"]) == -refund
    assert {d["day"] for d in found} == {day, "total"}

    assert reporting_dispatcher.dispatch(held)
    days = sorted({e.payload["day"] for e in events if e.event_type == "ledger.totals_published"})
    months = sorted(
        {
            (
                d.replace(day=1),
                (d.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1),
            )
            for d in days
        }
    )
    periods = [(None, None), *months, *[(d, d) for d in rng.sample(days, 6)]]
    compared = 0
    for currency in ("HKD", "USD"):
        for low, high in periods:
            for by in ("customer", "segment", "day", "month"):
                want = ledger_pnl(ledger, by, currency, low, high)
                got, reconciliation = reporting_pnl(ours, by, currency, low, high)
                assert got == want, (currency, low, high, by)
                assert reconciliation["balanced"] is True, reconciliation
                assert reconciliation["ledger"]["days_without_ledger_totals"] == []
                compared += len(want)
    assert compared > 300
    # The customer: 36 calls of 3.1667, each booked as 3.17.
    by_customer = reporting_pnl(ours, "customer", "HKD", None, None)[0]
    assert by_customer["c01"] == ledger_pnl(ledger, "customer", "HKD", None, None)["c01"]
    assert by_customer["c01"]["cost_to_serve"] >= Decimal("114.12")
    assert "c06" not in by_customer and "c03" in by_customer  # merged: the survivor's
    assert "c07" not in by_customer and "c09" in by_customer
    segments = reporting_pnl(ours, "segment", "HKD", None, None)[0]
    assert set(segments) == {*SEGMENTS, "unknown"}  # "ghost" was never registered
    assert segments == ledger_pnl(ledger, "segment", "HKD", None, None)
    whole = reporting_pnl(ours, "day", "HKD", None, None)[1]["ledger"]
    assert whole["days_published"] == len(
        {
            d
            for e in events
            if e.payload.get("currency") == "HKD" and e.event_type == "ledger.totals_published"
            for d in [e.payload["day"]]
        }
    )
