"""The customer projection, fed through the real dispatcher and inbox, without a broker."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from services.calls import config
from services.calls.customers.tables import Customer, EarlyGaps
from services.calls.db import Inbox, Outbox
from services.calls.handlers import subscriptions
from shared import migrations
from shared.db import Database
from shared.entrypoints import build_dispatcher
from shared.events import make_event
from shared.messaging.topology import BINDINGS

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def dispatcher(sqlite_url):
    migrations.upgrade(sqlite_url, config.MIGRATIONS)
    settings = config.load({"DATABASE_URL": sqlite_url, "DEV_MODE": "1"})
    return build_dispatcher(settings, Database(sqlite_url), Outbox, Inbox, subscriptions(settings))


def registered(at=NOW, **kw):
    payload = {
        "customer_id": "c1",
        "name": "Chan Tai Man",
        "phone": "+85291234567",
        "segment": "smb",
        "preferred_language": "zh-HK",
        "lifecycle_status": "active",
        "registered_at": at,
        **kw,
    }
    return make_event("customer.registered", payload, producer="customer", occurred_at=at)


def updated(at=NOW, segment="enterprise", name=None, **changes):
    return make_event(
        "customer.updated",
        {"customer_id": "c1", "segment": segment, "name": name, "changes": changes},
        producer="customer",
        occurred_at=at,
    )


def customer(dispatcher) -> Customer | None:
    with dispatcher.uow.reader() as s:
        return s.get(Customer, "c1")


def test_subscriptions_are_exactly_the_queue_bindings():
    assert set(subscriptions(config.load({"DEV_MODE": "1"}))) == set(BINDINGS["calls"])


def test_registered_customer_is_projected_once(dispatcher):
    event = registered()
    assert dispatcher.dispatch(event)
    assert dispatcher.dispatch(event)  # redelivered: no second effect
    c = customer(dispatcher)
    assert (c.name, c.phone, c.segment, c.preferred_language, c.lifecycle_status, c.updated_at) == (
        "Chan Tai Man",
        "+85291234567",
        "smb",
        "zh-HK",
        "active",
        NOW,
    )
    with dispatcher.uow.reader() as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == 1
        assert s.scalar(select(func.count()).select_from(Inbox)) == 1
        assert s.scalar(select(func.count()).select_from(Outbox)) == 0


def test_registered_again_with_a_new_event_id_upserts(dispatcher):
    dispatcher.dispatch(registered())
    dispatcher.dispatch(registered(at=NOW + timedelta(minutes=1), name="Chan T. M."))
    assert customer(dispatcher).name == "Chan T. M."


def test_update_moves_the_customer_and_applies_known_changes(dispatcher):
    dispatcher.dispatch(registered())
    dispatcher.dispatch(
        updated(
            at=NOW + timedelta(hours=1),
            lifecycle_status={"old": "active", "new": "dormant"},
            name="Chan Tai-man",
            owner_team={"old": None, "new": "east"},
            phone={"old": None, "new": {"not": "text"}},
        )
    )
    c = customer(dispatcher)
    assert (c.segment, c.lifecycle_status, c.name, c.phone) == (
        "enterprise",
        "dormant",
        "Chan Tai-man",
        "+85291234567",
    )


def test_an_update_before_the_registration_creates_the_customer(dispatcher):
    dispatcher.dispatch(updated(at=NOW + timedelta(hours=1)))
    c = customer(dispatcher)
    assert (c.segment, c.name, c.lifecycle_status) == ("enterprise", None, "active")
    dispatcher.dispatch(registered())  # older: fills gaps, keeps the newer segment
    c = customer(dispatcher)
    assert (c.segment, c.name, c.phone) == ("enterprise", "Chan Tai Man", "+85291234567")
    assert c.updated_at == NOW + timedelta(hours=1)


def test_an_update_carrying_the_name_applies_it(dispatcher):
    dispatcher.dispatch(registered())
    dispatcher.dispatch(updated(at=NOW + timedelta(hours=1), segment="smb", name="Chan Tai-man"))
    c = customer(dispatcher)
    assert (c.name, c.segment) == ("Chan Tai-man", "smb")


def test_a_stale_update_changes_nothing(dispatcher):
    dispatcher.dispatch(registered())
    dispatcher.dispatch(updated(at=NOW + timedelta(hours=2), segment="vip"))
    dispatcher.dispatch(updated(at=NOW + timedelta(hours=1), segment="smb"))
    assert customer(dispatcher).segment == "vip"


def gaps_found(missing, at=NOW):
    return make_event(
        "customer.gaps_detected",
        {"customer_id": "c1", "segment": "smb", "missing_fields": missing, "detected_at": at},
        producer="customer",
        occurred_at=at,
    )


def test_gaps_found_before_the_registration_arrives_reach_the_customer(dispatcher):
    dispatcher.dispatch(gaps_found(["email", "address"]))
    assert customer(dispatcher) is None  # no customer made up from a finding alone
    dispatcher.dispatch(registered())
    assert customer(dispatcher).gaps == ["address", "email"]
    with dispatcher.uow.reader() as s:
        assert s.get(EarlyGaps, "c1") is None


def test_gaps_found_after_the_registration_reach_the_customer(dispatcher):
    dispatcher.dispatch(registered())
    dispatcher.dispatch(gaps_found(["email"]))
    assert customer(dispatcher).gaps == ["email"]


def test_gaps_before_an_update_that_creates_the_customer_reach_it(dispatcher):
    dispatcher.dispatch(gaps_found(["email"]))
    dispatcher.dispatch(updated(at=NOW + timedelta(hours=1)))
    assert customer(dispatcher).gaps == ["email"]


def test_an_older_finding_arriving_late_does_not_bring_resolved_gaps_back(dispatcher):
    dispatcher.dispatch(registered())
    dispatcher.dispatch(gaps_found([], at=NOW + timedelta(hours=2)))  # all confirmed
    dispatcher.dispatch(gaps_found(["email"], at=NOW + timedelta(hours=1)))
    assert customer(dispatcher).gaps == []


def test_an_older_early_finding_does_not_replace_a_newer_one(dispatcher):
    dispatcher.dispatch(gaps_found(["address"], at=NOW + timedelta(hours=2)))
    dispatcher.dispatch(gaps_found(["address", "email"], at=NOW + timedelta(hours=1)))
    dispatcher.dispatch(registered())
    assert customer(dispatcher).gaps == ["address"]


def test_an_erased_customer_keeps_no_early_gaps(dispatcher):
    dispatcher.dispatch(gaps_found(["email"]))
    dispatcher.dispatch(
        make_event(
            "customer.erased",
            {"customer_id": "c1", "erased_at": NOW},
            producer="customer",
            occurred_at=NOW,
        )
    )
    with dispatcher.uow.reader() as s:
        assert s.get(EarlyGaps, "c1") is None
        assert s.get(Customer, "c1").gaps == []
