"""Deals: the legal path through the sales cycle, stage history, and deals opened
by calls, once."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from services.sales.db import Outbox
from services.sales.deals.tables import Deal, DealStage
from services.sales.pnl.tables import CallCost, PnlDaily
from tests.conftest import auth
from tests.sales.conftest import completed, dispatcher_for, registered

DEALS = "/api/v1/deals"


@pytest.fixture
def client(lite_app):
    return lite_app.test_client()


def move(client, deal_id, to_stage, **kw):
    return client.post(
        f"{DEALS}/{deal_id}/stage", headers=auth("agent"), json={"to_stage": to_stage, **kw}
    )


def count(app, model):
    with app.extensions["rapport"].db.reader() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_a_deal_walks_the_cycle_and_keeps_its_history(lite_app, client):
    r = client.post(
        DEALS,
        headers=auth("agent"),
        json={"customer_id": "c1", "amount": "1000.00", "title": "Tea for the office"},
    )
    assert r.status_code == 201, r.json
    deal = r.json
    assert (deal["stage"], deal["probability"], deal["expected_value"]) == ("lead", 10, "100.00")
    assert deal["allowed_next"] == ["qualified", "lost"]
    for stage, probability in (
        ("qualified", 25),
        ("proposal", 50),
        ("negotiation", 75),
        ("won", 100),
    ):
        r = move(client, deal["id"], stage)
        assert r.status_code == 200, r.json
        assert (r.json["stage"], r.json["probability"]) == (stage, probability)
    got = client.get(r.headers.get("Location") or f"{DEALS}/{deal['id']}", headers=auth()).json
    assert [h["stage"] for h in got["history"]] == [
        "lead",
        "qualified",
        "proposal",
        "negotiation",
        "won",
    ]
    assert all(h["seconds"] >= 0 for h in got["history"][:-1])
    assert got["history"][-1]["seconds"] is None and got["allowed_next"] == []
    with lite_app.extensions["rapport"].db.reader() as s:
        types = [json.loads(b)["event_type"] for b in s.scalars(select(Outbox.body))]
    assert types == ["deal.created"] + ["deal.stage_changed"] * 4


@pytest.mark.parametrize(
    "path, to_stage",
    [
        ([], "proposal"),
        ([], "won"),
        (["qualified"], "lead"),
        (["qualified"], "negotiation"),
        (["qualified", "proposal", "negotiation", "won"], "lost"),
        (["lost"], "qualified"),
        ([], "lead"),
    ],
)
def test_illegal_transitions_are_409_and_change_nothing(lite_app, client, path, to_stage):
    deal = client.post(DEALS, headers=auth(), json={"customer_id": "c1"}).json
    for stage in path:
        assert move(client, deal["id"], stage, lost_reason="price").status_code == 200
    before = client.get(f"{DEALS}/{deal['id']}", headers=auth()).json
    r = move(client, deal["id"], to_stage, lost_reason="x")
    assert r.status_code == 409 and r.content_type == "application/problem+json"
    assert "to_stage" in r.json["errors"]
    after = client.get(f"{DEALS}/{deal['id']}", headers=auth()).json
    assert after["stage"] == before["stage"] and len(after["history"]) == len(before["history"])


def test_a_lost_deal_needs_a_reason(client):
    deal = client.post(DEALS, headers=auth(), json={"customer_id": "c1"}).json
    assert move(client, deal["id"], "lost").status_code == 422
    assert move(client, deal["id"], "bogus").status_code == 422
    r = move(client, deal["id"], "lost", lost_reason="went with a competitor")
    assert (r.json["stage"], r.json["lost_reason"]) == ("lost", "went with a competitor")
    assert move(client, "nope", "qualified").status_code == 404


def test_deals_list_by_stage_with_a_cursor(client):
    ids = [
        client.post(DEALS, headers=auth(), json={"customer_id": f"c{i}"}).json["id"]
        for i in range(3)
    ]
    move(client, ids[0], "qualified")
    leads = client.get(
        DEALS, headers=auth("analyst"), query_string={"stage": "lead", "limit": 1}
    ).json
    more = client.get(
        DEALS,
        headers=auth("analyst"),
        query_string={"stage": "lead", "limit": 1, "cursor": leads["next_cursor"]},
    ).json
    assert {d["id"] for d in leads["items"] + more["items"]} == set(ids[1:])


def test_a_duplicated_call_completed_opens_one_deal_and_books_one_cost(sales_app):
    lite_app, client = sales_app, sales_app.test_client()  # on SQLite and PostgreSQL
    dispatcher = dispatcher_for(lite_app)
    dispatcher.dispatch(registered("c1", segment="smb"))
    event = completed("c1", outcome="sale_opportunity", cost="12.345", call_id="call-1")
    assert dispatcher.dispatch(event)
    assert dispatcher.dispatch(event)  # the broker redelivers it
    resent = completed("c1", outcome="sale_opportunity", cost="12.345", call_id="call-1")
    assert dispatcher.dispatch(resent)  # the calls service sends it again, new event id
    assert dispatcher.dispatch_batch(
        [completed("c1", outcome="sale_opportunity", call_id="call-2")] * 1
        + [completed("c1", outcome="sale_opportunity", call_id="call-2")]
    ) == [True, True]
    assert (count(lite_app, Deal), count(lite_app, DealStage), count(lite_app, CallCost)) == (
        2,
        2,
        2,
    )
    deal = client.get(DEALS, headers=auth(), query_string={"customer_id": "c1"}).json["items"]
    assert {d["source_call_id"] for d in deal} == {"call-1", "call-2"}
    assert {(d["owner"], d["segment"], d["stage"]) for d in deal} == {("a1", "smb", "lead")}
    with lite_app.extensions["rapport"].db.reader() as s:
        assert s.scalar(select(func.sum(PnlDaily.calls))) == 2
        costs = sorted(s.scalars(select(CallCost.cost)))
    assert [str(c) for c in costs] == ["12.3500", "12.5000"]  # rounded once, half up
    r = client.post(DEALS, headers=auth(), json={"customer_id": "c1", "source_call_id": "call-1"})
    assert r.status_code == 409


def test_a_call_without_an_opportunity_opens_no_deal(lite_app):
    dispatcher = dispatcher_for(lite_app)
    dispatcher.dispatch(completed("c1", outcome="interested", cost=None))
    assert (count(lite_app, Deal), count(lite_app, CallCost)) == (0, 1)


def test_a_deal_stuck_in_a_stage_is_an_irregularity(lite_app, client):
    deal = client.post(DEALS, headers=auth(), json={"customer_id": "c1"}).json
    client.post(DEALS, headers=auth(), json={"customer_id": "c2"})
    with lite_app.extensions["rapport"].db.transaction() as s:  # an old deal, as if it waited
        s.execute(
            update(Deal)
            .where(Deal.id == deal["id"])
            .values(stage_entered_at=datetime.now(UTC) - timedelta(days=45))
        )
    r = client.get(
        "/api/v1/irregularities", headers=auth("analyst"), query_string={"kind": "stuck_deal"}
    )
    assert [i["deal_id"] for i in r.json["items"]] == [deal["id"]]
    r = client.get(
        "/api/v1/irregularities",
        headers=auth("analyst"),
        query_string={"kind": "stuck_deal", "days": 60},
    )
    assert r.json["items"] == []
