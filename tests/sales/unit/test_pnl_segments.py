"""A segment's P&L is that of the customers in it now, history included: a
customer's summary rows move when its segment is learnt or changes, or when it is
merged into a customer of another segment, whichever order the events come in."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import permutations

import pytest
from sqlalchemy import create_engine, func, select, text

from services.sales import config
from services.sales.app import create_app
from services.sales.db import Outbox
from services.sales.pnl.tables import LedgerDay, PnlDaily, PnlSegment
from shared import migrations
from shared.events import make_event
from tests.conftest import auth
from tests.sales.conftest import completed, dispatcher_for

T0 = datetime(2025, 3, 1, 2, tzinfo=UTC)
FIGURES = ("revenue", "discounts", "cost_of_goods", "cost_to_serve", "calls")


def customer(kind, customer_id, segment, at):
    payload = {"customer_id": customer_id, "segment": segment, "name": customer_id}
    if kind == "customer.registered":
        payload["registered_at"] = at
    return make_event(kind, payload, producer="customer", occurred_at=at)


def sell(client, customer_id, day, price):
    r = client.post(
        "/api/v1/transactions",
        headers=auth(),
        json={
            "customer_id": customer_id,
            "recorded_at": f"2025-03-{day:02d}T10:00:00+08:00",
            "team": "east",
            "lines": [{"quantity": "1", "unit_price": price, "unit_cost": "1", "discount": "0.50"}],
        },
    )
    assert r.status_code == 201, r.json


def summary(app) -> list[tuple]:
    """The whole summary, and the days' totals: the state every order must reach."""
    with app.extensions["rapport"].db.reader() as s:
        rows = sorted(tuple(str(v) for v in row) for row in s.execute(select(PnlDaily.__table__)))
        days = sorted(tuple(str(v) for v in row) for row in s.execute(select(LedgerDay.__table__)))
    return rows + days


def by_segment(client) -> dict:
    r = client.get("/api/v1/pnl", headers=auth("analyst"), query_string={"group_by": "segment"})
    assert r.status_code == 200, r.json
    return {g["key"]: tuple(g[name] for name in FIGURES) for g in r.json["groups"]}


def published(app) -> int:
    with app.extensions["rapport"].db.reader() as s:
        return s.scalar(
            select(func.count())
            .select_from(Outbox)
            .where(Outbox.event_type == "ledger.totals_published")
        )


STEPS = ("registered", "sale", "updated", "call")


@pytest.fixture(scope="module")
def orders(tmp_path_factory):
    """The end state after the customer's registration (smb), a sale, an update to
    retail and a call, in every order they can arrive in."""

    def run(order):
        url = f"sqlite:///{tmp_path_factory.mktemp('order')}/sales.db"
        migrations.upgrade(url, config.MIGRATIONS)
        app = create_app({"DATABASE_URL": url, "DEV_MODE": "1"})
        client, dispatcher = app.test_client(), dispatcher_for(app)

        def dispatch(event):
            assert dispatcher.dispatch(event)

        steps = {
            "registered": lambda: dispatch(customer("customer.registered", "c1", "smb", T0)),
            "updated": lambda: dispatch(
                customer("customer.updated", "c1", "retail", T0 + timedelta(days=3))
            ),
            "sale": lambda: sell(client, "c1", 2, "10.00"),
            "call": lambda: dispatch(
                completed(
                    "c1",
                    cost="2.345",
                    call_id="call-1",
                    segment="smb",
                    completed_at=T0 + timedelta(days=1),
                )
            ),
        }
        for step in order:
            steps[step]()
        sell(client, "c1", 5, "7.00")
        state = summary(app), by_segment(client), published(app)
        app.extensions["rapport"].db.dispose()
        return state

    return {order: run(order) for order in permutations(STEPS)}


def test_a_segment_change_gives_the_same_summary_whichever_event_comes_first(orders):
    states = set()
    for order, (rows, segments, totals_published) in orders.items():
        # Everything under the segment the customer is in now, history included;
        # moving rows publishes no day's totals (one per write of entries).
        assert segments == {"retail": ("17.00", "1.00", "2.00", "2.35", 1)}, order
        assert totals_published == 3, order
        states.add(tuple(rows))
    assert len(states) == 1


