"""Sales booked while their customers' segments change, on PostgreSQL with writers
and the consumer racing: nothing is lost and nothing is left under a segment the
customer has left."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from services.sales import config
from services.sales.app import create_app
from services.sales.pnl.tables import PnlDaily
from shared.events import make_event
from tests.conftest import auth
from tests.sales.conftest import dispatcher_for

SALES, MOVES = 120, 20
SEGMENTS = ("smb", "retail", "enterprise")
T0 = datetime(2025, 3, 1, tzinfo=UTC)


@pytest.fixture
def app(service_app, postgres_database):
    app = service_app(create_app, config.MIGRATIONS, postgres_database)
    yield app
    app.extensions["rapport"].db.dispose()


def updated(customer_id, n):
    kind = "customer.registered" if n == 0 else "customer.updated"
    return make_event(
        kind,
        {
            "customer_id": customer_id,
            "name": customer_id,
            "segment": SEGMENTS[n % 3],
            "registered_at": T0,
        },
        producer="customer",
        occurred_at=T0 + timedelta(minutes=n),
    )


def test_sales_racing_segment_changes_all_end_under_the_customers_segment(app):
    dispatcher = dispatcher_for(app)

    def sell(n):
        return app.test_client().post(
            "/api/v1/transactions",
            headers=auth(),
            json={
                "customer_id": f"c{n % 2}",
                "recorded_at": f"2025-03-{n % 5 + 1:02d}T10:00:00+00:00",
                "lines": [{"quantity": "1", "unit_price": f"{n + 1}.01", "unit_cost": "1"}],
            },
        )

    def consume():
        # c0 is known from the start; c1 is registered after its first sales.
        for n in range(MOVES):
            for customer_id in ("c0", "c1"):
                assert dispatcher.dispatch(updated(customer_id, n))

    assert dispatcher.dispatch(updated("c0", 0))
    with ThreadPoolExecutor(8) as pool:
        consumer = pool.submit(consume)
        sold = pool.map(sell, range(SALES))
        answers = list(sold)
        consumer.result()
    assert [r.status_code for r in answers] == [201] * SALES
    final = SEGMENTS[(MOVES - 1) % 3]  # the newest update
    groups = (
        app.test_client()
        .get("/api/v1/pnl", headers=auth("analyst"), query_string={"group_by": "segment"})
        .json["groups"]
    )
    assert [(g["key"], g["revenue"]) for g in groups] == [
        (final, str(sum(Decimal(r.json["revenue"]) for r in answers)))
    ]
    with app.extensions["rapport"].db.reader() as s:
        assert set(s.scalars(select(PnlDaily.segment))) == {final}
