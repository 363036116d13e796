"""Recording and reading sales on SQLite and on PostgreSQL: exact money, pagination."""

from datetime import UTC, datetime, timedelta

import pytest

from services.sales import config
from services.sales.app import create_app
from tests.conftest import auth

URL = "/api/v1/transactions"


@pytest.fixture
def client(service_app, database_url):
    app = service_app(create_app, config.MIGRATIONS, database_url)
    yield app.test_client()
    app.extensions["rapport"].db.dispose()


def test_a_sale_round_trips_exactly(client):
    client.post(
        "/api/v1/products",
        headers=auth(),
        json={
            "sku": "TEA-1",
            "name": "Jasmine tea",
            "currency": "EUR",
            "price": "19.99",
            "unit_cost": "7.5",
            "effective_from": "2025-01-01T00:00:00+00:00",
        },
    )
    r = client.post(
        URL,
        headers=auth(),
        json={
            "customer_id": "c1",
            "currency": "EUR",
            "recorded_at": "2025-06-30T23:59:59.123456+02:00",
            "lines": [
                {"quantity": "1", "unit_price": "99999999999.9999", "unit_cost": "0.0001"},
                {"quantity": "3", "unit_price": "19.99", "unit_cost": "7.5", "sku": "TEA-1"},
            ],
        },
    )
    assert r.status_code == 201, r.json
    assert (r.json["revenue"], r.json["cost"]) == ("100000000059.97", "22.50")
    got = client.get(r.headers["Location"], headers=auth("analyst")).json
    assert got == r.json
    assert got["lines"][0]["unit_price"] == "99999999999.9999"
    assert got["recorded_at"] == "2025-06-30T21:59:59.123456+00:00"


def test_pages_follow_recorded_at_then_id(client):
    when = datetime(2025, 1, 1, tzinfo=UTC)
    ids = [
        client.post(
            URL,
            headers=auth(),
            json={
                "customer_id": "c1",
                "recorded_at": (when + timedelta(hours=i // 2)).isoformat(),
                "lines": [{"quantity": "1", "unit_price": "1", "unit_cost": "0"}],
            },
        ).json["id"]
        for i in range(5)
    ]
    seen, cursor = [], None
    while True:
        page = client.get(
            URL,
            headers=auth(),
            query_string={
                "customer_id": "c1",
                "limit": 2,
                **({"cursor": cursor} if cursor else {}),
            },
        ).json
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 5
    expected = (
        sorted(ids[4:], reverse=True)
        + sorted(ids[2:4], reverse=True)
        + sorted(ids[:2], reverse=True)
    )
    assert seen == expected
