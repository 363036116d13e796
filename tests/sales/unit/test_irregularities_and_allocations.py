"""Irregularities surfaced, and allocations refused when they cannot land."""

import pytest
from sqlalchemy import func, select

from services.sales.db import Outbox
from services.sales.pnl.tables import Allocation, AllocationShare
from tests.conftest import auth
from tests.sales.conftest import completed, dispatcher_for, local_today, registered

IRREGULAR = "/api/v1/irregularities"


@pytest.fixture
def client(lite_app):
    return lite_app.test_client()


def listed(client, kind, **query):
    r = client.get(IRREGULAR, headers=auth("analyst"), query_string={"kind": kind, **query})
    assert r.status_code == 200, r.json
    return r.json["items"]


def sell(
    client,
    customer_id="c1",
    approval=None,
    when="2025-03-01T10:00:00+08:00",
    price="10",
    cost="4",
    discount="0",
):
    r = client.post(
        "/api/v1/transactions",
        headers=auth(),
        json={
            "customer_id": customer_id,
            "recorded_at": when,
            "lines": [
                {"quantity": "1", "unit_price": price, "unit_cost": cost, "discount": discount}
            ],
            **({"approval_reason": approval} if approval else {}),
        },
    )
    assert r.status_code == 201, r.json
    return r.json


def test_sales_below_cost_without_approval_are_listed(client):
    plain = sell(client)
    below = sell(client, price="10", cost="9", discount="1.01")
    approved = sell(client, price="3", cost="4", approval="clearance, approved by K. Wong")
    assert (below["below_cost"], approved["below_cost"], plain["below_cost"]) == (True, True, False)
    assert [i["sale_id"] for i in listed(client, "below_cost")] == [below["id"]]


def test_returns_after_the_window_are_accepted_and_listed(client):
    sale = sell(client)
    for when in ("2025-03-20T10:00:00+08:00", "2025-04-15T10:00:00+08:00"):
        r = client.post(
            f"/api/v1/transactions/{sale['id']}/returns",
            headers=auth(),
            json={"returned_at": when, "lines": [{"line_no": 1, "quantity": "0.5"}]},
        )
        assert r.status_code == 201
    late = listed(client, "late_return")
    assert [i["at"][:10] for i in late] == ["2025-04-15"]
    assert (
        listed(client, "late_return", days=10) and len(listed(client, "late_return", days=10)) == 2
    )


def test_sales_for_customers_never_registered_are_listed(lite_app, client):
    dispatcher_for(lite_app).dispatch(registered("c1"))
    sell(client, "c1")
    ghost = sell(client, "ghost")
    assert [i["sale_id"] for i in listed(client, "unknown_customer")] == [ghost["id"]]
    dispatcher_for(lite_app).dispatch(registered("ghost"))
    assert listed(client, "unknown_customer") == []


def test_irregularities_need_a_known_kind(client):
    assert client.get(IRREGULAR, headers=auth()).status_code == 422
    assert client.get(IRREGULAR, headers=auth(), query_string={"kind": "x"}).status_code == 422
    assert (
        client.get(
            IRREGULAR, headers=auth("agent"), query_string={"kind": "below_cost"}
        ).status_code
        == 403
    )


def allocation(**kw):
    return {
        "kind": "training",
        "amount": "100.00",
        "team": "east",
        "period_start": "2020-01-01",
        "period_end": local_today(),
        **kw,
    }


def counts(app):
    with app.extensions["rapport"].db.reader() as s:
        return tuple(
            s.scalar(select(func.count()).select_from(m))
            for m in (Allocation, AllocationShare, Outbox)
        )


