"""Reporting figures: each report's p95 latency with 10k, 100k (and 1M) calls and
sale lines behind it, and the consumer's catch-up rate on a backlog against a raw
pika consumer draining the same backlog in the same run.

    .venv/bin/python -m bench.reporting --sizes 10000,100000 [--postgres URL] [--keep DIR]
    .venv/bin/python -m bench.reporting --catch-up 100000 [--amqp URL]

Targets (issue 6): p95 ≤ 50 ms at 1M and 1M no slower than 1.5× 10k; catch-up
rate ≥ 0.3 × raw pika. The read models are fed through the real dispatcher
(inbox, event log and projections) in windows of 2,000 events, as the reporting
consumer's largest; the catch-up runs the consumer as reporting's process runs it
(the shared loop, windows of ``WINDOW`` events, or ``--window``).
"""

from __future__ import annotations

import argparse
import gc
import random
import shutil
import sqlite3
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pika
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from services.reporting import config
from services.reporting.app import create_app
from services.reporting.entrypoints.consumer import FOLD_EVERY, WINDOW, build_consumer, fold_pending
from services.reporting.handlers import subscriptions
from services.reporting.store.year_to_date import PENDING
from services.reporting.tables import EventLog, Inbox, Outbox
from shared import migrations
from shared.auth import issue_token
from shared.config import DEV_SECRET
from shared.db import Database
from shared.entrypoints import build_dispatcher
from shared.events import make_event, routing_key
from shared.messaging import topology
from shared.messaging.publisher import ConfirmingPublisher, Message

REPORTS = {
    "activity": {"group_by": "month"},
    "coverage": {},
    "findings": {},
    "sales": {},
    "pnl": {},
    "call-effectiveness": {},
    "outsourcers": {},
    "data-quality": {},
    "follow-ups": {},
}
START = datetime(2026, 1, 1, tzinfo=UTC)


def events(n: int, seed: int = 1):
    """``n`` completed calls and ``n`` single-line sales over 300 days, 5,000 customers."""
    rng = random.Random(seed)
    for i in range(n):
        at = START + timedelta(minutes=rng.randrange(300 * 24 * 60))
        cid = f"c{rng.randrange(5000)}"
        partner = rng.choice((None, None, "p1", "p2"))
        yield make_event(
            "call.completed",
            {
                "call_id": f"call-{i}",
                "customer_id": cid,
                "channel": "phone",
                "outcome": rng.choice(("reached", "reached", "no_answer", "interested")),
                "completed_at": at,
                "satisfaction": rng.randint(1, 5),
                "propensity": rng.randrange(101),
                "segment": rng.choice(("retail", "sme", "vip")),
                "agent_kind": "partner" if partner else "staff",
                "partner_id": partner,
                "team": rng.choice(("t1", "t2")),
                "cost": Decimal("10.00"),
            },
            producer="calls",
            occurred_at=at,
        )
        yield make_event(
            "sale.recorded",
            {
                "sale_id": f"s-{i}",
                "customer_id": cid,
                "currency": "HKD",
                "recorded_at": at,
                "revenue": Decimal("100.00"),
                "cost": Decimal("60.00"),
                "lines": [
                    {
                        "quantity": Decimal(1),
                        "unit_price": Decimal("100"),
                        "unit_cost": Decimal("60"),
                    }
                ],
            },
            producer="sales",
            occurred_at=at,
        )


def seed(url: str, n: int, batch: int = 2000) -> float:
    migrations.upgrade(url, config.MIGRATIONS)
    settings = config.load({"DATABASE_URL": url, "DEV_MODE": "1"})
    db = Database(url)
    dispatcher = build_dispatcher(settings, db, Outbox, Inbox, subscriptions(settings))
    started, pending = time.perf_counter(), []
    folded = started
    for event in events(n):
        pending.append(event)
        if len(pending) == batch:
            dispatcher.dispatch_batch(pending)
            pending = []
            if time.perf_counter() - folded >= FOLD_EVERY:  # as the consumer does
                fold_pending(db)
                folded = time.perf_counter()
    if pending:
        dispatcher.dispatch_batch(pending)
    fold_pending(db)  # and once idle
    db.dispose()
    return 2 * n / (time.perf_counter() - started)


def _pending(db: Database) -> int:
    with db.reader() as session:
        return sum(
            session.scalar(select(func.count()).select_from(model)) for model in PENDING.values()
        )


