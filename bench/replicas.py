"""Two replicas of every consumer and relay against one, on PostgreSQL, in one run:
bulk outcomes recorded through the calls API until every one shows in the
customer profiles and in reporting's read model (``bench.system.throughput``),
first with one replica of each consumer and relay, then with two; ratio = two /
one.

    python -m bench.replicas [--outcomes 4000] [--customers 100] [--per-request 200]
                             [--postgres ADMIN_URL]

Each system gets fresh databases (dropped after) and its own broker namespace.
Replicas share a queue (the broker hands each its share of deliveries) and an
outbox (``FOR UPDATE SKIP LOCKED``); what they gain is bounded by the machine's
cores, which every process of the system shares.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench import system
from deploy.launcher import SERVICES

POSTGRES = os.environ.get(
    "RAPPORT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def databases(admin_url: str) -> dict:
    tag = uuid.uuid4().hex[:8]
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    urls = {}
    with engine.connect() as conn:
        for service in SERVICES:
            name = f"rapport_bench_{tag}_{service}"
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            urls[f"{service.upper()}_DATABASE_URL"] = (
                make_url(admin_url).set(database=name).render_as_string(hide_password=False)
            )
    engine.dispose()
    return urls


def drop(admin_url: str, urls: dict) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for url in urls.values():
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    engine.dispose()


def measure(
    amqp_url: str,
    admin_url: str,
    replicas: int,
    outcomes: int,
    customers: int,
    per_request: int,
    web_workers: int = 2,
) -> float:
    """Outcomes a second end to end with ``replicas`` of each consumer and relay."""
    urls = databases(admin_url)
    try:
        with (
            tempfile.TemporaryDirectory() as work,
            system.Bench(
                amqp_url, Path(work), web_workers, settings=urls, replicas=replicas
            ) as bench,
        ):
            return system.throughput(bench, outcomes, customers, per_request)
    finally:
        drop(admin_url, urls)


def compare(
    amqp_url: str, admin_url: str, outcomes: int, customers: int, per_request: int
) -> tuple[float, float]:
    one = measure(amqp_url, admin_url, 1, outcomes, customers, per_request)
    print(
        f"PostgreSQL, one replica  {one:10.0f} outcomes/s  ({outcomes} outcomes, "
        f"{per_request} a POST, until profile and reporting show each)",
        flush=True,
    )
    two = measure(amqp_url, admin_url, 2, outcomes, customers, per_request)
    print(
        f"PostgreSQL, two replicas {two:10.0f} outcomes/s  (every consumer and relay twice)",
        flush=True,
    )
    print(
        f"ratio, two / one         {two / one:10.3f}  ({os.cpu_count()} cores for every "
        f"process of the system)",
        flush=True,
    )
    return one, two


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--amqp-url",
        default=os.environ.get("RAPPORT_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"),
    )
    parser.add_argument("--postgres", default=POSTGRES, help="an admin URL")
    parser.add_argument("--outcomes", type=int, default=4000)
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--per-request", type=int, default=200)
    args = parser.parse_args()
    compare(args.amqp_url, args.postgres, args.outcomes, args.customers, args.per_request)


if __name__ == "__main__":
    main()
