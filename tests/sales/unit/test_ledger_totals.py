"""The ledger publishes its own totals per local day and currency: every write of a
day re-publishes that day, with a higher revision, in the write's transaction."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, select, text

from services.sales import config
from services.sales.db import Outbox
from services.sales.pnl import booking
from services.sales.pnl import republish_totals as publish_totals
from services.sales.pnl.tables import LedgerDay
from shared import migrations
from shared.events import make_event
from tests.conftest import auth
from tests.sales.conftest import completed, dispatcher_for, registered

SALES = "/api/v1/transactions"
FIGURES = ("revenue", "discounts", "returns", "cost_of_goods", "cost_to_serve", "allocations")


@pytest.fixture
def client(lite_app):
    return lite_app.test_client()


def published(app) -> list[dict]:
    with app.extensions["rapport"].db.reader() as s:
        bodies = s.scalars(
            select(Outbox.body)
            .where(Outbox.event_type == "ledger.totals_published")
            .order_by(Outbox.id)
        )
        return [json.loads(body)["payload"] for body in bodies]


def sell(client, at, **line):
    r = client.post(
        SALES,
        headers=auth(),
        json={
            "customer_id": "c1",
            "recorded_at": at,
            "lines": [{"quantity": "3", "unit_price": "10", "unit_cost": "4", **line}],
        },
    )
    assert r.status_code == 201, r.json
    return r.json


def day_pnl(client, day) -> dict:
    r = client.get(
        "/api/v1/pnl",
        headers=auth("analyst"),
        query_string={"group_by": "day", "from": day, "to": day},
    )
    return r.json["totals"]


def test_a_late_entry_republishes_its_past_day_with_a_higher_revision(lite_app, client):
    sale = sell(client, "2025-03-01T10:00:00+08:00", discount="1.005")
    sell(client, "2025-03-02T10:00:00+08:00")
    client.post(
        f"{SALES}/{sale['id']}/returns",
        headers=auth(),
        json={
            "returned_at": "2025-03-01T23:59:59+08:00",
            "lines": [{"line_no": 1, "quantity": "1"}],
        },
    )
    first = [p for p in published(lite_app) if p["day"] == "2025-03-01"]
    assert [p["revision"] for p in first] == [1, 2]
    newest, pnl = first[-1], day_pnl(client, "2025-03-01")
    assert {name: newest[name] for name in FIGURES} == {name: pnl[name] for name in FIGURES}
    assert (newest["revenue"], newest["discounts"], newest["returns"]) == (
        "30.01",
        "1.01",
        "9.67",
    )  # net 28.995 → 29.00 and discount 1.01, each rounded
    # once; a third of the line returned refunds 29.00 ÷ 3 → 9.67
    assert newest["net_contribution"] == pnl["net_contribution"]
    assert (newest["timezone"], newest["currency"]) == ("Asia/Hong_Kong", "HKD")
    assert [p["revision"] for p in published(lite_app) if p["day"] == "2025-03-02"] == [1]


def test_a_cancellation_republishes_the_day_it_is_made_on_without_the_discount(lite_app, client):
    sale = sell(client, datetime.now(UTC).isoformat(), unit_price="100", discount="50.00")
    r = client.post(f"{SALES}/{sale['id']}/cancellation", headers=auth(), json={"reason": "x"})
    assert r.status_code == 201
    newest = published(lite_app)[-1]
    assert (
        newest["revenue"],
        newest["discounts"],
        newest["cost_of_goods"],
        newest["net_contribution"],
        newest["revision"],
    ) == ("0.00", "0.00", "0.00", "0.00", 2)


def test_call_costs_are_published_as_booked_each_rounded_to_the_cent(lite_app):
    dispatcher = dispatcher_for(lite_app)
    for _ in range(3):
        dispatcher.dispatch(completed("c1", cost="3.1667"))
    dispatcher.dispatch(completed("c1", cost=None))
    newest = published(lite_app)[-1]
    assert (newest["cost_to_serve"], newest["calls"], newest["revision"]) == ("9.51", 4, 4)


def test_a_merge_moves_entries_between_customers_and_publishes_nothing(lite_app, client):
    dispatcher = dispatcher_for(lite_app)
    for cid in ("keep", "c1"):
        dispatcher.dispatch(registered(cid))
    sell(client, datetime.now(UTC).isoformat())
    before = published(lite_app)
    dispatcher.dispatch(
        make_event(
            "customer.merged",
            {"survivor_id": "keep", "merged_id": "c1", "merged_at": datetime.now(UTC)},
            producer="customer",
        )
    )
    assert published(lite_app) == before


def test_a_refused_write_publishes_nothing(lite_app, client):
    sale = sell(client, "2025-03-01T10:00:00+08:00")
    r = client.post(
        f"{SALES}/{sale['id']}/returns",
        headers=auth(),
        json={"lines": [{"line_no": 1, "quantity": "4"}]},
    )
    assert r.status_code == 422
    assert [p["revision"] for p in published(lite_app)] == [1]


def test_stored_totals_are_published_again_on_demand_with_the_next_revision(
    lite_app, client, sqlite_url
):
    sell(client, "2025-03-01T10:00:00+08:00")
    sell(client, "2025-03-02T10:00:00+08:00")
    env = {"SALES_DATABASE_URL": sqlite_url, "SALES_DEV_MODE": "1"}
    assert publish_totals.main(["--from", "2025-03-02"], env) == 0
    again = published(lite_app)[2:]
    assert [(p["day"], p["revision"], p["revenue"]) for p in again] == [("2025-03-02", 2, "30.00")]


def test_the_migration_fills_the_day_totals_from_the_summary_kept_before(sqlite_url):
    migrations.upgrade(sqlite_url, config.MIGRATIONS, "0091e87c9c9e")
    engine = create_engine(sqlite_url)
    keys = {
        "currency": "HKD",
        "segment": "",
        "product": "",
        "channel": "",
        "team": "",
        "agent_kind": "",
        "discounts": 0,
        "returns": 0,
        "cost_to_serve": 0,
        "allocations": 0,
        "calls": 0,
    }
    # Money as stored: ten-thousandths (10.01 and 0.99 of revenue, 0.04 of cost each).
    rows = [
        {**keys, "day": "2025-03-01", "customer_id": c, "revenue": stored, "cost_of_goods": 400}
        for c, stored in (("a", 100100), ("b", 9900))
    ]
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO pnl_daily VALUES (:day, :currency, :customer_id, :segment, :product, "
                ":channel, :team, :agent_kind, :revenue, :discounts, :returns, :cost_of_goods, "
                ":cost_to_serve, :allocations, :calls)"
            ),
            rows,
        )
    migrations.upgrade(sqlite_url, config.MIGRATIONS)
    with engine.connect() as conn:
        day = conn.execute(select(LedgerDay.__table__)).one()
    engine.dispose()
    assert (day.revenue, day.cost_of_goods, day.revision) == (Decimal("11"), Decimal("0.08"), 0)


def test_a_summary_increment_carries_its_amounts_in_their_stored_form():
    day = date(2025, 3, 1)
    row = booking.entry(
        day, "HKD", "c1", revenue=Decimal("1.50"), cost_to_serve=Decimal("0.01"), calls=1
    )
    assert [row[name] for name in (*FIGURES, "calls")] == [15000, 0, 0, 0, 100, 0, 1]
    assert row == booking.entry_of_units(
        day, "HKD", "c1", revenue=15000, cost_to_serve=100, calls=1
    )
    assert booking.entry(day, "HKD", "c1", returns=Decimal("-0"))["returns"] == 0
