"""Returns and cancellations: reversing entries that can never take back more than
was sold, and refunds that add up exactly to the sale."""

import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from services.sales.db import Outbox
from services.sales.ledger.tables import ReturnLine, SaleCancellation, SaleReturn
from tests.conftest import auth

SALES = "/api/v1/transactions"


@pytest.fixture
def client(lite_app):
    return lite_app.test_client()


def counts(app):
    with app.extensions["rapport"].db.reader() as s:
        return tuple(
            s.scalar(select(func.count()).select_from(m))
            for m in (SaleReturn, ReturnLine, SaleCancellation, Outbox)
        )


def sell(client, *lines, **kw):
    r = client.post(
        SALES,
        headers=auth(),
        json={
            "customer_id": "c1",
            "recorded_at": "2025-03-01T10:00:00+08:00",
            "lines": list(lines),
            **kw,
        },
    )
    assert r.status_code == 201, r.json
    return r.json


def give_back(client, sale_id, *lines, **kw):
    return client.post(
        f"{SALES}/{sale_id}/returns",
        headers=auth(),
        json={"lines": [{"line_no": n, "quantity": q} for n, q in lines], **kw},
    )


def test_discounts_are_off_the_line_and_revenue_is_net_of_them(client):
    sale = sell(
        client,
        {"quantity": "3", "unit_price": "10", "unit_cost": "4", "discount": "2.50"},
        {"quantity": "1", "unit_price": "0.005", "unit_cost": "0", "discount": "0"},
    )
    assert (sale["revenue"], sale["discount"], sale["cost"]) == ("27.51", "2.50", "12.00")


def test_returning_in_steps_refunds_exactly_what_was_sold(lite_app, client):
    sale = sell(
        client,
        {"quantity": "3", "unit_price": "0.01", "unit_cost": "0.01"},
        {"quantity": "7", "unit_price": "3.3333", "unit_cost": "1", "discount": "0.01"},
    )
    assert sale["revenue"] == "23.35"  # 0.03 + 23.3331 - 0.01 = 23.3531
    refunds = []
    for quantities in ([(1, "1"), (2, "2")], [(1, "1"), (2, "2.5")], [(1, "1"), (2, "2.5")]):
        r = give_back(client, sale["id"], *quantities)
        assert r.status_code == 201, r.json
        refunds.append((r.json["revenue"], r.json["cost"]))
    assert sum(Decimal(r) for r, _ in refunds) == Decimal(sale["revenue"])
    assert sum(Decimal(c) for _, c in refunds) == Decimal(sale["cost"])
    over = give_back(client, sale["id"], (2, "0.0001"))
    assert over.status_code == 422 and over.content_type == "application/problem+json"
    assert "quantity" in over.json["errors"]["lines"]["0"]
    detail = client.get(f"{SALES}/{sale['id']}", headers=auth()).json
    assert len(detail["returns"]) == 3
    assert counts(lite_app)[:2] == (3, 6)


def test_an_over_return_is_refused_whole_and_writes_nothing(lite_app, client):
    sale = sell(
        client,
        {"quantity": "2", "unit_price": "5", "unit_cost": "1"},
        {"quantity": "1", "unit_price": "5", "unit_cost": "1"},
    )
    assert give_back(client, sale["id"], (1, "1")).status_code == 201
    before = counts(lite_app)
    for lines in (
        [(1, "1"), (2, "2")],
        [(1, "2")],
        [(3, "1")],
        [(2, "1"), (2, "1")],
        [(1, "-1")],
        [(1, "0")],
        [(1, "0.00001")],
    ):
        r = give_back(client, sale["id"], *lines)
        assert r.status_code == 422 and r.content_type == "application/problem+json", lines
        assert "lines" in r.json["errors"]
    assert (
        give_back(client, sale["id"], (1, "1"), returned_at="2025-02-01T00:00:00+00:00").status_code
        == 422
    )
    assert give_back(client, "no-such-sale", (1, "1")).status_code == 404
    assert counts(lite_app) == before


def test_a_return_emits_sale_returned(lite_app, client):
    sale = sell(client, {"quantity": "2", "unit_price": "5", "unit_cost": "1", "sku": None})
    give_back(client, sale["id"], (1, "1"), reason="damaged")
    with lite_app.extensions["rapport"].db.reader() as s:
        events = [json.loads(b) for b in s.scalars(select(Outbox.body).order_by(Outbox.id))]
    assert [e["event_type"] for e in events] == [
        "sale.recorded",
        "ledger.totals_published",
        "sale.returned",
        "ledger.totals_published",
    ]
    returned = events[2]["payload"]
    assert events[3]["payload"]["returns"] == "5.00"  # the return's own day
    assert (returned["sale_id"], returned["revenue"], returned["cost"]) == (
        sale["id"],
        "5.00",
        "1.00",
    )


def test_a_cancellation_reverses_the_sale_once(lite_app, client):
    sale = sell(client, {"quantity": "1", "unit_price": "5", "unit_cost": "1"})
    r = client.post(
        f"{SALES}/{sale['id']}/cancellation", headers=auth(), json={"reason": "keyed twice"}
    )
    assert r.status_code == 201, r.json
    again = client.post(
        f"{SALES}/{sale['id']}/cancellation", headers=auth(), json={"reason": "again"}
    )
    assert again.status_code == 409 and again.content_type == "application/problem+json"
    assert give_back(client, sale["id"], (1, "1")).status_code == 409
    assert (
        client.get(f"{SALES}/{sale['id']}", headers=auth()).json["cancellation"]["reason"]
        == "keyed twice"
    )
    returned = sell(client, {"quantity": "2", "unit_price": "5", "unit_cost": "1"})
    give_back(client, returned["id"], (1, "1"))
    assert (
        client.post(
            f"{SALES}/{returned['id']}/cancellation", headers=auth(), json={"reason": "x"}
        ).status_code
        == 409
    )
    assert (
        client.post(f"{SALES}/{sale['id']}/cancellation", headers=auth(), json={}).status_code
        == 422
    )


def test_an_idempotency_key_records_a_return_once(lite_app, client):
    sale = sell(client, {"quantity": "2", "unit_price": "5", "unit_cost": "1"})
    headers = {**auth(), "Idempotency-Key": "ret-1"}
    body = {"lines": [{"line_no": 1, "quantity": "1"}]}
    first = client.post(f"{SALES}/{sale['id']}/returns", headers=headers, json=body)
    second = client.post(f"{SALES}/{sale['id']}/returns", headers=headers, json=body)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.headers["Idempotent-Replayed"] == "true" and second.json == first.json
    assert counts(lite_app)[0] == 1


def test_an_analyst_cannot_return_or_cancel(client):
    sale = sell(client, {"quantity": "2", "unit_price": "5", "unit_cost": "1"})
    assert (
        client.post(f"{SALES}/{sale['id']}/returns", headers=auth("analyst"), json={}).status_code
        == 403
    )
    assert (
        client.post(
            f"{SALES}/{sale['id']}/cancellation", headers=auth("analyst"), json={}
        ).status_code
        == 403
    )