def test_a_sale_before_its_customer_is_known_counts_as_unknown_until_it_is(lite_app):
    client, dispatcher = lite_app.test_client(), dispatcher_for(lite_app)
    sell(client, "c9", 2, "10.00")
    assert by_segment(client) == {"unknown": ("10.00", "0.50", "1.00", "0.00", 0)}
    before = summary(lite_app)[-1:]
    dispatcher.dispatch(customer("customer.registered", "c9", "enterprise", T0))
    assert by_segment(client) == {"enterprise": ("10.00", "0.50", "1.00", "0.00", 0)}
    assert summary(lite_app)[-1:] == before  # the day's totals are as they were
    assert published(lite_app) == 1


def test_a_merge_moves_the_merged_pnl_to_the_survivors_segment_and_with_it(lite_app):
    client, dispatcher = lite_app.test_client(), dispatcher_for(lite_app)
    dispatcher.dispatch(customer("customer.registered", "keep", "smb", T0))
    dispatcher.dispatch(customer("customer.registered", "gone", "retail", T0))
    sell(client, "keep", 2, "10.00")
    sell(client, "gone", 3, "20.00")
    dispatcher.dispatch(
        make_event(
            "customer.merged",
            {
                "survivor_id": "keep",
                "merged_id": "gone",
                "merged_at": T0 + timedelta(days=4),
                "segment": "smb",
            },
            producer="customer",
        )
    )
    assert by_segment(client) == {"smb": ("30.00", "1.00", "2.00", "0.00", 0)}
    sell(client, "gone", 4, "5.00")  # later entries of the merged customer too
    dispatcher.dispatch(customer("customer.updated", "keep", "enterprise", T0 + timedelta(days=5)))
    # A late update of the merged profile moves nothing: its P&L is the survivor's.
    dispatcher.dispatch(customer("customer.updated", "gone", "public", T0 + timedelta(days=6)))
    assert by_segment(client) == {"enterprise": ("35.00", "1.50", "3.00", "0.00", 0)}
    assert published(lite_app) == 3


def test_the_migration_moves_the_summary_kept_before_to_the_customers_segments(database_url):
    migrations.upgrade(database_url, config.MIGRATIONS, "a7d2c4e81f30")
    engine = create_engine(database_url)
    keys = {
        "day": "2025-03-01",
        "currency": "HKD",
        "product": "",
        "channel": "",
        "team": "",
        "agent_kind": "",
        "discounts": 0,
        "returns": 0,
        "cost_of_goods": 0,
        "cost_to_serve": 0,
        "allocations": 0,
    }
    # Booked under the segment of the day (Money stored as ten-thousandths): "a" was
    # retail, then smb; "b" never arrived.
    rows = [
        {**keys, "customer_id": c, "segment": seg, "revenue": stored, "calls": calls}
        for c, seg, stored, calls in (
            ("a", "retail", 100100, 1),
            ("a", "smb", 9900, 2),
            ("b", "", 50000, 0),
        )
    ]
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO customers (customer_id, segment, erased) VALUES ('a', 'smb', false)")
        )
        conn.execute(
            text(
                "INSERT INTO pnl_daily VALUES (:day, :currency, :customer_id, :segment, :product, "
                ":channel, :team, :agent_kind, :revenue, :discounts, :returns, :cost_of_goods, "
                ":cost_to_serve, :allocations, :calls)"
            ),
            rows,
        )
    migrations.upgrade(database_url, config.MIGRATIONS)
    with engine.connect() as conn:
        moved = conn.execute(
            select(
                PnlDaily.customer_id, PnlDaily.segment, PnlDaily.revenue, PnlDaily.calls
            ).order_by(PnlDaily.customer_id)
        ).all()
        held = conn.execute(
            select(PnlSegment.customer_id, PnlSegment.segment).order_by(PnlSegment.customer_id)
        ).all()
    engine.dispose()
    assert [tuple(row) for row in moved] == [
        ("a", "smb", Decimal("11"), 3),
        ("b", "unknown", Decimal("5"), 0),
    ]
    assert [tuple(row) for row in held] == [("a", "smb"), ("b", "unknown")]
