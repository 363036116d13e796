"""The sales ledger API through Flask's test client on a migrated SQLite database."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from services.sales import config
from services.sales.app import create_app
from services.sales.db import Outbox
from services.sales.ledger.tables import Sale, SaleLine
from tests.conftest import auth

URL = "/api/v1/transactions"


@pytest.fixture
def app(service_app, sqlite_url):
    return service_app(create_app, config.MIGRATIONS, sqlite_url)


@pytest.fixture
def client(app):
    return app.test_client()


def counts(app) -> tuple[int, int, int]:
    with app.extensions["rapport"].db.reader() as s:
        return tuple(
            s.scalar(select(func.count()).select_from(model)) for model in (Sale, SaleLine, Outbox)
        )


def line(quantity="1", unit_price="10.00", unit_cost="4.00", **kw):
    return {"quantity": quantity, "unit_price": unit_price, "unit_cost": unit_cost, **kw}


def sale(*lines, customer_id="c1", **kw):
    return {"customer_id": customer_id, "lines": list(lines) or [line()], **kw}


def outbox_payloads(app) -> list[dict]:
    with app.extensions["rapport"].db.reader() as s:
        return [
            json.loads(row.body)["payload"] for row in s.scalars(select(Outbox).order_by(Outbox.id))
        ]


def test_record_sale_answers_exact_totals_as_strings_and_emits_the_event(app, client):
    client.post(
        "/api/v1/products",
        headers=auth(),
        json={
            "sku": "TEA-1",
            "name": "Jasmine tea",
            "price": "19.99",
            "unit_cost": "7.50",
            "effective_from": "2025-01-01T00:00:00+00:00",
        },
    )
    r = client.post(
        URL,
        headers=auth("agent"),
        json=sale(line("3", "19.99", "7.50", sku="TEA-1", description="Jasmine tea")),
    )
    assert r.status_code == 201
    body = r.json
    assert (body["revenue"], body["cost"], body["currency"]) == ("59.97", "22.50", "HKD")
    assert body["lines"] == [
        {
            "line_no": 1,
            "sku": "TEA-1",
            "description": "Jasmine tea",
            "quantity": "3.0000",
            "unit_price": "19.9900",
            "unit_cost": "7.5000",
            "discount": "0.0000",
        }
    ]
    assert body["customer_known"] is False and body["created_by"] == "tester"
    assert r.headers["Location"].endswith(f"{URL}/{body['id']}")
    assert counts(app) == (1, 1, 2)  # sale.recorded and its day's ledger totals
    event, totals = outbox_payloads(app)
    assert (totals["revenue"], totals["cost_of_goods"], totals["revision"]) == ("59.97", "22.50", 1)
    assert (event["sale_id"], event["revenue"], event["cost"]) == (body["id"], "59.97", "22.50")
    assert event["lines"][0]["unit_price"] == "19.9900"
    got = client.get(r.headers["Location"], headers=auth("analyst"))
    assert got.status_code == 200 and got.json == body


def test_totals_of_mixed_lines_are_summed_exactly_and_rounded_once(client):
    r = client.post(
        URL,
        headers=auth(),
        json=sale(
            line("2.5", "0.333", "0.1"),  # 0.8325   / 0.25
            line("0.0001", "12.3456", "0"),  # 0.00123456 / 0
            line("7", "1.0049", "0.0007"),  # 7.0343   / 0.0049
            currency="USD",
            recorded_at="2025-03-01T09:30:00+08:00",
        ),
    )
    assert r.status_code == 201
    # revenue 7.86803456 -> 7.87 (rounded per line it would be 0.83 + 0.00 + 7.03 = 7.86)
    # cost 0.2549 -> 0.25
    assert (r.json["revenue"], r.json["cost"], r.json["currency"]) == ("7.87", "0.25", "USD")
    assert r.json["recorded_at"] == "2025-03-01T01:30:00+00:00"
    assert [ln["line_no"] for ln in r.json["lines"]] == [1, 2, 3]


def test_half_cents_are_rounded_once_on_the_total_half_up(client):
    halves = client.post(
        URL, headers=auth(), json=sale(line("1", "0.005", "0.005"), line("1", "0.005", "0.0049"))
    )
    assert (halves.json["revenue"], halves.json["cost"]) == ("0.01", "0.01")
    one = client.post(URL, headers=auth(), json=sale(line("1", "0.005", "0.0049")))
    assert (one.json["revenue"], one.json["cost"]) == ("0.01", "0.00")


def test_a_sale_for_a_customer_not_yet_known_is_accepted_and_says_so(client):
    r = client.post(URL, headers=auth(), json=sale(customer_id="arrives-later"))
    assert r.status_code == 201 and r.json["customer_known"] is False


BAD = [
    (sale(line(quantity="-1")), "lines"),
    (sale(line(quantity="0")), "lines"),
    (sale(line(unit_price="-0.01")), "lines"),
    (sale(line(unit_cost="-5")), "lines"),
    ({"customer_id": "c1", "lines": []}, "lines"),
    ({"customer_id": "c1"}, "lines"),
    (sale(line(unit_price=12.5)), "lines"),
    (sale(line(quantity=1.0)), "lines"),
    (sale(line(unit_price="1.23456")), "lines"),
    (sale(line(unit_cost="abc")), "lines"),
    (sale(line(unit_price="NaN")), "lines"),
    (sale(line(unit_price="1e20")), "lines"),
    (sale(line(sku="x" * 65)), "lines"),
    (sale(line(description="x" * 201)), "lines"),
    (sale(line(discount="10.0001")), "lines"),  # more off than the line's amount
    (sale(line(discount="-1")), "lines"),
    (sale(line(sku="NO-SUCH-PRODUCT")), "lines"),
    (sale(line(unit_price=None)), "lines"),
    (sale(currency="hkd"), "currency"),
    (sale(currency="XX"), "currency"),
    (sale(currency="HKDD"), "currency"),
    (sale(customer_id=""), "customer_id"),
    (sale(customer_id="c" * 65), "customer_id"),
    ({"lines": [line()]}, "customer_id"),
    (sale(recorded_at="2025-03-01T09:30:00"), "recorded_at"),
    (sale(recorded_at=(datetime.now(UTC) + timedelta(days=1)).isoformat()), "recorded_at"),
    (sale(vip=True), "vip"),
    (sale(*[line()] * 501), "lines"),
    (sale(line("99999999", "9999999", "0")), "lines"),  # total past what the ledger holds
]


@pytest.mark.parametrize("body, field", BAD)
def test_bad_input_is_a_problem_naming_the_field_and_writes_nothing(app, client, body, field):
    r = client.post(URL, headers=auth(), json=body)
    assert r.status_code == 422, r.json
    assert r.content_type == "application/problem+json"
    assert field in r.json["errors"]
    assert counts(app) == (0, 0, 0)


def test_the_bad_line_is_named_by_position(client):
    r = client.post(URL, headers=auth(), json=sale(line(), line(unit_price=12.5)))
    assert list(r.json["errors"]["lines"]) == ["1"]
    assert "unit_price" in r.json["errors"]["lines"]["1"]


@pytest.mark.parametrize("data", ['{"customer_id": ', "[1, 2", "not json"])
def test_malformed_json_is_400_and_writes_nothing(app, client, data):
    r = client.post(URL, headers={**auth(), "Content-Type": "application/json"}, data=data)
    assert r.status_code == 400 and r.content_type == "application/problem+json"
    assert counts(app) == (0, 0, 0)


def test_a_body_that_is_not_an_object_is_422(app, client):
    r = client.post(URL, headers=auth(), json=[sale()])
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert counts(app) == (0, 0, 0)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nonsense"}])
def test_missing_or_forged_token_is_401(app, client, headers):
    r = client.post(URL, headers=headers, json=sale())
    assert r.status_code == 401 and r.content_type == "application/problem+json"
    assert client.get(URL, headers=headers).status_code == 401
    assert counts(app) == (0, 0, 0)


@pytest.mark.parametrize("body", [sale(), sale(line(quantity="-1"))])
def test_partner_gets_403_whatever_it_sends(app, client, body):
    partner = auth("partner", partner_id="p1")
    r = client.post(URL, headers=partner, json=body)
    assert r.status_code == 403 and r.content_type == "application/problem+json"
    assert client.get(URL, headers=partner).status_code == 403
    assert counts(app) == (0, 0, 0)


def test_analyst_reads_but_cannot_record(app, client):
    assert client.post(URL, headers=auth("analyst"), json=sale()).status_code == 403
    assert client.get(URL, headers=auth("analyst")).status_code == 200
    assert counts(app) == (0, 0, 0)


def test_the_ledger_is_append_only(client):
    location = client.post(URL, headers=auth(), json=sale()).headers["Location"]
    for method in ("put", "patch", "delete"):
        r = getattr(client, method)(location, headers=auth("admin"), json=sale())
        assert r.status_code == 405 and r.content_type == "application/problem+json"
    assert client.get(location, headers=auth()).json["revenue"] == "10.00"


def test_unknown_sale_is_404(client):
    r = client.get(f"{URL}/no-such-sale", headers=auth())
    assert r.status_code == 404 and r.content_type == "application/problem+json"


def test_list_is_newest_first_cursor_paginated_and_filtered_by_customer(client):
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for i in range(5):
        client.post(
            URL,
            headers=auth(),
            json=sale(
                line(unit_price=f"{i}.00"),
                customer_id="c1" if i % 2 == 0 else "c2",
                recorded_at=(start + timedelta(days=i % 3)).isoformat(),
            ),
        )
    seen, cursor = [], None
    while True:
        r = client.get(
            URL,
            headers=auth("analyst"),
            query_string={"limit": 2, **({"cursor": cursor} if cursor else {})},
        )
        assert all("lines" not in item for item in r.json["items"])
        seen += [(item["recorded_at"], item["id"]) for item in r.json["items"]]
        cursor = r.json["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 5 and seen == sorted(seen, reverse=True)
    mine = client.get(URL, headers=auth(), query_string={"customer_id": "c1"}).json["items"]
    assert sorted(item["revenue"] for item in mine) == ["0.00", "2.00", "4.00"]


@pytest.mark.parametrize("cursor", ["%%%", "WzEsMl0", "WyJub3QgYSBkYXRlIiwgIngiXQ"])
def test_a_cursor_this_api_did_not_issue_is_422(client, cursor):
    r = client.get(URL, headers=auth(), query_string={"cursor": cursor})
    assert r.status_code == 422 and "cursor" in r.json["errors"]


def test_health_and_metrics_need_no_token(client):
    assert client.get("/healthz").json["service"] == "sales"
    assert 'rapport_outbox_pending_events{service="sales"}' in client.get("/metrics").data.decode()
