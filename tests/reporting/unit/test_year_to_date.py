"""The year-to-date roll-ups behind call-effectiveness and the P&L's customers:
boundary months sum to any range of months; the report's per-customer calls, plan
and changes equal an independent computation from the raw events, for windows
across a new year, with an odd middle month, cut short by ``to``, filtered by
segment, events shuffled and redelivered; the P&L counts the customers with figures
in the period; the migration fills the roll-ups as the projections write them."""

import random
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from alembic import command
from alembic.config import Config
from scipy import stats as sp
from sqlalchemy import func, inspect, select

from services.reporting import catalogue, config
from services.reporting.app import create_app
from services.reporting.handlers import subscriptions
from services.reporting.reports import periods
from services.reporting.store import year_to_date
from services.reporting.store.year_to_date import PENDING
from services.reporting.tables import Inbox, Outbox
from shared import migrations
from shared.db import Database, make_engine
from shared.entrypoints import build_dispatcher
from tests.conftest import auth
from tests.reporting.generate import event, utc
from tests.reporting.tables import snapshot

HK = ZoneInfo("Asia/Hong_Kong")
WINDOWS = [
    ("2024-11-10", "2025-04-20", None),
    ("2024-10-01", "2025-02-28", None),
    ("2024-12-01", "2025-05-31", "a"),
    ("2025-01-01", "2025-02-14", None),
]


def _month(year, month):
    return date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def test_a_window_s_monthly_sums_spread_as_each_entry_would():
    rng = random.Random(5)
    keys = ("currency", "customer_id", "month")
    entries = [
        (
            rng.choice("HU"),
            f"c{rng.randrange(4)}",
            date(rng.choice((2024, 2025)), rng.randrange(1, 13), 1),
            {"revenue": rng.randrange(-50, 100), "returns": rng.randrange(5)},
        )
        for _ in range(300)
    ]
    one_by_one: dict = {}  # each entry added to its month and every later one of its year
    monthly: dict = {}
    for currency, cid, month, amounts in entries:
        for number in range(month.month, 13):
            row = one_by_one.setdefault(
                (currency, cid, month.replace(month=number)), {"revenue": 0, "returns": 0}
            )
            for name, value in amounts.items():
                row[name] += value
        row = monthly.setdefault((currency, cid, month), {"revenue": 0, "returns": 0})
        for name, value in amounts.items():
            row[name] += value
    assert year_to_date.spread(keys, monthly) == one_by_one
    assert year_to_date.spread(
        ("month", "customer_id"),
        {(date(2025, 11, 1), "c"): {"n": 1}, (date(2025, 3, 1), "c"): {"n": 2}},
    ) == {(date(2025, m, 1), "c"): {"n": 2 if m < 11 else 3} for m in range(3, 13)}


def test_boundary_terms_sum_to_every_range_of_months():
    months = [_month(2023, m) for m in range(1, 40)]
    rng = random.Random(1)
    values = {m: rng.randint(-9, 9) for m in months}
    ytd = {m: sum(v for k, v in values.items() if k.year == m.year and k <= m) for m in months}
    for i, first in enumerate(months):
        for last in months[i:]:
            terms = year_to_date.terms(first, last)
            assert sum(sign * ytd[m] for m, sign in terms.items()) == sum(
                v for m, v in values.items() if first <= m <= last
            )
            assert len(terms) <= last.year - first.year + 2


