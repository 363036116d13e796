"""Customer handlers run through the real dispatcher and inbox, without a broker."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from services.customer import config
from services.customer.handlers import SUBSCRIPTIONS
from services.customer.models import Activity, Customer, Inbox, Outbox
from shared import migrations
from shared.db import Database
from shared.entrypoints import build_dispatcher
from shared.events import make_event


@pytest.fixture
def dispatcher(sqlite_url):
    migrations.upgrade(sqlite_url, config.MIGRATIONS)
    settings = config.load({"DATABASE_URL": sqlite_url, "DEV_MODE": "1"})
    return build_dispatcher(settings, Database(sqlite_url), Outbox, Inbox, SUBSCRIPTIONS)


def completed(customer_id, **kw):
    payload = {"call_id": "call-1", "customer_id": customer_id, "channel": "phone",
               "outcome": "reached", "completed_at": datetime.now(timezone.utc),
               "satisfaction": 4, "propensity": 70, "duration_seconds": 300, **kw}
    return make_event("call.completed", payload, producer="calls")


def test_call_completed_updates_profile_and_timeline_once(dispatcher):
    with dispatcher.uow() as work:
        work.session.add(Customer(id="c1", name="A", phone="+85291234567", segment="smb",
                                  calls_completed=0, version=1))
    event = completed("c1")
    assert dispatcher.dispatch(event)
    assert dispatcher.dispatch(event)  # redelivered: no second effect
    with dispatcher.uow.reader() as s:
        customer = s.get(Customer, "c1")
        assert (customer.calls_completed, customer.satisfaction, customer.propensity) == (1, 4, 70)
        assert s.scalar(select(func.count()).select_from(Activity)) == 1


def test_an_older_call_does_not_overwrite_newer_findings(dispatcher):
    with dispatcher.uow() as work:
        work.session.add(Customer(id="c1", name="A", phone=None, segment="smb",
                                  calls_completed=0, version=1))
    now = datetime.now(timezone.utc)
    dispatcher.dispatch(completed("c1", completed_at=now, satisfaction=5))
    dispatcher.dispatch(completed("c1", completed_at=now - timedelta(days=3), satisfaction=1))
    with dispatcher.uow.reader() as s:
        customer = s.get(Customer, "c1")
        assert customer.satisfaction == 5 and customer.calls_completed == 2
        assert customer.last_contacted_at == now


def test_unknown_customer_fails_so_the_broker_retries_then_dead_letters(dispatcher):
    with pytest.raises(Exception):
        dispatcher.dispatch(completed("nobody"))
    with dispatcher.uow.reader() as s:
        assert s.scalar(select(func.count()).select_from(Inbox)) == 0
