"""The sales service's part of a data-subject export, from its own tables: a
customer's deal with its stage history and sales with lines, a return and a
cancellation, the records of a merged profile, and nothing of anyone else."""

import json
from datetime import UTC, datetime

from sqlalchemy import select

from services.sales.db import Outbox
from shared.events import make_event
from tests.conftest import auth
from tests.sales.conftest import dispatcher_for, registered

SALES, DEALS = "/api/v1/transactions", "/api/v1/deals"


def requested(export_id="x1", ids=("c1",)):
    return make_event(
        "subject.export_requested",
        {
            "export_id": export_id,
            "customer_id": ids[0],
            "customer_ids": list(ids),
            "requested_at": datetime.now(UTC),
        },
        producer="customer",
    )


def contributions(app) -> list[dict]:
    with app.extensions["rapport"].db.reader() as s:
        return [
            json.loads(row.body)["payload"]
            for row in s.scalars(
                select(Outbox)
                .where(Outbox.event_type == "subject.export_contributed")
                .order_by(Outbox.id)
            )
        ]


def sell(client, customer_id, *lines, **kw):
    r = client.post(
        SALES,
        headers=auth(),
        json={
            "customer_id": customer_id,
            "recorded_at": "2025-03-01T10:00:00+08:00",
            "lines": list(lines),
            **kw,
        },
    )
    assert r.status_code == 201, r.json
    return r.json


def test_a_customers_deal_and_sales_with_lines_returns_and_cancellation_are_contributed(lite_app):
    client, dispatcher = lite_app.test_client(), dispatcher_for(lite_app)
    dispatcher.dispatch(registered("c1", name="Chan Tai Man"))
    deal = client.post(DEALS, headers=auth("agent"), json={"customer_id": "c1"}).json
    r = client.post(
        f"{DEALS}/{deal['id']}/stage", headers=auth("agent"), json={"to_stage": "qualified"}
    )
    assert r.status_code == 200, r.json
    kept = sell(
        client,
        "c1",
        {"description": "Jasmine tea", "quantity": "3", "unit_price": "19.99", "unit_cost": "7.50"},
        {"quantity": "1", "unit_price": "5", "unit_cost": "1"},
        deal_id=deal["id"],
    )
    r = client.post(
        f"{SALES}/{kept['id']}/returns",
        headers=auth(),
        json={"lines": [{"line_no": 1, "quantity": "1"}], "reason": "broken"},
    )
    assert r.status_code == 201, r.json
    undone = sell(client, "c0", {"quantity": "1", "unit_price": "8", "unit_cost": "2"})
    r = client.post(
        f"{SALES}/{undone['id']}/cancellation", headers=auth(), json={"reason": "keyed twice"}
    )
    assert r.status_code == 201, r.json
    sell(client, "someone-else", {"quantity": "1", "unit_price": "9", "unit_cost": "1"})

    event = requested(ids=("c1", "c0"))  # c0 was merged into c1
    assert dispatcher.dispatch(event)
    assert dispatcher.dispatch(event)  # redelivered: answered once
    [answer] = contributions(lite_app)
    assert (
        answer["export_id"],
        answer["customer_id"],
        answer["service"],
        answer["part"],
        answer["parts"],
    ) == ("x1", "c1", "sales", 1, 1)
    found = answer["sections"]
    assert [(c["customer_id"], c["name"]) for c in found["customer"]] == [("c1", "Chan Tai Man")]
    [got_deal] = found["deals"]
    assert (got_deal["id"], got_deal["stage"]) == (deal["id"], "qualified")
    assert [s["stage"] for s in got_deal["stage_history"]] == ["lead", "qualified"]
    by_id = {s["id"]: s for s in found["sales"]}
    assert set(by_id) == {kept["id"], undone["id"]}
    first = by_id[kept["id"]]
    assert (first["deal_id"], first["revenue"]) == (deal["id"], kept["revenue"])
    assert next(
        (line["description"], line["quantity"], line["unit_price"]) for line in first["lines"]
    ) == ("Jasmine tea", "3.00", "19.99")
    assert len(first["lines"]) == 2
    [returned] = first["returns"]
    assert (returned["reason"], [line["line_no"] for line in returned["lines"]]) == ("broken", [1])
    assert first["cancellation"] is None
    assert by_id[undone["id"]]["cancellation"]["reason"] == "keyed twice"


def test_a_customer_sales_never_heard_of_gets_an_answer_with_empty_sections(lite_app):
    dispatcher = dispatcher_for(lite_app)
    assert dispatcher.dispatch(requested(ids=("nobody",)))
    [answer] = contributions(lite_app)
    assert answer["sections"] == {
        "customer": [],
        "merges": [],
        "deals": [],
        "sales": [],
        "call_costs": [],
    }
