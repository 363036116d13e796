"""Calls benchmarks, in one run on this machine:

1. scheduling a 90-day horizon for 10k and 100k customers (time, and how linear);
2. partner bulk outcomes accepted per second through the partner API (the calls
   service running as its own processes), against the raw broker ceiling measured
   in the same run (``bench.broker.ceiling``) before and after;
3. p50/p99 from an outcome's POST to the customer profile showing it, at 100
   outcomes/s, the whole system running (``bench.system.latency``).

    python -m bench.calls [--customers 10000,100000] [--rrule ...] [--outcomes 20000]
"""

from __future__ import annotations

import argparse
import os
import secrets
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pika
import requests
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from bench import broker
from services.calls import config
from services.calls.app import create_app
from services.calls.customers.tables import Customer
from services.calls.plans import plans, scheduling
from shared import migrations
from shared.auth import issue_token
from shared.messaging import topology

MONTHLY = "FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=10;BYMINUTE=0"
AGENTS = 40
SPACING = timedelta(minutes=2, seconds=30)
OFFICE = [{"days": ["MO", "TU", "WE", "TH", "FR"], "start": "09:00", "end": "18:00"}]


def customers(n: int, segment: str = "smb", prefix: str = "c") -> list[dict]:
    now = datetime.now(UTC)
    return [
        {
            "customer_id": f"{prefix}{i:07d}",
            "name": f"Customer {i}",
            "phone": "+85291234567",
            "segment": segment,
            "preferred_language": "zh-HK",
            "lifecycle_status": "active",
            "updated_at": now,
            "gaps": [],
        }
        for i in range(n)
    ]


def seed(db, rows: list[dict]) -> None:
    with db.transaction() as session:
        for start in range(0, len(rows), 20_000):
            session.execute(insert(Customer), rows[start : start + 20_000])


# -- 1. scheduling ------------------------------------------------------------


def time_scheduling(url: str, n: int, rrule: str, horizon: int = 90) -> tuple[float, float, int]:
    """Wall and in-process CPU seconds of one run, and the calls it made."""
    migrations.upgrade(url, config.MIGRATIONS)
    app = create_app({"DATABASE_URL": url, "DEV_MODE": "1"})
    ctx = app.extensions["rapport"]
    seed(ctx.db, customers(n))
    plan = plans.create_plan(
        ctx.uow,
        {
            "name": "bench",
            "segments": ["smb"],
            "customer_ids": [],
            "channel": "phone",
            "purpose": "service",
            "rrule": rrule,
            "timezone": "Asia/Hong_Kong",
            "windows": OFFICE,
            "allow_holidays": False,
            "starts_at": datetime.now(UTC),
            "ends_at": None,
            "priority": 3,
            "checklist": [],
            "required_trainings": [],
            "required_certifications": [],
        },
    )
    started, cpu = time.perf_counter(), time.process_time()
    result = scheduling.schedule_plan(ctx.uow, plan.id, horizon)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    again = scheduling.schedule_plan(ctx.uow, plan.id, horizon)
    assert again["created"] == 0 and again["existing"] == result["created"], again
    ctx.db.dispose()
    return elapsed, cpu, result["created"]


def postgres_database(admin_url: str):
    name = f"rapport_bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), name


