"""The P&L's reconciliation against the totals the sales ledger publishes: the newest
revision of a day counts whatever the order of arrival; a difference, a day the
ledger has not published and a different time zone are each said."""

from datetime import date
from decimal import Decimal

import pytest

from services.reporting import config
from services.reporting.app import create_app
from shared.events import make_event
from tests.conftest import auth
from tests.reporting.events import registered, sale

PNL = "/api/v1/reports/pnl"
ZERO = {
    "discounts": "0.00",
    "returns": "0.00",
    "cost_to_serve": "0.00",
    "allocations": "0.00",
    "calls": 0,
}


@pytest.fixture
def client(service_app, sqlite_url):
    return service_app(create_app, config.MIGRATIONS, sqlite_url).test_client()


@pytest.fixture
def feed(client, make_dispatcher, sqlite_url):
    dispatcher = make_dispatcher(sqlite_url)
    return lambda *events: [dispatcher.dispatch(e) for e in events]


def totals(day, revision, revenue, cost, zone="Asia/Hong_Kong", **figures):
    net = Decimal(revenue) - Decimal(cost)
    return make_event(
        "ledger.totals_published",
        {
            "day": date.fromisoformat(day),
            "currency": "HKD",
            "timezone": zone,
            "revision": revision,
            "revenue": revenue,
            "cost_of_goods": cost,
            "net_contribution": str(net),
            **ZERO,
            **figures,
        },
        producer="sales",
    )


def reconcile(client, **query):
    r = client.get(PNL, headers=auth("analyst"), query_string={"group_by": "day", **query})
    assert r.status_code == 200, r.json
    return r.json["reconciliation"]


def test_the_newest_revision_counts_whatever_the_order(client, feed):
    feed(
        registered("c1", "smb"),
        sale("c1", "10.00", "4.00", "2025-03-01T04:00", sale_id="a"),
        sale("c1", "5.00", "1.00", "2025-03-01T05:00", sale_id="b"),
        totals("2025-03-01", 2, "15.00", "5.00"),
        totals("2025-03-01", 1, "10.00", "4.00"),
    )
    found = reconcile(client)
    assert found["balanced"] is True and found["ledger"]["differences"] == []
    assert found["ledger"]["days_published"] == 1


def test_a_difference_is_reported_by_day_measure_and_in_total(client, feed):
    feed(
        registered("c1", "smb"),
        sale("c1", "10.00", "4.00", "2025-03-01T04:00"),
        totals("2025-03-01", 1, "10.01", "4.00"),
        sale("c1", "7.00", "2.00", "2025-03-02T04:00", sale_id="s-2"),
    )
    found = reconcile(client, **{"from": "2025-03-01", "to": "2025-03-31"})
    assert found["balanced"] is False
    assert found["ledger"]["differences"][:2] == [
        {
            "day": "2025-03-01",
            "measure": "revenue",
            "ledger": "10.01",
            "reporting": "10.00",
            "difference": "-0.01",
        },
        {
            "day": "2025-03-01",
            "measure": "net_contribution",
            "ledger": "6.01",
            "reporting": "6.00",
            "difference": "-0.01",
        },
    ]
    assert [d["day"] for d in found["ledger"]["differences"][2:]] == ["total", "total"]
    # The day the ledger has published nothing for is said, not guessed at.
    assert found["ledger"]["days_without_ledger_totals"] == ["2025-03-02"]


def test_totals_of_another_time_zone_unbalance_the_reconciliation(client, feed):
    feed(
        registered("c1", "smb"),
        sale("c1", "10.00", "4.00", "2025-03-01T04:00"),
        totals("2025-03-01", 1, "10.00", "4.00", zone="Europe/London"),
    )
    found = reconcile(client)
    assert found["ledger"]["differences"] == [] and found["balanced"] is False
    assert "Europe/London" in found["ledger"]["timezone"]


def test_a_segment_filter_says_the_ledger_cannot_be_compared(client, feed):
    feed(
        registered("c1", "smb"),
        sale("c1", "10.00", "4.00"),
        totals("2025-03-01", 1, "99.00", "4.00"),
    )
    found = reconcile(client, segment="smb")
    assert found["ledger"]["compared"] is False and found["balanced"] is True
    assert reconcile(client)["balanced"] is False