def stream(seed=4):
    """40 customers, October 2024–May 2025: a call planned each month (some cancelled,
    most completed, with or without scores), sales, returns and cancellations."""
    rng = random.Random(seed)
    events, calls, money = [], [], []
    for n in range(40):
        cid = f"k{n}"
        if n % 7:
            events.append(
                event(
                    "customer.registered",
                    utc(2024, 9, 1),
                    customer_id=cid,
                    name="x",
                    segment="ab"[n % 2],
                    registered_at=utc(2024, 9, 1),
                )
            )
        for m in range(10, 18):
            if rng.random() < 0.15:
                continue
            call_id, month = f"{cid}-{m}", _month(2024, m)
            due = utc(month.year, month.month, 1) + timedelta(hours=rng.randrange(30 * 24))
            events.append(
                event(
                    "call.scheduled",
                    due - timedelta(days=20),
                    call_id=call_id,
                    plan_id="p",
                    customer_id=cid,
                    channel="phone",
                    due_at=due,
                )
            )
            fate = rng.random()
            if fate < 0.15:
                events.append(
                    event(
                        "call.cancelled",
                        due - timedelta(days=2),
                        call_id=call_id,
                        customer_id=cid,
                        reason="x",
                        cancelled_at=due - timedelta(days=2),
                    )
                )
                continue
            calls.append({"customer": cid, "due": due, "done": None})
            if fate < 0.8:
                done = due + timedelta(hours=rng.randint(-30, 30))
                sat = rng.choice((None, 1, 2, 3, 4, 5, 5))
                prop = rng.choice((None, rng.randrange(101)))
                events.append(
                    event(
                        "call.completed",
                        done,
                        call_id=call_id,
                        customer_id=cid,
                        channel="phone",
                        outcome="reached",
                        completed_at=done,
                        satisfaction=sat,
                        propensity=prop,
                        due_at=due,
                    )
                )
                calls[-1].update(done=done, sat=sat, prop=prop)
        for k in range(rng.randint(0, 8)):
            at = utc(2024, 10, 1) + timedelta(minutes=rng.randrange(240 * 24 * 60))
            revenue = Decimal(rng.randint(1, 99999)) / 100
            sale_id = f"{cid}-s{k}"
            events.append(
                event(
                    "sale.recorded",
                    at,
                    sale_id=sale_id,
                    customer_id=cid,
                    currency="HKD",
                    recorded_at=at,
                    revenue=revenue,
                    cost=Decimal(1),
                    lines=[
                        {"quantity": Decimal(1), "unit_price": revenue, "unit_cost": Decimal(1)}
                    ],
                )
            )
            money.append((cid, at, revenue))
            later = at + timedelta(hours=rng.randint(1, 2000))
            if rng.random() < 0.3:
                extra = rng.choice(
                    ({"return_id": f"r-{sale_id}", "returned_at": later}, {"cancelled_at": later})
                )
                events.append(
                    event(
                        "sale.returned" if "return_id" in extra else "sale.cancelled",
                        later,
                        sale_id=sale_id,
                        customer_id=cid,
                        currency="HKD",
                        revenue=revenue,
                        cost=Decimal(1),
                        **extra,
                    )
                )
                money.append((cid, later, -revenue))
    return events, calls, money


def _day(moment):
    return moment.astimezone(HK).date()


def expected(calls, money, start, end, segment):
    """Per customer, from the raw events: (calls, planned, Δ satisfaction,
    Δ relationship, Δ revenue), as the report defines them."""
    months = []
    month = start.replace(day=1)
    while month <= end:
        months.append(month)
        month = periods.next_month(month)
    half = len(months) // 2
    halves = (set(months[:half]), set(months[-half:]))
    ranges = ((months[0], periods.month_end(months[half - 1])), (months[-half], end))
    people = {}
    for call in calls:
        p = people.setdefault(
            call["customer"], {"calls": 0, "planned": 0, "sat": ([], []), "prop": ([], [])}
        )
        p["planned"] += _day(call["due"]).replace(day=1) in months
        if call["done"] is None:
            continue
        done = _day(call["done"]).replace(day=1)
        p["calls"] += done in months
        for i, months_of_half in enumerate(halves):
            if done in months_of_half:
                for name in ("sat", "prop"):
                    if call[name] is not None:
                        p[name][i].append(call[name])
    out = {}
    for cid, p in people.items():
        if not (p["calls"] or p["planned"]) or (segment and _segment(cid) != segment):
            continue
        revenue = [
            sum((a for c, at, a in money if c == cid and low <= _day(at) <= high), Decimal(0))
            for low, high in ranges
        ]
        sat = [np.mean(s) if s else np.nan for s in p["sat"]]
        score = [_score(p["sat"][i], p["prop"][i]) for i in (0, 1)]
        out[cid] = (
            p["calls"],
            p["planned"],
            sat[1] - sat[0],
            score[1] - score[0],
            float(revenue[1] - revenue[0]),
        )
    return out


