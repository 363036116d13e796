"""The rolling schedule's cost: passes of the calls job ``extend-schedules``
(``rolling.extend_schedules``) over one plan at 100,000 customers, against a raw
bulk insert of the same rows measured in the same run, on the same tables.

Passes, one plan (weekly, Monday 10:00 HKT, office windows, a 30-day horizon):
1. first: the plan's whole horizon (about 4-5 calls a customer);
2. a week later: the one new week (a call a customer) among the calls it already has;
3. again at once: nothing to plan, what every 15-minute pass between weeks costs.
The baseline takes the calls and ``call.scheduled`` events pass 2 wrote, deletes
them, and inserts them again with one Core executemany per table in one transaction;
a pass's ratio is its time per call written over the baseline's (time over time
for a pass that writes none).

    python -m bench.schedules [--customers 100000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert, select

from bench.calls import OFFICE, customers, drop_postgres, postgres_database, seed
from services.calls import config
from services.calls.app import create_app
from services.calls.calls.tables import Call
from services.calls.db import Outbox
from services.calls.plans import plans, rolling
from shared import migrations

WEEKLY = "FREQ=WEEKLY;BYDAY=MO;BYHOUR=10;BYMINUTE=0"


def timed(fn, *args):
    started, cpu = time.perf_counter(), time.process_time()
    result = fn(*args)
    return result, time.perf_counter() - started, time.process_time() - cpu


def passes(url: str, n: int) -> list[tuple[str, int, float, float]]:
    migrations.upgrade(url, config.MIGRATIONS)
    app = create_app({"DATABASE_URL": url, "DEV_MODE": "1"})
    ctx = app.extensions["rapport"]
    seed(ctx.db, customers(n))
    plans.create_plan(
        ctx.uow,
        {
            "name": "bench",
            "segments": ["smb"],
            "customer_ids": [],
            "channel": "phone",
            "purpose": "service",
            "rrule": WEEKLY,
            "timezone": "Asia/Hong_Kong",
            "windows": OFFICE,
            "allow_holidays": True,
            "starts_at": datetime.now(UTC),
            "ends_at": None,
            "priority": 3,
            "checklist": [],
            "required_trainings": [],
            "required_certifications": [],
            "horizon_days": 30,
        },
    )
    now = datetime.now(UTC).replace(microsecond=0)
    found = []
    for name, at in (
        ("first pass", now),
        ("a week later", now + timedelta(days=7)),
        ("again at once", now + timedelta(days=7)),
    ):
        result, seconds, cpu = timed(rolling.extend_schedules, ctx.uow, at)
        found.append((name, result["created"], seconds, cpu))
    week = now + timedelta(days=7)
    rows, seconds, cpu = baseline(ctx.db, week)
    found.append(("raw insert of pass 2's rows", rows, seconds, cpu))
    ctx.db.dispose()
    return found


def baseline(db, created_at: datetime) -> tuple[int, float, float]:
    """Delete what the pass at ``created_at`` wrote and insert it again, raw."""
    tables = [
        (table, table.c.created_at == created_at) for table in (Call.__table__, Outbox.__table__)
    ]
    with db.transaction() as session:
        saved = [
            [dict(row._mapping) for row in session.execute(select(t).where(w))] for t, w in tables
        ]
        for table, where in tables:
            session.execute(delete(table).where(where))

    def insert_all():
        with db.transaction() as session:
            for (table, _), rows in zip(tables, saved):
                session.execute(insert(table), rows)

    _, seconds, cpu = timed(insert_all)
    return len(saved[0]), seconds, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--postgres", default=os.environ.get("RAPPORT_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    print(f"extend-schedules at {args.customers:,} customers, {WEEKLY}, 30-day horizon")
    for backend in ["sqlite"] + (["postgresql"] if args.postgres else []):
        with tempfile.TemporaryDirectory() as work:
            url, name = (
                (f"sqlite:///{work}/calls.db", None)
                if backend == "sqlite"
                else postgres_database(args.postgres)
            )
            try:
                found = passes(url, args.customers)
            finally:
                if name:
                    drop_postgres(args.postgres, name)
        raw_calls, raw = found[-1][1], found[-1][2]
        for what, calls, seconds, cpu in found:
            # Against the raw insert: time per call written, or (writing none) time.
            ratio = seconds / calls / (raw / raw_calls) if calls else seconds / raw
            # CPU of this process only (not the PostgreSQL server's).
            print(
                f"  {backend:10s} {what:28s} {calls:>8,} calls  {seconds:7.2f} s  "
                f"(cpu {cpu:6.2f} s)  {ratio:5.2f}x raw",
                flush=True,
            )


if __name__ == "__main__":
    main()
