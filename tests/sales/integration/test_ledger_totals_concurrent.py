"""Writers of one day racing each other: every published revision of the day's
totals includes everything committed before it, and the newest is the day's P&L."""

import json
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from sqlalchemy import select

from services.sales.db import Outbox
from tests.conftest import auth

WRITERS = 8


def test_concurrent_writes_of_a_day_publish_exact_totals_in_revision_order(sales_app):
    def sell(n):
        return sales_app.test_client().post(
            "/api/v1/transactions",
            headers=auth(),
            json={
                "customer_id": f"c{n}",
                "recorded_at": "2025-03-01T10:00:00+08:00",
                "lines": [{"quantity": "1", "unit_price": f"{n + 1}.005", "unit_cost": "1"}],
            },
        )

    with ThreadPoolExecutor(WRITERS) as pool:
        answers = list(pool.map(sell, range(WRITERS)))
    assert [r.status_code for r in answers] == [201] * WRITERS
    with sales_app.extensions["rapport"].db.reader() as s:
        totals = [
            json.loads(body)["payload"]
            for body in s.scalars(
                select(Outbox.body).where(Outbox.event_type == "ledger.totals_published")
            )
        ]
    totals.sort(key=lambda p: p["revision"])
    assert [p["revision"] for p in totals] == list(range(1, WRITERS + 1))
    # Each revision is the one before plus one sale: nobody's sale was left out.
    revenues = [Decimal(p["revenue"]) for p in totals]
    sold = sorted(Decimal(r.json["revenue"]) for r in answers)
    assert sorted(b - a for a, b in zip([Decimal(0)] + revenues, revenues)) == sold
    pnl = (
        sales_app.test_client()
        .get(
            "/api/v1/pnl",
            headers=auth("analyst"),
            query_string={"group_by": "day", "from": "2025-03-01", "to": "2025-03-01"},
        )
        .json["totals"]
    )
    assert totals[-1]["revenue"] == pnl["revenue"] == str(sum(sold))
    assert totals[-1]["cost_of_goods"] == pnl["cost_of_goods"] == "8.00"