class Yardstick:
    """A fixed piece of work like a report's, none of Rapport's code in it: 5,000 rows
    of an id and six integers read from an in-memory SQLite table, placed by id and
    summed in numpy. Timed in the same rounds as the reports, it says how fast the
    machine runs at the time: a p95 in yardsticks compares across machines and days
    (the same reports have measured up to five times slower here from one day to
    another)."""

    def __init__(self, rows: int = 5000):
        self.db = sqlite3.connect(":memory:")
        self.db.execute(
            "CREATE TABLE t (id TEXT PRIMARY KEY, a INT, b INT, c INT, d INT, "
            "e INT, f INT) WITHOUT ROWID"
        )
        rng = random.Random(1)
        self.db.executemany(
            "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(f"c{i}", *(rng.randrange(10**4) for _ in range(6))) for i in range(rows)],
        )

    def __call__(self) -> float:
        t = time.perf_counter()
        ids, *columns = zip(*self.db.execute("SELECT * FROM t").fetchall())
        place = {cid: at for at, cid in enumerate(ids)}
        assert int(np.array(columns, np.int64).sum()) > len(place)
        return time.perf_counter() - t


def latencies(urls: dict, rounds: int = 5, requests: int = 20, warm_up: int = 5) -> dict:
    """Each report's p95 per size (``{size: database URL}``) over ``rounds`` ×
    ``requests`` requests, after ``warm_up`` not counted (the first requests fill
    caches). The sizes take turns, a round each, so a machine that slows down or
    speeds up during the run weighs on every size alike: the ratio between sizes is
    measured as a same-run comparison (one slow stretch once made 1M look 1.5× 10k).
    The ``Yardstick`` takes its turn in every round too (under the key ``0``)."""
    headers = {"Authorization": f"Bearer {issue_token(DEV_SECRET, 'bench', 'analyst')}"}
    window = {"from": "2026-01-01", "to": "2026-10-31"}
    clients = {
        n: create_app({"DATABASE_URL": url, "DEV_MODE": "1"}).test_client()
        for n, url in urls.items()
    }
    # A service process freezes its one app's start-up objects out of the garbage
    # collector's reach (``freeze_startup_objects``, at its first app); the later
    # apps' here too, as each would be in a process of its own.
    gc.freeze()
    queries = {
        name: {
            **query,
            **(window if name not in ("coverage", "data-quality", "follow-ups") else {}),
        }
        for name, query in REPORTS.items()
    }
    times: dict = {(n, name): [] for n in urls for name in REPORTS}
    yardstick, times[0] = Yardstick(), []

    def get(client, name):
        t = time.perf_counter()
        assert (
            client.get(
                f"/api/v1/reports/{name}", headers=headers, query_string=queries[name]
            ).status_code
            == 200
        )
        return time.perf_counter() - t

    for client in clients.values():
        for name in REPORTS:
            for _ in range(warm_up):
                get(client, name)
    for _ in range(rounds):
        for n, client in clients.items():
            for name in REPORTS:
                times[n, name] += [get(client, name) for _ in range(requests)]
            times[0] += [yardstick() for _ in range(requests)]
    out = {n: {name: _p95(times[n, name]) for name in REPORTS} for n in urls}
    out[0] = _p95(times[0])
    return out


def _p95(seconds: list) -> float:
    return statistics.quantiles(seconds, n=20)[18] * 1000


def _seeded(url: str, n: int) -> bool:
    """Whether the database at ``url`` already holds the ``2n`` events ``seed`` adds."""
    if not url.startswith("sqlite") or not Path(make_url(url).database).exists():
        return False
    db = Database(url)
    try:
        with db.reader() as session:
            return session.scalar(select(func.count()).select_from(EventLog)) == 2 * n
    finally:
        db.dispose()


def run_latency(sizes: list[int], url_for) -> None:
    urls = {}
    for n in sizes:
        urls[n] = url_for(n)
        if _seeded(urls[n], n):
            print(f"{n:>9} calls + {n} sale lines: already seeded", flush=True)
            continue
        started = time.perf_counter()
        rate = seed(urls[n], n)
        print(
            f"{n:>9} calls + {n} sale lines: folded {rate:,.0f} events/s "
            f"({time.perf_counter() - started:,.0f} s)",
            flush=True,
        )
    table = latencies(urls)
    print(
        f"{'report':<20}"
        + "".join(f"{n:>12}" for n in sizes)
        + "   ratio last/first   last in yardsticks"
    )
    for name in REPORTS:
        row = [table[n][name] for n in sizes]
        print(
            f"{name:<20}"
            + "".join(f"{v:>10.1f}ms" for v in row)
            + f"   {row[-1] / row[0]:.2f}×   {row[-1] / table[0]:>8.1f}"
        )
    print(
        f"yardstick (5,000 rows from SQLite into numpy, no Rapport code): p95 "
        f"{table[0]:.1f} ms in the same rounds"
    )


