"""The sales report applies its period, currency and segment to every figure: with
calls, sales and deals in two months, two currencies and two segments (delivered in
a shuffled order), each filtered answer equals the one computed here from only the
matching records (``tests/reporting/deals``), and no rate exceeds 1."""

import random
from collections import Counter
from decimal import Decimal

import pytest

from services.reporting import config
from services.reporting.app import create_app
from services.reporting.handlers import subscriptions
from services.reporting.tables import Inbox, Outbox
from shared import migrations
from shared.db import Database
from shared.entrypoints import build_dispatcher
from shared.events.contracts import DEAL_STAGES
from tests.conftest import auth
from tests.reporting import deals as w

FILTERS = [
    (period, currency, segment)
    for period in w.PERIODS
    for currency in w.CURRENCIES
    for segment in (None, *w.SEGMENTS)
]
RATES = ("call_to_opportunity", "opportunity_to_deal", "deal_to_won", "win_rate")


def _dispatcher(url):
    migrations.upgrade(url, config.MIGRATIONS)
    settings = config.load({"DATABASE_URL": url, "DEV_MODE": "1"})
    db = Database(url)
    return db, build_dispatcher(settings, db, Outbox, Inbox, subscriptions(settings))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('sales') / 'reporting.db'}"
    db, dispatcher = _dispatcher(url)
    events, calls, sales, deals = w.world()
    random.Random(3).shuffle(events)  # stage changes before creations, deals before customers
    for e in events:
        dispatcher.dispatch(e)
    yield create_app({"DATABASE_URL": url, "DEV_MODE": "1"}).test_client(), calls, sales, deals
    db.dispose()


def report(client, **query):
    r = client.get(
        "/api/v1/reports/sales",
        headers=auth("analyst"),
        query_string={k: v for k, v in query.items() if v is not None},
    )
    assert r.status_code == 200, r.json
    return r.json


def query(period, currency, segment):
    start, end = w.PERIODS[period]
    return {
        "from": start and str(start),
        "to": end and str(end),
        "currency": currency,
        "segment": segment,
    }


def mine(records, currency=None, segment=None):
    return [
        r
        for r in records
        if (segment is None or r["segment"] == segment)
        and (currency is None or r["currency"] == currency)
    ]


def expected_funnel(calls, deals, period, segment):
    done = [c for c in calls if w.within(c["day"], period)]
    # A deal from an opportunity counts with the call: its day, its segment.
    from_opportunities = [
        d
        for d in deals
        if d["call"]
        and d["call"]["outcome"] == ("sale_opportunity")
        and w.within(d["call"]["day"], period)
        and segment in (None, d["call"]["segment"])
    ]
    created = [d for d in deals if w.within(w.local_day(d["created"]), period)]
    closes = [
        (d, next(c for c in d["changes"] if c["to"] in ("won", "lost")))
        for d in deals
        if any(c["to"] in ("won", "lost") for c in d["changes"])
    ]
    closed = [(d, c) for d, c in closes if w.within(c["day"], period)]
    won = [(d, c) for d, c in closed if c["to"] == "won"]
    cycles = [(c["at"] - d["created"]).total_seconds() for d, c in won]
    return {
        "calls_completed": len(done),
        "opportunities": sum(c["outcome"] == "sale_opportunity" for c in done),
        "deals_created": len(created),
        "deals_from_calls": sum(d["from_call"] for d in created),
        "deals_from_opportunities": len(from_opportunities),
        "won": len(won),
        "lost": len(closed) - len(won),
        "won_from_calls": sum(d["from_call"] for d, _ in won),
        "lost_from_calls": sum(d["from_call"] for d, c in closed if c["to"] == "lost"),
    }, {
        "n": len(cycles),
        "mean_days": round(sum(cycles) / len(cycles) / 86400, 2) if cycles else None,
    }


def expected_pipeline(deals, period):
    """Each deal's stage and value as of the period's end (its last change up to it)."""
    end = w.PERIODS[period][1]
    rows = {}
    for d in deals:
        path = [p for p in d["path"] if end is None or w.local_day(p[0]) <= end]
        if path:
            deals_, value = rows.get(path[-1][1], (0, Decimal(0)))
            rows[path[-1][1]] = (deals_ + 1, value + path[-1][2])
    return rows


