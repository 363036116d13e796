"""The filters of the reports with money (call-effectiveness, pnl) apply to every
figure: with customers in two segments buying in two currencies, a filtered answer
equals the one computed here from only the matching customers and sales."""

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from scipy import stats as sp

from services.reporting import config
from services.reporting.app import create_app
from services.reporting.handlers import subscriptions
from services.reporting.tables import Inbox, Outbox
from shared import migrations
from shared.db import Database
from shared.entrypoints import build_dispatcher
from tests.conftest import auth
from tests.reporting import generate
from tests.reporting.dimensions import local_day

WINDOW = {"from": "2025-01-01", "to": "2025-06-30"}
PERIOD = (date(2025, 2, 10), date(2025, 5, 20))
SEGMENTS, CURRENCIES = ("retail", "sme"), ("HKD", "USD")


def _sales(rng, customers):
    """Per customer and currency a sale or none in February and in May, at any hour."""
    events, sales = [], []
    for cid in customers:
        for currency in CURRENCIES:
            for month in (2, 5):
                if rng.random() < 0.3:
                    continue
                at = generate.utc(2025, month, 1, 1) + timedelta(
                    days=rng.randrange(28), hours=rng.randrange(22)
                )
                revenue = Decimal(rng.randrange(100, 100000)) / 100
                sale_id = f"{cid}-{currency}-{month}"
                events.append(
                    generate.event(
                        "sale.recorded",
                        at,
                        sale_id=sale_id,
                        customer_id=cid,
                        currency=currency,
                        recorded_at=at,
                        revenue=revenue,
                        cost=Decimal(0),
                        lines=[
                            {"quantity": Decimal(1), "unit_price": revenue, "unit_cost": Decimal(0)}
                        ],
                    )
                )
                sales.append(
                    {
                        "customer_id": cid,
                        "segment": customers[cid]["segment"],
                        "currency": currency,
                        "month": month,
                        "day": local_day(at),
                        "revenue": revenue,
                    }
                )
    return events, sales


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('money') / 'reporting.db'}"
    migrations.upgrade(url, config.MIGRATIONS)
    settings = config.load({"DATABASE_URL": url, "DEV_MODE": "1"})
    db = Database(url)
    dispatcher = build_dispatcher(settings, db, Outbox, Inbox, subscriptions(settings))
    events, customers = generate.effectiveness_stream()
    more, sales = _sales(random.Random(13), customers)
    for e in events + more:
        dispatcher.dispatch(e)
    yield create_app({"DATABASE_URL": url, "DEV_MODE": "1"}).test_client(), customers, sales
    db.dispose()


def report(client, name, **query):
    r = client.get(f"/api/v1/reports/{name}", headers=auth("analyst"), query_string=query)
    assert r.status_code == 200, r.json
    return r.json


def _rho(x, y):
    return round(float(sp.spearmanr(x, y).statistic), 4)


@pytest.mark.parametrize("currency", CURRENCIES)
@pytest.mark.parametrize("segment", SEGMENTS)
def test_call_effectiveness_filtered_equals_the_segments_customers_alone(world, segment, currency):
    client, customers, sales = world
    body = report(client, "call-effectiveness", **WINDOW, segment=segment, currency=currency)
    mine = sorted(cid for cid, c in customers.items() if c["segment"] == segment)
    assert [s["segment"] for s in body["segments"]] == [segment]
    assert body["all"]["customers"] == body["segments"][0]["customers"] == len(mine)
    calls = [customers[cid]["calls"] for cid in mine]
    change = {cid: Decimal(0) for cid in mine}
    for s in sales:
        if s["customer_id"] in change and s["currency"] == currency:
            change[s["customer_id"]] += s["revenue"] if s["month"] == 5 else -s["revenue"]
    correlations = body["all"]["correlations"]
    assert (correlations["revenue"]["n"], correlations["revenue"]["rho"]) == (
        len(mine),
        _rho(calls, [float(change[cid]) for cid in mine]),
    )
    assert (correlations["satisfaction"]["n"], correlations["satisfaction"]["rho"]) == (
        len(mine),
        _rho(calls, [customers[cid]["d_satisfaction"] for cid in mine]),
    )


def _in_period(sale) -> bool:
    return PERIOD[0] <= sale["day"] <= PERIOD[1]


@pytest.mark.parametrize("currency", CURRENCIES)
@pytest.mark.parametrize("segment", SEGMENTS)
def test_pnl_filtered_equals_the_segments_sales_alone(world, segment, currency):
    client, _, sales = world
    query = {"from": str(PERIOD[0]), "to": str(PERIOD[1]), "segment": segment, "currency": currency}
    mine = [
        s for s in sales if s["segment"] == segment and s["currency"] == currency and _in_period(s)
    ]
    by_customer: dict = {}
    for s in mine:
        by_customer[s["customer_id"]] = by_customer.get(s["customer_id"], 0) + s["revenue"]
    body = report(client, "pnl", **query)
    assert [(row["segment"], Decimal(row["revenue"])) for row in body["segments"]] == [
        (segment, sum(s["revenue"] for s in mine))
    ]
    assert Decimal(body["totals"]["revenue"]) == sum(s["revenue"] for s in mine) > 0
    assert body["reconciliation"]["balanced"] is True
    assert body["reconciliation"]["customers"] == len(by_customer)
    customers = report(client, "pnl", **query, group_by="customer")["segments"]
    assert {row["customer"]: Decimal(row["revenue"]) for row in customers} == by_customer
