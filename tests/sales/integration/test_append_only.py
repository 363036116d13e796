"""The ledger has no update path: no route, and the database refuses UPDATE and
DELETE of every ledger table, on SQLite and on PostgreSQL."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.sales.append_only import LEDGER_TABLES
from tests.conftest import auth
from tests.sales.conftest import completed, dispatcher_for, local_today


def fill(app):
    client = app.test_client()
    client.post(
        "/api/v1/products",
        headers=auth(),
        json={
            "sku": "TEA-1",
            "name": "Tea",
            "price": "20",
            "unit_cost": "8",
            "effective_from": "2025-01-01T00:00:00+00:00",
        },
    )
    sale = client.post(
        "/api/v1/transactions",
        headers=auth(),
        json={"customer_id": "c1", "lines": [{"sku": "TEA-1", "quantity": "2"}]},
    ).json
    client.post(
        f"/api/v1/transactions/{sale['id']}/returns",
        headers=auth(),
        json={"lines": [{"line_no": 1, "quantity": "1"}]},
    )
    other = client.post(
        "/api/v1/transactions",
        headers=auth(),
        json={"customer_id": "c1", "lines": [{"sku": "TEA-1", "quantity": "1"}]},
    ).json
    client.post(
        f"/api/v1/transactions/{other['id']}/cancellation", headers=auth(), json={"reason": "test"}
    )
    dispatcher_for(app).dispatch(completed("c1", outcome="sale_opportunity"))
    today = local_today()
    r = client.post(
        "/api/v1/allocations",
        headers=auth(),
        json={
            "kind": "training",
            "amount": "100.00",
            "team": "east",
            "period_start": "2020-01-01",
            "period_end": today,
        },
    )
    assert r.status_code == 201, r.json
    return client, sale


def test_every_ledger_table_refuses_update_and_delete(sales_app):
    fill(sales_app)
    engine = sales_app.extensions["rapport"].db.engine
    for table in LEDGER_TABLES:
        with engine.connect() as conn:
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() > 0, table
        for statement in (
            f"UPDATE {table} SET {_column(table)} = {_column(table)}",
            f"DELETE FROM {table}",
        ):
            with engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
                conn.execute(text(statement))
                conn.commit()


def _column(table):
    return {
        "sales": "currency",
        "sale_lines": "sku",
        "sale_returns": "reason",
        "return_lines": "quantity",
        "sale_cancellations": "reason",
        "call_costs": "cost",
        "allocations": "note",
        "allocation_shares": "amount",
        "product_prices": "price",
        "deal_stages": "note",
    }[table]


def test_no_route_changes_or_deletes_a_ledger_entry(sales_app):
    client, sale = fill(sales_app)
    for path in (
        f"/api/v1/transactions/{sale['id']}",
        "/api/v1/allocations",
        f"/api/v1/transactions/{sale['id']}/returns",
    ):
        for method in ("put", "patch", "delete"):
            r = getattr(client, method)(path, headers=auth("admin"), json={})
            assert r.status_code == 405 and r.content_type == "application/problem+json"