def _publish(amqp_url: str, names, n: int) -> None:
    publisher = ConfirmingPublisher(amqp_url, names.exchange)
    publisher.connect()
    try:
        batch = []
        for event in events(n // 2 + n % 2):
            batch.append(
                Message(
                    len(batch),
                    event.event_id,
                    routing_key(event.event_type, 1),
                    event.to_json().encode(),
                )
            )
            if len(batch) == 500:
                assert not publisher.publish_batch(batch)[1]
                batch = []
        if batch:
            assert not publisher.publish_batch(batch)[1]
    finally:
        publisher.close()


def raw_drain(amqp_url: str, names, n: int) -> float:
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = conn.channel()
    channel.basic_qos(prefetch_count=500)
    started = time.perf_counter()
    for seen, (method, _props, _body) in enumerate(channel.consume(names.queue("reporting")), 1):
        channel.basic_ack(method.delivery_tag)
        if seen >= n:
            break
    rate = n / (time.perf_counter() - started)
    channel.cancel()
    conn.close()
    return rate


def consumer_drain(
    amqp_url: str, names, url: str, n: int, window: int = WINDOW
) -> tuple[float, float]:
    """(events/s until all ``n`` are consumed, seconds after that until the consumer,
    idle, has spread the pending year-to-date months)."""
    migrations.upgrade(url, config.MIGRATIONS)
    settings = config.load({"DATABASE_URL": url, "DEV_MODE": "1", "AMQP_URL": amqp_url})
    db = Database(url)
    dispatcher = build_dispatcher(settings, db, Outbox, Inbox, subscriptions(settings))
    consumer = build_consumer(settings, db, dispatcher, names, window)
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    started = time.perf_counter()
    thread.start()
    while True:
        with db.reader() as session:
            if session.scalar(select(func.count()).select_from(Inbox)) >= n:
                break
        time.sleep(0.2)
    drained = time.perf_counter()
    while _pending(db):
        time.sleep(0.1)
    folded = time.perf_counter() - drained
    stop.set()
    thread.join(10)
    db.dispose()
    return n / (drained - started), folded


def run_catch_up(amqp_url: str, n: int, url: str, window: int = WINDOW) -> None:
    names = topology.Names(f"bench-rep-{uuid.uuid4().hex[:8]}")
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    topology.declare(conn.channel(), names)
    try:
        # Raw pika before and after ours, averaged: this machine's speed drifts
        # within a minute by as much as a fifth.
        _publish(amqp_url, names, n)
        before = raw_drain(amqp_url, names, n)
        _publish(amqp_url, names, n)
        ours, folded = consumer_drain(amqp_url, names, url, n, window)
        _publish(amqp_url, names, n)
        after = raw_drain(amqp_url, names, n)
        raw = (before + after) / 2
        print(
            f"backlog {n:,}: raw pika {before:,.0f} and {after:,.0f} msg/s, reporting "
            f"consumer {ours:,.0f} events/s (windows of {window:,}), ratio "
            f"{ours / raw:.2f} (target ≥ 0.5); idle, it spread the pending months in a "
            f"further {folded:.1f} s (ratio {n / (n / ours + folded) / raw:.2f} with it)"
        )
    finally:
        topology.delete(conn.channel(), names)
        conn.close()


def _postgres_database(admin_url: str, created: list) -> str:
    name = f"rapport_bench_{uuid.uuid4().hex[:8]}"
    _admin(admin_url, f'CREATE DATABASE "{name}"')
    created.append(name)
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _admin(admin_url: str, statement: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(statement))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--postgres", help="an admin URL; databases are created under it")
    parser.add_argument("--catch-up", type=int, default=0)
    parser.add_argument(
        "--window",
        type=int,
        default=WINDOW,
        help="the catch-up consumer's window (default: the service's)",
    )
    parser.add_argument("--amqp", default="amqp://guest:guest@127.0.0.1:5672/%2F")
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="keep the seeded SQLite databases in DIR and measure those "
        "already there instead of seeding them again (1M takes ~20 min)",
    )
    options = parser.parse_args()
    scratch = options.keep or tempfile.mkdtemp(prefix="bench-reporting-")
    created: list[str] = []

    def url_for(n):
        if not options.postgres:
            return f"sqlite:///{scratch}/reporting-{n}.db"
        return _postgres_database(options.postgres, created)

    try:
        if options.catch_up:
            run_catch_up(options.amqp, options.catch_up, url_for("catchup"), options.window)
        else:
            run_latency([int(s) for s in options.sizes.split(",")], url_for)
    finally:
        for name in created:  # leave no benchmark database behind
            _admin(options.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not options.keep:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
