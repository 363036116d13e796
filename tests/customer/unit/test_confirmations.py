"""Profile fields confirmed on a call (call.completed's confirmed_fields), run through
the real dispatcher and inbox, without a broker."""

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from services.customer import config
from services.customer.handlers import subscriptions
from services.customer.profiles.tables import ContactPoint, Customer, CustomerVersion
from services.customer.quality.tables import QualityItem
from services.customer.tables import Inbox, Outbox
from shared import migrations
from shared.db import Database
from shared.entrypoints import build_dispatcher
from shared.events import make_event

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def dispatcher(sqlite_url):
    migrations.upgrade(sqlite_url, config.MIGRATIONS)
    settings = config.load({"DATABASE_URL": sqlite_url, "DEV_MODE": "1"})
    d = build_dispatcher(settings, Database(sqlite_url), Outbox, Inbox, subscriptions(settings))
    with d.uow() as work:  # smb requires a phone: this customer has only an e-mail
        work.session.add(
            Customer(
                id="c1",
                name="A",
                segment="smb",
                calls_completed=0,
                version=1,
                email="a@example.com",
                updated_at=NOW,
                created_at=NOW,
                lifecycle_status="active",
            )
        )
        work.session.flush()
        work.session.add(
            ContactPoint(
                id="p1",
                customer_id="c1",
                kind="email",
                value="a@example.com",
                status="valid",
                do_not_contact=False,
            )
        )
        work.session.add(
            QualityItem(
                key="incomplete:c1",
                rule="incomplete",
                customer_id="c1",
                segment="smb",
                detail="missing: phone",
                status="open",
                created_at=NOW,
            )
        )
    return d


def completed(call_id="call-1", **confirmed):
    return make_event(
        "call.completed",
        {
            "call_id": call_id,
            "customer_id": "c1",
            "channel": "phone",
            "outcome": "reached",
            "completed_at": NOW,
            "agent_id": "alice",
            "opt_out_notice_given": True,
            "confirmed_fields": confirmed,
        },
        producer="calls",
    )


def versions(dispatcher) -> list[CustomerVersion]:
    with dispatcher.uow.reader() as s:
        return list(s.scalars(select(CustomerVersion).order_by(CustomerVersion.version)))


def items(dispatcher, rule) -> list[QualityItem]:
    with dispatcher.uow.reader() as s:
        return list(s.scalars(select(QualityItem).where(QualityItem.rule == rule)))


def emitted(dispatcher, event_type) -> list[dict]:
    with dispatcher.uow.reader() as s:
        return [
            json.loads(row.body)["payload"]
            for row in s.scalars(
                select(Outbox).where(Outbox.event_type == event_type).order_by(Outbox.id)
            )
        ]


def test_a_confirmed_phone_becomes_a_version_written_by_the_agent_from_the_call(dispatcher):
    event = completed(phone="+852 9123 4567")
    assert dispatcher.dispatch(event)
    assert dispatcher.dispatch(event)  # redelivered: no second version
    [version] = versions(dispatcher)
    assert (version.source, version.actor, version.reason) == (
        "call",
        "alice",
        "confirmed on call call-1",
    )
    assert version.changes["contact_points"]["new"][1]["value"] == "+85291234567"
    with dispatcher.uow.reader() as s:
        assert s.get(Customer, "c1").phone == "+85291234567"
        assert s.get(Customer, "c1").version == 2


def test_the_confirmation_resolves_the_incomplete_item_and_announces_no_gaps_left(dispatcher):
    dispatcher.dispatch(completed(phone="+85291234567"))
    [item] = items(dispatcher, "incomplete")
    assert (item.status, item.resolved_by, item.resolution) == (
        "resolved",
        "alice",
        "confirmed on call call-1",
    )
    assert [g["missing_fields"] for g in emitted(dispatcher, "customer.gaps_detected")] == [[]]
    assert [r["rule"] for r in emitted(dispatcher, "customer.quality_resolved")] == ["incomplete"]


def test_an_invalid_confirmed_value_is_refused_with_an_item_and_the_gap_asked_again(dispatcher):
    assert dispatcher.dispatch(completed(phone="not a phone"))
    assert versions(dispatcher) == []
    [refused] = items(dispatcher, "confirmed_value_invalid")
    assert refused.status == "open" and "phone" in refused.detail
    assert items(dispatcher, "incomplete")[0].status == "open"
    assert [g["missing_fields"] for g in emitted(dispatcher, "customer.gaps_detected")] == [
        ["phone"]
    ]
    with dispatcher.uow.reader() as s:
        assert s.get(Customer, "c1").phone is None


def test_a_valid_field_is_kept_when_another_is_refused(dispatcher):
    dispatcher.dispatch(
        completed(phone="+85291234567", date_of_birth="yesterday", lifecycle_status="archived")
    )
    [version] = versions(dispatcher)
    assert set(version.changes) == {"contact_points"}
    refused = sorted(i.key for i in items(dispatcher, "confirmed_value_invalid"))
    assert refused == [
        "confirmed_value_invalid:call-1:date_of_birth",
        "confirmed_value_invalid:call-1:lifecycle_status",
    ]
    with dispatcher.uow.reader() as s:
        assert s.get(Customer, "c1").lifecycle_status == "active"


def test_a_field_filled_in_since_is_not_overwritten_by_the_call(dispatcher):
    dispatcher.dispatch(completed(email="b@example.com"))
    assert versions(dispatcher) == []
    assert items(dispatcher, "confirmed_value_invalid") == []
    with dispatcher.uow.reader() as s:
        assert s.get(Customer, "c1").email == "a@example.com"


def test_a_call_without_confirmations_changes_no_profile(dispatcher):
    dispatcher.dispatch(completed())
    assert versions(dispatcher) == []
    assert items(dispatcher, "incomplete")[0].status == "open"