def drop_postgres(admin_url: str, name: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def run_scheduling(sizes: list[int], rrule: str, postgres: str | None) -> None:
    print(f"scheduling a 90-day horizon, rule {rrule}, Mon-Fri 09-18 HKT, no HK holidays")
    for backend in ["sqlite"] + (["postgresql"] if postgres else []):
        per_customer = []
        for n in sizes:
            with tempfile.TemporaryDirectory() as work:
                if backend == "sqlite":
                    url, name = f"sqlite:///{work}/calls.db", None
                else:
                    url, name = postgres_database(postgres)
                try:
                    seconds, cpu, calls = time_scheduling(url, n, rrule)
                finally:
                    if name:
                        drop_postgres(postgres, name)
            per_customer.append(seconds / n)
            # CPU of this process only (not the PostgreSQL server's): steadier than
            # wall time on a shared machine.
            print(
                f"  {backend:10s} {n:>8,} customers  {calls:>9,} calls  {seconds:7.2f} s  "
                f"(cpu {cpu:.2f} s; {calls / seconds:,.0f} calls/s, "
                f"{seconds / n * 1e6:.0f} us/customer)",
                flush=True,
            )
        if len(sizes) > 1:
            print(
                f"  {backend:10s} linearity: time per customer at {sizes[-1]:,} / at "
                f"{sizes[0]:,} = {per_customer[-1] / per_customer[0]:.2f} (1.00 = linear)"
            )


# -- 2. partner bulk outcomes -----------------------------------------------------


class CallsService:
    """The calls service alone, as its own API, consumer and relay processes."""

    def __init__(self, amqp_url: str, workdir: Path, web_workers: int):
        from deploy.launcher import System, port_settings

        self.secret = secrets.token_hex(32)
        self.namespace = f"bench-{uuid.uuid4().hex[:8]}"
        self.amqp_url = amqp_url
        self.db_url = f"sqlite:///{workdir}/data/calls.db"
        env = {
            "PATH": "/usr/bin:/bin",
            "RAPPORT_AUTH_SECRET": self.secret,
            "RAPPORT_AMQP_URL": amqp_url,
            "RAPPORT_NAMESPACE": self.namespace,
            "RAPPORT_DATA_DIR": str(workdir / "data"),
            "RAPPORT_LOG_LEVEL": "WARNING",
            "RAPPORT_WEB_WORKERS": str(web_workers),
            "CALLS_SWEEP_SECONDS": "0",
        }
        env.update(port_settings(("calls",)))
        self.system = System(env, services=("calls",), log_dir=workdir / "log")
        self.http = requests.Session()

    def __enter__(self):
        self.system.start()
        self.system.wait_ready(90)
        return self

    def __exit__(self, *exc):
        self.system.stop()
        conn = pika.BlockingConnection(pika.URLParameters(self.amqp_url))
        try:
            topology.delete(conn.channel(), topology.Names(self.namespace))
        finally:
            conn.close()

    def call(self, method, path, role="manager", partner_id=None, **kw):
        token = issue_token(self.secret, "bench", role, partner_id)
        r = self.http.request(
            method,
            f"{self.system.api_url('calls')}/api/v1{path}",
            headers={"Authorization": f"Bearer {token}", **kw.pop("headers", {})},
            timeout=300,
            **kw,
        )
        assert r.status_code < 300, (r.status_code, r.text[:500])
        return r.json()


def partner_throughput(svc: CallsService, outcomes: int, per_request: int, clients: int):
    from shared.db import Database

    db = Database(svc.db_url)
    seed(db, customers(outcomes // 5 + 1, prefix="p"))
    partner = svc.call("POST", "/partners", json={"name": "CallCo", "fee_per_call": "20"})
    for i in range(AGENTS):
        svc.call(
            "POST",
            "/agents",
            json={
                "id": f"out-{i}",
                "name": f"Out {i}",
                "kind": "partner",
                "partner_id": partner["id"],
                "languages": ["zh-HK"],
                "segments": ["smb"],
                "channels": ["phone"],
                "trainings": [{"name": "pdpo", "expires_on": "2099-01-01"}],
                "daily_capacity": 1000,
            },
        )
    plan = svc.call(
        "POST",
        "/call-plans",
        json={
            "name": "bench",
            "segment": "smb",
            "channel": "phone",
            "rrule": "FREQ=DAILY;BYHOUR=10;BYMINUTE=0",
            "allow_holidays": True,
        },
    )
    svc.call("POST", f"/call-plans/{plan['id']}/schedule", json={"horizon_days": 5})
    svc.call("POST", "/calls/assign", json={"within_days": 10})
    ids, cursor = [], None
    while len(ids) < outcomes:
        page = svc.call(
            "GET",
            "/partner/calls",
            role="partner",
            partner_id=partner["id"],
            params={"limit": 500, **({"cursor": cursor} if cursor else {})},
        )
        ids += [(item["call"]["id"], item["call"]["agent_id"]) for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    # Plausible records: each agent's calls one after another over the last day, so
    # the quality rules (overlap, calls per hour) have nothing to flag.
    start, made = datetime.now(UTC) - timedelta(hours=23), {}
    items = []
    for call_id, agent in ids[:outcomes]:
        made[agent] = made.get(agent, -1) + 1
        items.append(
            {
                "call_id": call_id,
                "outcome": "reached",
                "satisfaction": 4,
                "propensity": 60,
                "duration_seconds": 120,
                "completed_at": (start + made[agent] * SPACING).isoformat(),
            }
        )
    assert max(made.values()) * SPACING < timedelta(hours=23), "more agents needed"
    batches = [items[i : i + per_request] for i in range(0, len(items), per_request)]

    def post(batch):
        answer = svc.call(
            "POST",
            "/partner/outcomes",
            role="partner",
            partner_id=partner["id"],
            # A connection per upload: gunicorn's threaded workers keep
            # a kept-alive connection on the worker that accepted it, and
            # two clients' connections often land on one worker, leaving
            # the other (and a core) idle for the whole run.
            headers={"Idempotency-Key": uuid.uuid4().hex, "Connection": "close"},
            json={"outcomes": batch},
        )
        assert answer["created"] == len(batch), answer["results"][:3]
        return len(batch)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        accepted = sum(pool.map(post, batches))
    elapsed = time.perf_counter() - started
    # And until the relay has published every call.completed of the run.
    while True:
        with db.reader() as session:
            pending = session.execute(
                text("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
            ).scalar()
        if not pending:
            break
        time.sleep(0.05)
    drained = time.perf_counter() - started
    db.dispose()
    return accepted / elapsed, accepted / drained, accepted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--amqp-url",
        default=os.environ.get("RAPPORT_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"),
    )
    parser.add_argument("--customers", default="10000,100000")
    parser.add_argument("--rrule", default=MONTHLY)
    parser.add_argument("--postgres", default=os.environ.get("RAPPORT_TEST_POSTGRES_URL"))
    parser.add_argument("--outcomes", type=int, default=20_000)
    parser.add_argument("--per-request", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--skip-scheduling", action="store_true")
    parser.add_argument("--skip-outcomes", action="store_true")
    parser.add_argument("--latency-rate", type=float, default=100.0)
    parser.add_argument("--latency-seconds", type=float, default=10.0)
    parser.add_argument("--skip-latency", action="store_true")
    args = parser.parse_args()
    if not args.skip_scheduling:
        run_scheduling([int(n) for n in args.customers.split(",")], args.rrule, args.postgres)
    if not args.skip_outcomes:
        run_outcomes(args)
    if not args.skip_latency:
        from bench import system

        with (
            tempfile.TemporaryDirectory() as work,
            system.Bench(args.amqp_url, Path(work), args.web_workers) as bench,
        ):
            p50, p99, n = system.latency(bench, args.latency_rate, args.latency_seconds)
        print(
            f"outcome -> profile       p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms at "
            f"{args.latency_rate:.0f} outcomes/s (n={n}; target p99 <= 250 ms)"
        )


def run_outcomes(args) -> None:
    before = broker.ceiling(args.amqp_url, args.messages)
    print(f"raw broker ceiling       {before:10.0f} msg/s", flush=True)
    with (
        tempfile.TemporaryDirectory() as work,
        CallsService(args.amqp_url, Path(work), args.web_workers) as svc,
    ):
        accepted, published, n = partner_throughput(
            svc, args.outcomes, args.per_request, args.clients
        )
    after = broker.ceiling(args.amqp_url, args.messages)
    raw = (before + after) / 2
    print(
        f"partner bulk, accepted   {accepted:10.0f} outcomes/s  ({n} outcomes, "
        f"{args.per_request} a POST, {args.clients} clients)"
    )
    print(
        f"partner bulk, published  {published:10.0f} outcomes/s  (until the relay sent "
        f"every call.completed)"
    )
    print(f"raw broker ceiling       {after:10.0f} msg/s  (again, after; mean {raw:.0f})")
    print(f"ratio, accepted          {accepted / raw:10.3f}  (target >= 0.15)")
    print(f"ratio, published         {published / raw:10.3f}")


if __name__ == "__main__":
    main()