def test_an_allocation_lands_on_the_customers_called_every_cent_once(lite_app, client):
    dispatcher = dispatcher_for(lite_app)
    for cid, n in (("a", 1), ("b", 1), ("c", 1), ("d", 2)):
        for _ in range(n):
            dispatcher.dispatch(completed(cid, team="east"))
    dispatcher.dispatch(completed("e", team="west"))
    r = client.post("/api/v1/allocations", headers=auth(), json=allocation(amount="0.10"))
    assert r.status_code == 201, r.json
    assert [(s["customer_id"], s["amount"]) for s in r.json["shares"]] == [
        ("a", "0.02"),
        ("b", "0.02"),
        ("c", "0.02"),
        ("d", "0.04"),
    ]
    listed_ = client.get("/api/v1/allocations", headers=auth("analyst")).json["items"]
    assert [a["id"] for a in listed_] == [r.json["id"]]
    pnl = client.get("/api/v1/pnl", headers=auth("analyst"), query_string={"group_by": "team"}).json
    east = next(g for g in pnl["groups"] if g["key"] == "east")
    assert east["allocations"] == "0.10" and east["calls"] == 5


@pytest.mark.parametrize(
    "body, field",
    [
        (allocation(amount="10.001"), "amount"),
        (allocation(amount=10.5), "amount"),
        (allocation(amount="-1"), "amount"),
        (allocation(amount="0"), "amount"),
        (allocation(kind="bonus"), "kind"),
        (allocation(team=None), "team"),
        (allocation(rule="coin_toss"), "rule"),
        (allocation(currency="hk"), "currency"),
        (allocation(period_end="2019-12-31"), "period_end"),
        (allocation(team="nobody-called"), "rule"),
        (allocation(rule="revenue"), "rule"),
    ],
)
def test_bad_allocations_are_problems_and_write_nothing(lite_app, client, body, field):
    dispatcher_for(lite_app).dispatch(completed("a", team="east"))
    before = counts(lite_app)  # the call cost's day totals are in the outbox
    body = {k: v for k, v in body.items() if v is not None}
    r = client.post("/api/v1/allocations", headers=auth(), json=body)
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert field in r.json["errors"]
    assert before[:2] == (0, 0) and counts(lite_app) == before


def test_pnl_refuses_to_mix_currencies(client):
    sell(client)
    r = client.post(
        "/api/v1/transactions",
        headers=auth(),
        json={
            "customer_id": "c1",
            "currency": "USD",
            "lines": [{"quantity": "1", "unit_price": "1", "unit_cost": "0"}],
        },
    )
    assert r.status_code == 201
    mixed = client.get("/api/v1/pnl", headers=auth("analyst"))
    assert mixed.status_code == 422 and "currency" in mixed.json["errors"]
    usd = client.get("/api/v1/pnl", headers=auth("analyst"), query_string={"currency": "USD"})
    assert usd.json["totals"]["revenue"] == "1.00" and usd.json["currency"] == "USD"
    bad = client.get(
        "/api/v1/pnl",
        headers=auth("analyst"),
        query_string={"from": "2025-02-01", "to": "2025-01-01"},
    )
    assert bad.status_code == 422
    assert (
        client.get(
            "/api/v1/pnl", headers=auth("analyst"), query_string={"group_by": "planet"}
        ).status_code
        == 422
    )


def test_pnl_by_local_day_and_by_agent_kind(lite_app, client):
    sell(client, when="2025-03-01T23:30:00+08:00")  # 1 March in Hong Kong
    sell(client, when="2025-03-01T16:30:00+00:00", price="5")  # 00:30 on 2 March there
    dispatcher_for(lite_app).dispatch(completed("c1", agent_kind="partner", cost="7"))
    days = client.get(
        "/api/v1/pnl",
        headers=auth("analyst"),
        query_string={"group_by": "day", "from": "2025-03-01", "to": "2025-03-02"},
    ).json
    assert [(g["key"], g["revenue"]) for g in days["groups"]] == [
        ("2025-03-01", "10.00"),
        ("2025-03-02", "5.00"),
    ]
    kinds = client.get(
        "/api/v1/pnl", headers=auth("analyst"), query_string={"group_by": "agent_kind"}
    ).json
    assert [(g["key"], g["revenue"], g["cost_to_serve"]) for g in kinds["groups"]] == [
        (None, "15.00", "0.00"),
        ("partner", "0.00", "7.00"),
    ]
