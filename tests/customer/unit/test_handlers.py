"""Customer handlers run through the real dispatcher and inbox, without a broker."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from services.customer import config
from services.customer.handlers import subscriptions
from services.customer.profiles.tables import Customer
from services.customer.quality.tables import QualityItem
from services.customer.relationship.tables import Activity
from services.customer.tables import Inbox, Outbox
from shared import migrations
from shared.db import Database
from shared.entrypoints import build_dispatcher
from shared.events import make_event


@pytest.fixture
def dispatcher(sqlite_url):
    migrations.upgrade(sqlite_url, config.MIGRATIONS)
    settings = config.load({"DATABASE_URL": sqlite_url, "DEV_MODE": "1"})
    return build_dispatcher(settings, Database(sqlite_url), Outbox, Inbox, subscriptions(settings))


def completed(customer_id, **kw):
    payload = {
        "call_id": "call-1",
        "customer_id": customer_id,
        "channel": "phone",
        "outcome": "reached",
        "completed_at": datetime.now(UTC),
        "satisfaction": 4,
        "propensity": 70,
        "duration_seconds": 300,
        **kw,
    }
    return make_event("call.completed", payload, producer="calls")


def test_call_completed_updates_profile_and_timeline_once(dispatcher):
    with dispatcher.uow() as work:
        work.session.add(
            Customer(
                id="c1", name="A", phone="+85291234567", segment="smb", calls_completed=0, version=1
            )
        )
    event = completed("c1")
    assert dispatcher.dispatch(event)
    assert dispatcher.dispatch(event)  # redelivered: no second effect
    with dispatcher.uow.reader() as s:
        customer = s.get(Customer, "c1")
        assert (customer.calls_completed, customer.satisfaction, customer.propensity) == (1, 4, 70)
        assert s.scalar(select(func.count()).select_from(Activity)) == 1


def test_an_older_call_does_not_overwrite_newer_findings(dispatcher):
    with dispatcher.uow() as work:
        work.session.add(
            Customer(id="c1", name="A", phone=None, segment="smb", calls_completed=0, version=1)
        )
    now = datetime.now(UTC)
    dispatcher.dispatch(completed("c1", completed_at=now, satisfaction=5))
    dispatcher.dispatch(completed("c1", completed_at=now - timedelta(days=3), satisfaction=1))
    with dispatcher.uow.reader() as s:
        customer = s.get(Customer, "c1")
        assert customer.satisfaction == 5 and customer.calls_completed == 2
        assert customer.last_contacted_at == now


def test_unknown_customer_fails_so_the_broker_retries_then_dead_letters(dispatcher):
    with pytest.raises(Exception):  # noqa: B017 - any failure, so long as the handler fails
        dispatcher.dispatch(completed("nobody"))
    with dispatcher.uow.reader() as s:
        assert s.scalar(select(func.count()).select_from(Inbox)) == 0


def add_customer(dispatcher, customer_id="c1", **kw):
    with dispatcher.uow() as work:
        work.session.add(
            Customer(
                id=customer_id,
                name=kw.pop("name", "A"),
                phone=None,
                segment="smb",
                calls_completed=0,
                version=1,
                **kw,
            )
        )


def outbox_types(dispatcher) -> list[str]:
    with dispatcher.uow.reader() as s:
        return list(s.scalars(select(Outbox.event_type).order_by(Outbox.id)))


def open_items(dispatcher) -> list[tuple[str, str]]:
    with dispatcher.uow.reader() as s:
        return [
            (i.rule, i.customer_id)
            for i in s.scalars(
                select(QualityItem).where(QualityItem.status == "open").order_by(QualityItem.rule)
            )
        ]


def test_satisfaction_trend_and_relationship_score_follow_the_calls(dispatcher):
    add_customer(dispatcher)
    now = datetime.now(UTC)
    for days, sat in ((3, 2), (2, 3), (1, 5)):
        dispatcher.dispatch(
            completed(
                "c1",
                completed_at=now - timedelta(days=days),
                satisfaction=sat,
                propensity=40,
                opt_out_notice_given=True,
            )
        )
    with dispatcher.uow.reader() as s:
        c = s.get(Customer, "c1")
        # EWMA α=0.3: 2 → 2.3 → 3.11; the last call lifted it by 5 - 2.3
        assert round(c.satisfaction_avg, 2) == 3.11 and c.satisfaction_trend == 2.7
        assert c.relationship_score == round(0.5 * (3.11 - 1) * 25 + 0.3 * 40, 2)


def test_sales_returns_and_cancellations_move_lifetime_revenue_and_margin(dispatcher):
    add_customer(dispatcher)
    now = datetime.now(UTC)
    line = {"sku": "A", "quantity": "1", "unit_price": "100.00", "unit_cost": "60.00"}
    sale = {
        "sale_id": "s1",
        "customer_id": "c1",
        "currency": "HKD",
        "recorded_at": now,
        "lines": [line],
        "revenue": "100.00",
        "cost": "60.00",
    }
    dispatcher.dispatch(make_event("sale.recorded", sale, producer="sales"))
    dispatcher.dispatch(make_event("sale.recorded", {**sale, "sale_id": "s2"}, producer="sales"))
    dispatcher.dispatch(
        make_event(
            "sale.returned",
            {
                "return_id": "r1",
                "sale_id": "s1",
                "customer_id": "c1",
                "currency": "HKD",
                "returned_at": now,
                "revenue": "25.00",
                "cost": "15.00",
            },
            producer="sales",
        )
    )
    dispatcher.dispatch(
        make_event(
            "sale.cancelled",
            {
                "sale_id": "s2",
                "customer_id": "c1",
                "currency": "HKD",
                "revenue": "100.00",
                "cost": "60.00",
                "cancelled_at": now,
            },
            producer="sales",
        )
    )
    with dispatcher.uow.reader() as s:
        c = s.get(Customer, "c1")
        assert (c.lifetime_revenue, c.lifetime_margin) == (Decimal("75.00"), Decimal("30.00"))
        kinds = sorted(s.scalars(select(Activity.kind)))
    assert kinds == ["cancellation", "return", "sale", "sale"]


def test_a_referral_becomes_a_prospect_once(dispatcher):
    add_customer(dispatcher)
    referral = {"name": "Lee Siu Ming", "phone": "6111 2222", "note": "his brother"}
    dispatcher.dispatch(completed("c1", referrals=[referral], opt_out_notice_given=True))
    dispatcher.dispatch(
        completed("c1", call_id="call-2", referrals=[referral], opt_out_notice_given=True)
    )
    with dispatcher.uow.reader() as s:
        [prospect] = s.scalars(select(Customer).where(Customer.source == "referral"))
        assert (prospect.lifecycle_status, prospect.phone, prospect.referred_by_call_id) == (
            "prospect",
            "+85261112222",
            "call-1",
        )
        referrals = list(s.scalars(select(Activity).where(Activity.kind == "referral")))
    assert len(referrals) == 2  # the second naming is noted on the same prospect
    assert outbox_types(dispatcher).count("customer.registered") == 1


def test_do_not_call_requested_on_a_call_opts_the_customer_out(dispatcher):
    add_customer(dispatcher)
    dispatcher.dispatch(
        completed(
            "c1",
            outcome="do_not_call_requested",
            satisfaction=None,
            propensity=None,
            opt_out_notice_given=True,
        )
    )
    with dispatcher.uow.reader() as s:
        assert s.get(Customer, "c1").do_not_call is True
    assert "customer.opted_out" in outbox_types(dispatcher)
    dispatcher.dispatch(completed("c1", call_id="call-2", opt_out_notice_given=True))
    assert open_items(dispatcher) == [("dnc_call_logged", "c1")]


def test_a_first_contact_without_the_opt_out_notice_is_flagged(dispatcher):
    add_customer(dispatcher)
    dispatcher.dispatch(completed("c1", outcome="no_answer", satisfaction=None, propensity=None))
    assert open_items(dispatcher) == []  # nobody was reached: nothing to tell yet
    dispatcher.dispatch(completed("c1", call_id="call-2"))
    assert open_items(dispatcher) == [("opt_out_notice_missing", "c1")]
    assert "customer.quality_flagged" in outbox_types(dispatcher)


def test_events_for_a_merged_customer_land_on_the_survivor(dispatcher):
    add_customer(dispatcher, "keep")
    add_customer(dispatcher, "gone", merged_into="keep")
    dispatcher.dispatch(completed("gone", opt_out_notice_given=True))
    with dispatcher.uow.reader() as s:
        assert s.get(Customer, "keep").calls_completed == 1
        assert s.get(Customer, "gone").calls_completed == 0


def test_a_finding_on_file_is_raised_once_even_after_it_was_resolved(database_url):
    """The item is raised by one insert that does nothing when its key is on file:
    on both databases a second report of the same finding, in another transaction
    and after the item was resolved, raises no item and announces none."""
    migrations.upgrade(database_url, config.MIGRATIONS)
    settings = config.load({"DATABASE_URL": database_url, "DEV_MODE": "1"})
    dispatcher = build_dispatcher(
        settings, Database(database_url), Outbox, Inbox, subscriptions(settings)
    )
    add_customer(dispatcher, do_not_call=True)
    dispatcher.dispatch(completed("c1", call_id="call-2", opt_out_notice_given=True))
    assert open_items(dispatcher) == [("dnc_call_logged", "c1")]
    with dispatcher.uow() as work:
        work.session.execute(update(QualityItem).values(status="resolved"))
    dispatcher.dispatch(completed("c1", call_id="call-2", opt_out_notice_given=True))
    assert open_items(dispatcher) == []
    with dispatcher.uow.reader() as s:
        assert s.scalar(select(func.count()).select_from(QualityItem)) == 1
    assert outbox_types(dispatcher).count("customer.quality_flagged") == 1
