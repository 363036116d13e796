"""Sales handlers run through the real dispatcher and inbox, without a broker."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from services.sales import config
from services.sales.app import create_app
from services.sales.customers.tables import Customer
from services.sales.db import Inbox, Outbox
from services.sales.handlers import subscriptions
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
    return build_dispatcher(settings, Database(sqlite_url), Outbox, Inbox, subscriptions(settings))


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
