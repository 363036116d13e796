"""The P&L over a generated year of sales, returns, cancellations, call costs and
allocations equals an independent computation to the cent, on SQLite and on
PostgreSQL; every allocation's shares sum exactly to its amount.

The expected figures are computed here from the generated inputs alone, with
fractions, following the rules in docs/sales.md (each entry rounded once, half up;
line shares and allocation shares by largest remainder; refunds cumulative).
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from shared.events import make_event
from tests.conftest import auth
from tests.sales.conftest import dispatcher_for, registered

HK = ZoneInfo("Asia/Hong_Kong")
YEAR = datetime(2025, 1, 1, tzinfo=HK)
SEGMENTS, TEAMS, CHANNELS = (
    ("smb", "retail", "enterprise"),
    ("east", "west", None),
    ("phone", "visit", None),
)
FIELDS = ("revenue", "discounts", "returns", "cost_of_goods", "cost_to_serve", "allocations")


def cents(x) -> int:
    """Half-up to whole cents of a non-negative exact amount."""
    return int((Fraction(x) * 100 * 2 + 1) // 2) if x >= 0 else -cents(-x)


def lr(total: int, parts: list[Fraction]) -> list[int]:
    floors = [int(p * 100 // 1) if p >= 0 else None for p in parts]
    rema = [p * 100 - f for p, f in zip(parts, floors)]
    for i in sorted(range(len(parts)), key=lambda i: (-rema[i], i))[: total - sum(floors)]:
        floors[i] += 1
    return floors


def lr_weights(total: int, weights: list[int]) -> list[int]:
    whole = sum(weights)
    shares = [total * w // whole for w in weights]
    rema = [total * w % whole for w in weights]
    for i in sorted(range(len(weights)), key=lambda i: (-rema[i], i))[: total - sum(shares)]:
        shares[i] += 1
    return shares


def decimal(x: Fraction) -> str:
    return str(Decimal(x.numerator) / Decimal(x.denominator))


def money(rng, low, high) -> str:
    return str(Decimal(rng.randint(low * 10000, high * 10000)).scaleb(-4))


class Expected:
    def __init__(self):
        self.rows = []  # (day, customer, segment, product, channel, team, field, cents)

    def add(self, day, dims, **amounts):
        for name, value in amounts.items():
            self.rows.append((day, dims, name, value))

    def group(self, by, start=None, end=None):
        out = defaultdict(lambda: dict.fromkeys(FIELDS, 0))
        for day, dims, name, value in self.rows:
            if (start and day < start) or (end and day > end):
                continue
            out[dims[by]][name] += value
        return dict(out)


def test_the_pnl_of_a_generated_year_equals_an_independent_computation(sales_app):
    rng = random.Random(20251231)
    client = sales_app.test_client()
    dispatcher = dispatcher_for(sales_app)
    customers = {f"c{i:02d}": SEGMENTS[i % 3] for i in range(18)}
    for cid, seg in customers.items():
        dispatcher.dispatch(registered(cid, segment=seg))
    prices = {}
    for i in range(6):
        sku = f"P{i}"
        first, second = (
            (money(rng, 1, 200), money(rng, 0, 150)),
            (money(rng, 1, 200), money(rng, 0, 150)),
        )
        client.post(
            "/api/v1/products",
            headers=auth(),
            json={
                "sku": sku,
                "name": sku,
                "price": first[0],
                "unit_cost": first[1],
                "effective_from": YEAR.isoformat(),
            },
        )
        july = datetime(2025, 7, 1, tzinfo=HK)
        client.post(
            f"/api/v1/products/{sku}/prices",
            headers=auth(),
            json={"price": second[0], "unit_cost": second[1], "effective_from": july.isoformat()},
        )
        prices[sku] = (july, first, second)
    expected = Expected()
    sales = []
    for _ in range(160):
        when = YEAR + timedelta(seconds=rng.randint(0, 364 * 86400))
        cid = rng.choice(list(customers))
        team, channel = rng.choice(TEAMS), rng.choice(CHANNELS)
        lines, exact = [], []
        for _ in range(rng.randint(1, 4)):
            q = str(Decimal(rng.randint(1, 50000)).scaleb(-rng.choice((0, 2, 4))))
            if rng.random() < 0.5:
                sku = rng.choice(list(prices))
                july, first, second = prices[sku]
                p, c = second if when >= july else first
                line = {"sku": sku, "quantity": q}
            else:
                sku, p, c = None, money(rng, 0, 300), money(rng, 0, 300)
                line = {"quantity": q, "unit_price": p, "unit_cost": c}
            gross = Fraction(Decimal(q)) * Fraction(Decimal(p))
            disc = (
                Fraction(int(gross * 10000 * Fraction(rng.random())), 10000)
                if rng.random() < 0.3
                else Fraction(0)
            )
            if disc:
                line["discount"] = decimal(disc)
            lines.append(line)
            exact.append(
                (
                    sku,
                    gross - disc,
                    disc,
                    Fraction(Decimal(q)) * Fraction(Decimal(c)),
                    Fraction(Decimal(q)),
                )
            )
        body = {
            "customer_id": cid,
            "recorded_at": when.isoformat(),
            "lines": lines,
            **({"team": team} if team else {}),
            **({"channel": channel} if channel else {}),
        }
        r = client.post("/api/v1/transactions", headers=auth(), json=body)
        assert r.status_code == 201, r.json
        net = lr(cents(sum(e[1] for e in exact)), [e[1] for e in exact])
        dis = lr(cents(sum(e[2] for e in exact)), [e[2] for e in exact])
        cog = lr(cents(sum(e[3] for e in exact)), [e[3] for e in exact])
        assert Decimal(r.json["revenue"]) == Decimal(sum(net)) / 100
        day = when.astimezone(HK).date()
        line_facts = []
        for (sku, _, _, _, qty), nc, dc, cc in zip(exact, net, dis, cog):
            dims = {
                "customer": cid,
                "segment": customers[cid],
                "product": sku,
                "channel": channel,
                "team": team,
            }
            expected.add(day, dims, revenue=nc + dc, discounts=dc, cost_of_goods=cc)
            line_facts.append((dims, nc, dc, cc, qty))
        sales.append((r.json["id"], when, line_facts))

    returned = set()
    for sale_id, when, facts in rng.sample(sales, 50):
        taken = [Fraction(0)] * len(facts)
        at = when
        for _step in range(rng.randint(1, 3)):
            at = at + timedelta(days=rng.randint(0, 20), seconds=rng.randint(0, 86400))
            wanted = []
            for i, (_, _, _, _, qty) in enumerate(facts):
                left = qty - taken[i]
                if left > 0 and rng.random() < 0.7:
                    part = (
                        left
                        if rng.random() < 0.4
                        else Fraction(rng.randint(1, max(1, int(left * 10000))), 10000)
                    )
                    wanted.append((i, min(part, left)))
            if not wanted:
                continue
            r = client.post(
                f"/api/v1/transactions/{sale_id}/returns",
                headers=auth(),
                json={
                    "returned_at": at.isoformat(),
                    "lines": [{"line_no": i + 1, "quantity": decimal(q)} for i, q in wanted],
                },
            )
            assert r.status_code == 201, r.json
            for i, q in wanted:
                dims, nc, _, cc, qty = facts[i]

                def up(c, t, qty=qty):
                    return cents(Fraction(c, 100) * t / qty)

                refund = up(nc, taken[i] + q) - up(nc, taken[i])
                back = up(cc, taken[i] + q) - up(cc, taken[i])
                taken[i] += q
                expected.add(at.astimezone(HK).date(), dims, returns=refund, cost_of_goods=-back)
            returned.add(sale_id)

    today = datetime.now(HK).date()
    for sale_id, _when, facts in [s for s in sales if s[0] not in returned][:12]:
        r = client.post(
            f"/api/v1/transactions/{sale_id}/cancellation",
            headers=auth(),
            json={"reason": "generated"},
        )
        assert r.status_code == 201, r.json
        for dims, nc, dc, cc, _ in facts:  # reversed on the day of the cancellation
            expected.add(today, dims, revenue=-(nc + dc), discounts=-dc, cost_of_goods=-cc)

    calls = []
    for n in range(220):
        at = YEAR + timedelta(seconds=rng.randint(0, 364 * 86400))
        cid = rng.choice(list(customers))
        cost = (
            str(Decimal(rng.randint(0, 999999)).scaleb(-rng.choice((2, 4, 5))))
            if rng.random() < 0.9
            else None
        )
        team, channel = rng.choice(TEAMS[:2]), rng.choice(("phone", "visit"))
        payload = {
            "call_id": f"call-{n}",
            "customer_id": cid,
            "channel": channel,
            "outcome": "reached",
            "completed_at": at,
            "cost": cost,
            "currency": "HKD",
            "team": team,
            "agent_kind": rng.choice(("staff", "partner")),
            "segment": customers[cid],
        }
        event = make_event("call.completed", payload, producer="calls")
        assert dispatcher.dispatch(event)
        if n % 10 == 0:
            assert dispatcher.dispatch(make_event("call.completed", payload, producer="calls"))
        booked = cents(Fraction(Decimal(cost))) if cost else 0
        dims = {
            "customer": cid,
            "segment": customers[cid],
            "product": None,
            "channel": channel,
            "team": team,
        }
        expected.add(at.astimezone(HK).date(), dims, cost_to_serve=booked)
        calls.append((at.astimezone(HK).date(), cid, team, channel))

    allocations = [
        {
            "kind": "training",
            "amount": "10000.01",
            "team": "east",
            "rule": "calls",
            "period_start": "2025-01-01",
            "period_end": "2025-03-31",
        },
        {
            "kind": "marketing_fund",
            "amount": "77777.77",
            "segment": "smb",
            "rule": "revenue",
            "period_start": "2025-04-01",
            "period_end": "2025-09-30",
        },
        {
            "kind": "promotion_material",
            "amount": "333.33",
            "channel": "visit",
            "rule": "calls",
            "period_start": "2025-07-01",
            "period_end": "2025-12-31",
        },
        {
            "kind": "marketing_fund",
            "amount": "1000.00",
            "team": "west",
            "rule": "revenue",
            "period_start": "2025-01-01",
            "period_end": "2025-12-31",
        },
    ]
    for spec in allocations:
        start, end = (
            date.fromisoformat(spec["period_start"]),
            date.fromisoformat(spec["period_end"]),
        )
        target = next((k, spec[k]) for k in ("team", "segment", "channel") if k in spec)
        if spec["rule"] == "calls":
            weights = defaultdict(int)
            for day, cid, team, channel in calls:
                dims = {"team": team, "channel": channel, "segment": customers[cid]}
                if start <= day <= end and dims[target[0]] == target[1]:
                    weights[cid] += 1
        else:
            weights = defaultdict(int)
            for day, dims, name, value in expected.rows:
                if (
                    start <= day <= end
                    and dims[target[0]] == target[1]
                    and name in ("revenue", "discounts", "returns")
                ):
                    weights[dims["customer"]] += value if name == "revenue" else -value
        order = sorted(c for c, w in weights.items() if w > 0)
        shares = lr_weights(cents(Fraction(Decimal(spec["amount"]))), [weights[c] for c in order])
        r = client.post("/api/v1/allocations", headers=auth(), json=spec)
        assert r.status_code == 201, r.json
        got = {s["customer_id"]: Decimal(s["amount"]) for s in r.json["shares"]}
        assert sum(got.values()) == Decimal(spec["amount"])  # not a cent lost or made
        assert got == {c: Decimal(s) / 100 for c, s in zip(order, shares) if s}
        for cid, share in zip(order, shares):
            dims = {
                "customer": cid,
                "segment": spec.get("segment") or customers[cid],
                "product": None,
                "channel": spec.get("channel"),
                "team": spec.get("team"),
            }
            if share:
                expected.add(start, dims, allocations=share)

    for by in ("customer", "segment", "product", "channel", "team"):
        for start, end in (
            (None, None),
            (date(2025, 1, 1), date(2025, 12, 31)),
            (date(2025, 3, 1), date(2025, 8, 15)),
        ):
            query = {
                "group_by": by,
                **({"from": start.isoformat()} if start else {}),
                **({"to": end.isoformat()} if end else {}),
            }
            r = client.get("/api/v1/pnl", headers=auth("analyst"), query_string=query)
            assert r.status_code == 200, r.json
            got = {
                g["key"]: {f: int(Decimal(g[f]) * 100) for f in FIELDS} for g in r.json["groups"]
            }
            want = expected.group(by, start, end)
            assert got == want, (by, start, end)
            totals = {f: sum(v[f] for v in want.values()) for f in FIELDS}
            assert {f: int(Decimal(r.json["totals"][f]) * 100) for f in FIELDS} == totals
            t = r.json["totals"]
            assert Decimal(t["net_contribution"]) == (
                Decimal(t["revenue"])
                - Decimal(t["discounts"])
                - Decimal(t["returns"])
                - Decimal(t["cost_of_goods"])
                - Decimal(t["cost_to_serve"])
                - Decimal(t["allocations"])
            )
