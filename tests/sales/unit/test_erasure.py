"""Erasure in the sales service: ``customer.erased`` forgets the name, the free text
of the customer's deals, the personal fields of its events in the outbox and the
stored answers about it (a replay is then 410 Gone and opens no second deal); the
ledger keeps its figures under the id."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from services.sales.db import Base, Outbox
from services.sales.deals.tables import Deal
from shared.events import make_event
from tests.conftest import auth
from tests.sales.conftest import dispatcher_for, registered

TITLE = "Tea for Mr Chan Tai Man's office"
LOST = "Mr Chan moved to Macau"
PERSONAL = ("Chan Tai Man", "Mr Chan", "Macau")


@pytest.fixture
def client(lite_app):
    return lite_app.test_client()


def open_deal(client, customer_id="c1", key="deal-1", title=TITLE):
    return client.post(
        "/api/v1/deals",
        json={"customer_id": customer_id, "amount": "1000.00", "title": title},
        headers={**auth("agent"), "Idempotency-Key": key},
    )


def erase(app, customer_id="c1", **payload):
    with app.extensions["rapport"].uow() as work:  # as the relay would have sent them
        work.session.execute(update(Outbox).values(sent_at=datetime.now(UTC)))
    assert dispatcher_for(app).dispatch(
        make_event(
            "customer.erased",
            {"customer_id": customer_id, "erased_at": datetime.now(UTC), **payload},
            producer="customer",
        )
    )


def everything(app) -> str:
    with app.extensions["rapport"].db.reader() as s:
        return " ".join(
            str(tuple(row))
            for table in Base.metadata.sorted_tables
            for row in s.execute(select(table))
        )


def test_a_replayed_deal_after_erasure_is_gone_and_opens_no_second_deal(lite_app, client):
    dispatcher_for(lite_app).dispatch(registered("c1"))
    first = open_deal(client)
    assert first.status_code == 201, first.json
    assert open_deal(client).json == first.json  # before the erasure: the stored answer
    erase(lite_app)
    replay = open_deal(client)
    assert replay.status_code == 410 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.headers["Content-Type"] == "application/problem+json"
    assert not [v for v in PERSONAL if v in replay.get_data(as_text=True)]
    with lite_app.extensions["rapport"].db.reader() as s:
        assert s.scalar(select(func.count()).select_from(Deal)) == 1


def test_erasure_leaves_no_personal_value_in_any_sales_table_or_sent_event(lite_app, client):
    dispatcher_for(lite_app).dispatch(registered("c1"))
    dispatcher_for(lite_app).dispatch(registered("c2", name="Wong Siu Fong"))
    deal = open_deal(client).json
    r = client.post(
        f"/api/v1/deals/{deal['id']}/stage",
        headers=auth("agent"),
        json={"to_stage": "lost", "lost_reason": LOST},
    )
    assert r.status_code == 200, r.json
    kept = open_deal(client, "c2", key="deal-2", title="Wong's renewal").json
    sale = client.post(
        "/api/v1/transactions",
        headers=auth(),
        json={
            "customer_id": "c1",
            "lines": [{"quantity": "1", "unit_price": "10", "unit_cost": "4"}],
        },
    )
    assert sale.status_code == 201, sale.json
    assert all(v in everything(lite_app) for v in PERSONAL)
    erase(lite_app)
    stored = everything(lite_app)
    assert not [v for v in PERSONAL if v in stored]
    assert "Wong Siu Fong" in stored and "Wong's renewal" in stored  # others untouched
    assert open_deal(client, "c2", key="deal-2", title="Wong's renewal").json == kept
    got = client.get(f"/api/v1/transactions/{sale.json['id']}", headers=auth()).json
    assert (got["customer_id"], got["revenue"]) == ("c1", "10.00")  # the ledger stays


def test_an_erasure_forgets_the_names_of_profiles_merged_into_the_customer(lite_app):
    for customer_id, name in (("c1", "Chan Tai Man"), ("c9", "Chan T. M.")):
        dispatcher_for(lite_app).dispatch(registered(customer_id, name=name))
    erase(lite_app, merged_ids=["c9"])
    stored = everything(lite_app)
    assert "Chan T. M." not in stored and "Chan Tai Man" not in stored


def test_an_answer_with_no_personal_data_still_replays_after_the_erasure(lite_app, client):
    body = {"customer_id": "c1", "lines": [{"quantity": "1", "unit_price": "10", "unit_cost": "4"}]}
    headers = {**auth(), "Idempotency-Key": "sale-1"}
    sale = client.post("/api/v1/transactions", json=body, headers=headers)
    assert sale.status_code == 201, sale.json
    erase(lite_app)
    again = client.post("/api/v1/transactions", json=body, headers=headers)
    assert again.status_code == 201 and again.json == sale.json  # ids and money only