def _segment(cid):
    n = int(cid[1:])
    return "ab"[n % 2] if n % 7 else "unknown"


def _score(sat, prop):
    parts = ([(np.mean(sat) - 1) * 25] if sat else []) + ([np.mean(prop)] if prop else [])
    return np.mean(parts) if parts else np.nan


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('ytd') / 'reporting.db'}"
    migrations.upgrade(url, config.MIGRATIONS)
    settings = config.load({"DATABASE_URL": url, "DEV_MODE": "1"})
    db = Database(url)
    dispatcher = build_dispatcher(settings, db, Outbox, Inbox, subscriptions(settings))
    events, calls, money = stream()
    rng = random.Random(8)
    mixed = events + rng.sample(events, len(events) // 4)
    rng.shuffle(mixed)
    for at in range(0, len(mixed), 37):  # windows: entries of many months and years
        dispatcher.dispatch_batch(mixed[at : at + 37])
        if at % (37 * 5) == 0 and at < len(mixed) * 3 // 4:  # some spread, the rest pending
            with db.transaction() as session:
                year_to_date.fold(session)
    with db.reader() as session:
        assert all(
            session.scalar(select(func.count()).select_from(pending))
            for pending in PENDING.values()
        )
    yield url, create_app({"DATABASE_URL": url, "DEV_MODE": "1"}).test_client(), calls, money
    db.dispose()


@pytest.mark.parametrize("start,end,segment", WINDOWS)
def test_each_customer_figure_equals_the_raw_events(world, start, end, segment):
    _, client, calls, money = world
    query = {"from": start, "to": end, **({"segment": segment} if segment else {})}
    body = client.get(
        "/api/v1/reports/call-effectiveness", headers=auth("analyst"), query_string=query
    ).json
    truth = expected(calls, money, date.fromisoformat(start), date.fromisoformat(end), segment)
    got = body["all"]
    assert got["customers"] == len(truth)
    people = list(truth.values())
    for i, measure in enumerate(("satisfaction", "relationship", "revenue")):
        pairs = [(p[0], p[2 + i]) for p in people if not np.isnan(p[2 + i])]
        assert got["correlations"][measure]["n"] == len(pairs)
        if len(pairs) < 10 or min(len(set(column)) for column in zip(*pairs)) == 1:
            assert "insufficient" in got["correlations"][measure]
            continue
        rho = sp.spearmanr(*zip(*pairs)).statistic
        assert got["correlations"][measure]["rho"] == pytest.approx(rho, abs=1e-4)
    on_plan = [p[2] for p in people if p[1] > 0 and p[0] >= p[1] and not np.isnan(p[2])]
    under = [p[2] for p in people if p[0] < p[1] and not np.isnan(p[2])]
    assert got["cohorts"]["on_plan"] == {
        "n": len(on_plan),
        "mean": round(float(np.mean(on_plan)), 4),
    }
    assert got["cohorts"]["under_called"]["n"] == len(under)


def _migrate(url, revision, down=False):
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            cfg = Config()
            cfg.set_main_option("script_location", str(config.MIGRATIONS))
            cfg.attributes["connection"] = connection
            (command.downgrade if down else command.upgrade)(cfg, revision)
    finally:
        engine.dispose()


def test_the_migration_fills_the_rollups_as_the_projections_write_them(
    make_dispatcher, database_url
):
    """Down to customer_month (made from the year-to-date rows, after the pending
    entries are spread into them) and up again: the upgrade's fill from
    customer_month and pnl_month gives the same rows."""
    dispatcher = make_dispatcher(database_url)
    events = stream(seed=6)[0]
    for e in events[: len(events) // 2]:
        dispatcher.dispatch(e)
    with dispatcher.uow.db.transaction() as session:
        assert year_to_date.fold(session) > 50
    for e in events[len(events) // 2 :]:
        dispatcher.dispatch(e)
    with dispatcher.uow.db.reader() as session:  # the downgrade has pending rows to spread
        assert all(
            session.scalar(select(func.count()).select_from(pending)) > 50
            for pending in PENDING.values()
        )
    live = snapshot(database_url)
    assert len(live["customer_ytd"]) > 200 and len(live["pnl_ytd"]) > 200
    _migrate(database_url, "c3e1a9d4f7b2", down=True)
    engine = make_engine(database_url)
    with engine.connect() as connection:
        names = set(inspect(connection).get_table_names())
    assert {"customer_month", "pnl_month"} <= names and not {"customer_ytd", "pnl_ytd"} & names
    engine.dispose()
    _migrate(database_url, "head")
    assert _before_policy(snapshot(database_url)) == _before_policy(live)


def _before_policy(tables: dict) -> dict:
    """call_state's plan, policy and holder (its last three columns) and the agent
    tables came in later revisions: a downgrade below them drops them (the tables come
    back empty until a rebuild), so they are not compared."""
    kept = {
        name: rows for name, rows in tables.items() if name not in ("agent_cube", "agent_outcome")
    }
    return {**kept, "call_state": sorted((row[:-3] for row in tables["call_state"]), key=repr)}


def test_reports_are_the_same_before_and_after_the_pending_months_are_spread(dispatcher):
    events = stream(seed=9)[0]
    for at in range(0, len(events), 50):
        dispatcher.dispatch_batch(events[at : at + 50])
        if at == 500:
            with dispatcher.uow.db.transaction() as session:
                year_to_date.fold(session)

    def reports():
        out = []
        for start, end, segment in WINDOWS + [(None, None, None), ("2024-12-01", None, "b")]:
            args = {
                "start": start and date.fromisoformat(start),
                "end": end and date.fromisoformat(end),
                "segment": segment,
                "currency": "HKD",
            }
            out.append(catalogue.report("call-effectiveness", dispatcher.uow, HK, args))
            out.append(
                catalogue.report("pnl", dispatcher.uow, HK, {**args, "group_by": "customer"})
            )
        return out

    def pending():
        with dispatcher.uow.reader() as session:
            return [
                session.scalar(select(func.count()).select_from(model))
                for model in PENDING.values()
            ]

    before = reports()
    assert min(pending()) > 20
    with dispatcher.uow.db.transaction() as session:
        assert year_to_date.fold(session) == sum(pending())
    assert pending() == [0, 0]
    assert reports() == before
    assert any(row["revenue"] for body in before[1::2] for row in body["segments"])


def test_pnl_customers_are_those_with_figures_in_the_period(dispatcher):
    """A customer with entries earlier in the year but none in the period, or whose
    entries in the period cancel out, has no row and is not counted."""
    t = utc(2025, 1, 10, 4)
    for e in (
        sale_event("s1", "k1", t, "100"),
        sale_event("s2", "k2", t, "30"),
        sale_event("s3", "k1", utc(2025, 3, 5, 4), "50"),
        event(
            "sale.cancelled",
            utc(2025, 3, 6, 4),
            sale_id="s3",
            customer_id="k1",
            currency="HKD",
            revenue=Decimal(50),
            cost=Decimal(1),
            cancelled_at=utc(2025, 3, 6, 4),
        ),
    ):
        dispatcher.dispatch(e)
    for start, end, revenue in (
        (date(2025, 3, 1), date(2025, 3, 31), {}),
        (date(2025, 2, 1), date(2025, 3, 20), {}),
        (date(2025, 1, 1), date(2025, 3, 31), {"k1": "100.00", "k2": "30.00"}),
        (None, None, {"k1": "100.00", "k2": "30.00"}),
    ):
        args = {"currency": "HKD", "start": start, "end": end}
        body = catalogue.report("pnl", dispatcher.uow, HK, {**args, "group_by": "customer"})
        assert {row["customer"]: str(row["revenue"]) for row in body["segments"]} == revenue
        assert body["reconciliation"]["customers"] == len(revenue)
        assert body["reconciliation"]["balanced"] is True


def sale_event(sale_id, customer_id, when, revenue):
    return event(
        "sale.recorded",
        when,
        sale_id=sale_id,
        customer_id=customer_id,
        currency="HKD",
        recorded_at=when,
        revenue=Decimal(revenue),
        cost=Decimal(1),
        lines=[{"quantity": Decimal(1), "unit_price": Decimal(revenue), "unit_cost": Decimal(1)}],
    )