def expected_stages(deals, period):
    changes = [c for d in deals for c in d["changes"] if w.within(c["day"], period)]
    out = []
    for stage in DEAL_STAGES[:4]:
        left = [c for c in changes if c["from"] == stage]
        timed = [c["seconds"] for c in left if c["seconds"] is not None]
        forward = sum(
            c["to"] != "lost" and DEAL_STAGES.index(c["to"]) > DEAL_STAGES.index(stage)
            for c in left
        )
        out.append(
            {
                "stage": stage,
                "left": len(left),
                "moved_forward": forward,
                "conversion": round(forward / len(left), 4) if left else None,
                "timed": len(timed),
                "mean_days_in_stage": round(sum(timed) / len(timed) / 86400, 2) if timed else None,
            }
        )
    return out


@pytest.mark.parametrize("period, currency, segment", FILTERS)
def test_sales_filtered_equals_the_matching_records_alone(world, period, currency, segment):
    client, calls, sales, deals = world
    body = report(client, **query(period, currency, segment))
    matching = mine(deals, currency, segment)
    funnel, cycle = expected_funnel(mine(calls, segment=segment), matching, period, None)
    funnel["deals_from_opportunities"] = expected_funnel(
        calls, mine(deals, currency), period, segment
    )[0]["deals_from_opportunities"]
    assert {k: body["funnel"][k] for k in funnel} == funnel
    assert body["cycle"] == cycle
    assert {
        p["stage"]: (p["deals"], Decimal(p["value"])) for p in body["pipeline"] if p["deals"]
    } == expected_pipeline(matching, period)
    assert body["stages"] == expected_stages(matching, period)
    revenue = sum(
        s["revenue"] for s in mine(sales, currency, segment) if w.within(s["day"], period)
    )
    assert Decimal(body["revenue"]["totals"]["revenue"]) == revenue
    assert funnel["deals_created"] and funnel["won"] and revenue  # the filter keeps data
    assert funnel["deals_from_opportunities"] and body["stages"][0]["left"]
    for rate in RATES:
        assert body["funnel"][rate] is None or 0 <= body["funnel"][rate] <= 1, rate
    assert all(s["conversion"] is None or s["conversion"] <= 1 for s in body["stages"])


@pytest.mark.parametrize("period", list(w.PERIODS))
def test_the_filtered_answers_add_up_to_the_unfiltered_one(world, period):
    """Every deal counts under exactly one currency and one segment."""
    client = world[0]
    for currency in w.CURRENCIES:
        whole = report(client, **query(period, currency, None))
        parts = [report(client, **query(period, currency, s)) for s in w.SEGMENTS]
        for name in ("deals_created", "won", "lost", "deals_from_calls"):
            assert sum(p["funnel"][name] for p in parts) == whole["funnel"][name]
        for n, stage in enumerate(whole["pipeline"]):
            assert sum(p["pipeline"][n]["deals"] for p in parts) == stage["deals"]


def test_the_pipeline_is_as_of_the_periods_end_not_now(world):
    client, _, _, deals = world
    april, ever = (report(client, **query(p, "HKD", None)) for p in ("april", "ever"))
    assert april["pipeline"] != ever["pipeline"]
    still_open = sum(p["deals"] for p in april["pipeline"] if p["stage"] in w.OPEN)
    assert (
        still_open
        == sum(
            n
            for stage, (n, _) in expected_pipeline(mine(deals, "HKD"), "april").items()
            if stage in w.OPEN
        )
        > 0
    )


@pytest.mark.parametrize("name", ["channel", "team", "agent_kind", "partner", "group_by"])
def test_a_parameter_no_sales_figure_has_is_a_422_naming_it(world, name):
    r = world[0].get("/api/v1/reports/sales", headers=auth("analyst"), query_string={name: "x"})
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert name in str(r.json)


def test_deals_from_calls_that_were_no_opportunity_stay_out_of_that_step(world):
    client, calls, _, deals = world
    counts = Counter(c["segment"] for c in calls if c["outcome"] == "sale_opportunity")
    others = [d for d in deals if d["call"] and d["call"]["outcome"] != "sale_opportunity"]
    assert others
    for segment in w.SEGMENTS:
        funnel = report(client, segment=segment)["funnel"]
        assert funnel["opportunities"] == counts[segment]
        assert funnel["deals_from_opportunities"] <= funnel["opportunities"]
        assert funnel["deals_from_calls"] == sum(  # the default currency's
            1 for d in deals if d["call"] and d["segment"] == segment and d["currency"] == "HKD"
        )
