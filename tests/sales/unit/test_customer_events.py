"""Customer events: segment updates (newest wins), merges and erasures."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.sales.customers.tables import Customer
from shared.events import make_event
from tests.conftest import auth
from tests.sales.conftest import completed, dispatcher_for, registered


@pytest.fixture
def client(lite_app):
    return lite_app.test_client()


def event(kind, at=None, **payload):
    return make_event(kind, payload, producer="customer", occurred_at=at)


def test_the_newest_update_wins_whatever_the_order(lite_app):
    dispatcher = dispatcher_for(lite_app)
    now = datetime.now(UTC)
    dispatcher.dispatch(registered("c1", segment="smb"))
    dispatcher.dispatch(
        event(
            "customer.updated", now + timedelta(seconds=10), customer_id="c1", segment="enterprise"
        )
    )
    dispatcher.dispatch(
        event("customer.updated", now + timedelta(seconds=5), customer_id="c1", segment="retail")
    )
    with lite_app.extensions["rapport"].db.reader() as s:
        assert s.get(Customer, "c1").segment == "enterprise"


def test_a_merge_moves_the_pnl_and_deals_to_the_survivor(lite_app, client):
    dispatcher = dispatcher_for(lite_app)
    for cid in ("keep", "gone"):
        dispatcher.dispatch(registered(cid))
    client.post(
        "/api/v1/transactions",
        headers=auth(),
        json={
            "customer_id": "gone",
            "lines": [{"quantity": "1", "unit_price": "10", "unit_cost": "4"}],
        },
    )
    dispatcher.dispatch(completed("gone", outcome="sale_opportunity", cost="3"))
    dispatcher.dispatch(completed("keep", cost="2"))
    dispatcher.dispatch(
        event("customer.merged", survivor_id="keep", merged_id="gone", merged_at=datetime.now(UTC))
    )
    client.post(
        "/api/v1/transactions",
        headers=auth(),
        json={
            "customer_id": "gone",
            "lines": [{"quantity": "1", "unit_price": "1", "unit_cost": "0"}],
        },
    )
    dispatcher.dispatch(completed("gone", outcome="sale_opportunity", cost="0"))
    groups = client.get(
        "/api/v1/pnl", headers=auth("analyst"), query_string={"group_by": "customer"}
    ).json["groups"]
    assert [(g["key"], g["revenue"], g["cost_to_serve"]) for g in groups] == [
        ("keep", "11.00", "5.00")
    ]
    deals = client.get("/api/v1/deals", headers=auth()).json["items"]
    assert [d["customer_id"] for d in deals] == ["keep", "keep"]
    unknown = client.get(
        "/api/v1/irregularities", headers=auth(), query_string={"kind": "unknown_customer"}
    ).json["items"]
    assert unknown == []


def test_an_erasure_forgets_the_name_and_keeps_the_ledger(lite_app, client):
    dispatcher = dispatcher_for(lite_app)
    dispatcher.dispatch(registered("c1"))
    sale = client.post(
        "/api/v1/transactions",
        headers=auth(),
        json={
            "customer_id": "c1",
            "lines": [{"quantity": "1", "unit_price": "10", "unit_cost": "4"}],
        },
    ).json
    dispatcher.dispatch(event("customer.erased", customer_id="c1", erased_at=datetime.now(UTC)))
    with lite_app.extensions["rapport"].db.reader() as s:
        row = s.scalar(select(Customer))
        assert (row.name, row.erased, row.segment) == (None, True, "smb")
    assert (
        client.get(f"/api/v1/transactions/{sale['id']}", headers=auth()).json["revenue"] == "10.00"
    )
