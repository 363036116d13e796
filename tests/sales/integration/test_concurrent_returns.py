"""Returns racing each other can never take back more than was sold together."""

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from tests.conftest import auth


def test_concurrent_returns_never_over_return(sales_app):
    client = sales_app.test_client()
    sale = client.post(
        "/api/v1/transactions",
        headers=auth(),
        json={
            "customer_id": "c1",
            "lines": [{"quantity": "5", "unit_price": "3.3333", "unit_cost": "1"}],
        },
    ).json

    def give_back(_):
        return sales_app.test_client().post(
            f"/api/v1/transactions/{sale['id']}/returns",
            headers=auth(),
            json={"lines": [{"line_no": 1, "quantity": "1"}]},
        )

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(give_back, range(8)))
    assert sorted(r.status_code for r in answers) == [201] * 5 + [422] * 3
    refunded = sum(Decimal(r.json["revenue"]) for r in answers if r.status_code == 201)
    assert refunded == Decimal(sale["revenue"]) == Decimal("16.67")
    pnl = client.get("/api/v1/pnl", headers=auth("analyst")).json["totals"]
    assert (pnl["returns"], pnl["cost_of_goods"], pnl["gross_margin"]) == ("16.67", "0.00", "0.00")
