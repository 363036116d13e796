"""Sales handlers run through the real dispatcher and inbox, without a broker."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from services.sales import config
from services.sales.app import create_app
from services.sales.customers.tables import Customer
from services.sales.db import Inbox, Outbox
from services.sales.handlers import prepare, subscriptions
from services.sales.pnl.tables import CallCost, PnlDaily
from shared import migrations
from shared.db import Database
from shared.entrypoints import build_dispatcher
from shared.events import make_event
from shared.messaging.topology import BINDINGS
from tests.conftest import auth


@pytest.fixture
def dispatcher(sqlite_url):
    migrations.upgrade(sqlite_url, config.MIGRATIONS)
    settings = config.load({"DATABASE_URL": sqlite_url, "DEV_MODE": "1"})
    return build_dispatcher(
        settings, Database(sqlite_url), Outbox, Inbox, subscriptions(settings), prepare
    )


def registered(customer_id="c1", **kw):
    payload = {
        "customer_id": customer_id,
        "name": "Chan Tai Man",
        "phone": "+85291234567",
        "segment": "smb",
        "registered_at": datetime.now(UTC),
        **kw,
    }
    return make_event("customer.registered", payload, producer="customer")


def known(dispatcher) -> list[tuple]:
    with dispatcher.uow.reader() as s:
        return [
            (c.customer_id, c.segment, c.name)
            for c in s.scalars(select(Customer).order_by(Customer.customer_id))
        ]


def test_subscriptions_are_exactly_the_queue_bindings():
    handlers = subscriptions(config.load({"DEV_MODE": "1"}))
    assert set(handlers) == set(BINDINGS["sales"])
    assert all(h.__name__ == "on_" + "_".join(key.split(".")[:2]) for key, [h] in handlers.items())


def test_registration_is_projected_and_a_redelivery_changes_nothing(dispatcher):
    event = registered()
    assert dispatcher.dispatch(event)
    with dispatcher.uow() as work:  # were the redelivery applied, this would be overwritten
        work.session.get(Customer, "c1").name = "edited"
    assert dispatcher.dispatch(event)
    assert known(dispatcher) == [("c1", "smb", "edited")]
    with dispatcher.uow.reader() as s:
        assert s.scalar(select(func.count()).select_from(Inbox)) == 1
        assert s.scalar(select(func.count()).select_from(Outbox)) == 0


def test_a_second_registration_of_the_same_customer_updates_the_projection(dispatcher):
    dispatcher.dispatch(registered(segment="smb"))
    dispatcher.dispatch(registered(segment="enterprise", name="Chan Tai Man Ltd"))
    assert known(dispatcher) == [("c1", "enterprise", "Chan Tai Man Ltd")]


def test_sales_show_the_customer_known_once_its_registration_arrives(
    dispatcher, service_app, sqlite_url
):
    client = service_app(create_app, config.MIGRATIONS, sqlite_url).test_client()
    body = {"customer_id": "c1", "lines": [{"quantity": "1", "unit_price": "5", "unit_cost": "1"}]}
    early = client.post("/api/v1/transactions", headers=auth(), json=body)
    assert early.json["customer_known"] is False
    dispatcher.dispatch(registered())
    later = client.post("/api/v1/transactions", headers=auth(), json=body)
    assert later.json["customer_known"] is True
    again = client.get(early.headers["Location"], headers=auth())
    assert again.json["customer_known"] is True
    listed = client.get("/api/v1/transactions", headers=auth()).json["items"]
    assert [item["customer_known"] for item in listed] == [True, True]


def _consumer(url: str):
    migrations.upgrade(url, config.MIGRATIONS)
    settings = config.load({"DATABASE_URL": url, "DEV_MODE": "1"})
    return build_dispatcher(
        settings, Database(url), Outbox, Inbox, subscriptions(settings), prepare
    )


def _costs_and_summary(dispatcher) -> tuple:
    with dispatcher.uow.reader() as s:
        costs = s.execute(
            select(
                CallCost.call_id, CallCost.customer_id, CallCost.cost, CallCost.segment
            ).order_by(CallCost.call_id)
        ).all()
        summary = s.execute(
            select(
                PnlDaily.customer_id, PnlDaily.segment, PnlDaily.cost_to_serve, PnlDaily.calls
            ).order_by(PnlDaily.customer_id, PnlDaily.segment)
        ).all()
    return costs, summary


def test_a_window_of_calls_books_what_the_calls_one_at_a_time_book(tmp_path):
    """The window's calls are looked up at once (``prepare``): a call booked by an
    earlier window, one sent twice in the window, a customer's segment read from
    what sales knows of it or unknown, all as when each event comes alone."""
    at = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

    def call(call_id, customer_id, cost, segment=None):
        payload = {
            "call_id": call_id,
            "customer_id": customer_id,
            "channel": "phone",
            "outcome": "reached",
            "completed_at": at,
            "cost": cost,
            "segment": segment,
        }
        return make_event("call.completed", payload, producer="calls")

    first = [registered("c1", segment="vip"), call("k1", "c1", "2.005")]
    window = [
        call("k1", "c1", "2.005"),  # booked by the earlier window, sent again
        call("k2", "c1", "1.10"),  # no segment: the one sales knows
        call("k2", "c1", "1.10"),  # twice in the window, two event ids
        call("k3", "c2", "0.40"),  # a customer sales has not heard of
        call("k4", "c2", None, segment="smb"),
        registered("c3", segment="retail"),
        call("k5", "c3", "7"),  # registered earlier in the same window
    ]
    alone, windowed = (
        _consumer(f"sqlite:///{tmp_path / 'a.db'}"),
        _consumer(f"sqlite:///{tmp_path / 'w.db'}"),
    )
    for event in first + window:
        assert alone.dispatch(event)
    assert windowed.dispatch_batch(first) == [True, True]
    assert windowed.dispatch_batch(window) == [True] * len(window)
    costs, summary = _costs_and_summary(windowed)
    assert (costs, summary) == _costs_and_summary(alone)
    assert [(c.call_id, str(c.cost), c.segment) for c in costs] == [
        ("k1", "2.0100", "vip"),
        ("k2", "1.1000", "vip"),
        ("k3", "0.4000", None),
        ("k4", "0.0000", "smb"),
        ("k5", "7.0000", "retail"),
    ]
    assert sum(row.calls for row in summary) == 5
    with windowed.uow.reader() as s:  # each window in one transaction: a day's totals each
        assert s.scalar(select(func.count()).select_from(Outbox)) == 2
