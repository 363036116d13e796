"""Products: price and cost history, and sales taking the price in effect at their time."""

import pytest
from sqlalchemy import func, select

from services.sales.catalogue.tables import Product, ProductPrice
from services.sales.ledger.tables import Sale
from tests.conftest import auth

PRODUCTS, SALES = "/api/v1/products", "/api/v1/transactions"


@pytest.fixture
def client(lite_app):
    return lite_app.test_client()


def product(sku="TEA-1", price="20.00", unit_cost="8.00", **kw):
    return {
        "sku": sku,
        "name": "Jasmine tea",
        "category": "tea",
        "price": price,
        "unit_cost": unit_cost,
        "effective_from": "2025-01-01T00:00:00+00:00",
        **kw,
    }


def counts(app):
    with app.extensions["rapport"].db.reader() as s:
        return tuple(
            s.scalar(select(func.count()).select_from(m)) for m in (Product, ProductPrice, Sale)
        )


def test_a_product_keeps_its_price_history_and_sales_take_the_price_of_their_time(client):
    r = client.post(PRODUCTS, headers=auth(), json=product())
    assert r.status_code == 201, r.json
    assert r.json["current"]["price"] == "20.0000"
    r = client.post(
        f"{PRODUCTS}/TEA-1/prices",
        headers=auth(),
        json={"price": "22.00", "unit_cost": "9.50", "effective_from": "2025-07-01T00:00:00+08:00"},
    )
    assert r.status_code == 201, r.json
    history = client.get(f"{PRODUCTS}/TEA-1", headers=auth("analyst")).json
    assert [(p["price"], p["unit_cost"]) for p in history["prices"]] == [
        ("20.0000", "8.0000"),
        ("22.0000", "9.5000"),
    ]
    assert history["current"]["unit_cost"] == "9.5000"

    def sell(when):
        return client.post(
            SALES,
            headers=auth(),
            json={
                "customer_id": "c1",
                "recorded_at": when,
                "lines": [{"sku": "TEA-1", "quantity": "2"}],
            },
        ).json

    june, july = sell("2025-06-30T23:59:59+08:00"), sell("2025-07-01T00:00:00+08:00")
    assert (june["revenue"], june["cost"]) == ("40.00", "16.00")
    assert (july["revenue"], july["cost"]) == ("44.00", "19.00")
    given = client.post(
        SALES,
        headers=auth(),
        json={
            "customer_id": "c1",
            "recorded_at": "2025-06-01T00:00:00+00:00",
            "lines": [{"sku": "TEA-1", "quantity": "1", "unit_price": "18.00"}],
        },
    ).json
    assert (given["revenue"], given["cost"]) == ("18.00", "8.00")  # cost still the catalogue's


def test_products_list_by_sku_with_a_cursor(client):
    for sku in ("C", "A", "B"):
        assert client.post(PRODUCTS, headers=auth(), json=product(sku)).status_code == 201
    first = client.get(PRODUCTS, headers=auth(), query_string={"limit": 2}).json
    rest = client.get(
        PRODUCTS, headers=auth(), query_string={"limit": 2, "cursor": first["next_cursor"]}
    ).json
    assert [p["sku"] for p in first["items"] + rest["items"]] == ["A", "B", "C"]
    assert rest["next_cursor"] is None


def test_a_duplicate_sku_or_price_date_is_409_and_writes_nothing(lite_app, client):
    client.post(PRODUCTS, headers=auth(), json=product())
    before = counts(lite_app)
    assert client.post(PRODUCTS, headers=auth(), json=product()).status_code == 409
    r = client.post(
        f"{PRODUCTS}/TEA-1/prices",
        headers=auth(),
        json={"price": "1", "unit_cost": "1", "effective_from": "2025-01-01T00:00:00+00:00"},
    )
    assert r.status_code == 409 and r.content_type == "application/problem+json"
    assert (
        client.post(
            f"{PRODUCTS}/NOPE/prices", headers=auth(), json={"price": "1", "unit_cost": "1"}
        ).status_code
        == 404
    )
    assert counts(lite_app) == before


@pytest.mark.parametrize(
    "body, field",
    [
        (product(price="-1"), "price"),
        (product(price=19.99), "price"),
        (product(unit_cost="1.00001"), "unit_cost"),
        (product(currency="hkd"), "currency"),
        (product(sku=""), "sku"),
        ({"sku": "X", "price": "1", "unit_cost": "1"}, "name"),
    ],
)
def test_bad_products_are_problems_and_write_nothing(lite_app, client, body, field):
    r = client.post(PRODUCTS, headers=auth(), json=body)
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert field in r.json["errors"]
    assert counts(lite_app) == (0, 0, 0)


@pytest.mark.parametrize(
    "line, currency, field",
    [
        ({"sku": "NOPE", "quantity": "1"}, "HKD", "sku"),  # unknown product
        ({"sku": "TEA-1", "quantity": "1"}, "USD", "sku"),  # wrong currency
        ({"sku": "TEA-1", "quantity": "-1"}, "HKD", "quantity"),  # negative quantity
        ({"sku": "TEA-1", "quantity": "1", "unit_price": "1.00001"}, "HKD", "unit_price"),
        ({"sku": "TEA-1", "quantity": "1", "discount": "20.01"}, "HKD", "discount"),
    ],
)
def test_bad_sale_lines_name_the_problem_and_write_nothing(lite_app, client, line, currency, field):
    client.post(PRODUCTS, headers=auth(), json=product())
    r = client.post(
        SALES,
        headers=auth(),
        json={
            "customer_id": "c1",
            "currency": currency,
            "lines": [{"quantity": "1", "unit_price": "1", "unit_cost": "1"}, line],
        },
    )
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert field in r.json["errors"]["lines"]["1"]
    assert counts(lite_app) == (1, 1, 0)


def test_a_sale_before_any_price_needs_its_price_and_cost(client):
    client.post(PRODUCTS, headers=auth(), json=product())
    r = client.post(
        SALES,
        headers=auth(),
        json={
            "customer_id": "c1",
            "recorded_at": "2024-12-31T00:00:00+00:00",
            "lines": [{"sku": "TEA-1", "quantity": "1"}],
        },
    )
    assert r.status_code == 422
    assert set(r.json["errors"]["lines"]["0"]) == {"unit_price", "unit_cost"}


def test_only_managers_change_the_catalogue(client):
    assert client.post(PRODUCTS, headers=auth("agent"), json=product()).status_code == 403
    assert client.get(PRODUCTS, headers=auth("agent")).status_code == 200
