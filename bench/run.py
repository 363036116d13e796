"""``make bench``: the broker's raw ceiling and Rapport end to end, measured in
one run on this machine, and their ratio.

    python -m bench.run [--outcomes 2000] [--customers 100] [--latency-rate 50]
                        [--databases sqlite,postgres] [--sales-import-lines 70000]
                        [--replicas] [--postgres ADMIN_URL]

``--sales-import-lines`` adds the sales import figure (``bench.sales_import``: an
invoice export of that many lines against a raw bulk insert of the same rows, on
SQLite and, with ``--postgres``, on PostgreSQL); 0, the default, leaves it out.
``--replicas`` adds two replicas of every consumer and relay against one, on
PostgreSQL (``bench.replicas``; ``--postgres`` or the local server). ``--people``
adds the bulk figure once more with each request another person's day of calls,
and the latency with each outcome another person's, for information: the figures
with a target keep the workload every earlier run measured.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from bench import broker, replicas, sales_import, system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--amqp-url",
        default=os.environ.get("RAPPORT_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"),
    )
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--outcomes", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--per-request", type=int, default=200)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--latency-rate", type=float, default=50.0)
    parser.add_argument("--latency-seconds", type=float, default=10.0)
    parser.add_argument(
        "--databases",
        default="sqlite",
        help="sqlite, postgres or both (sqlite,postgres): where the end-to-end "
        "figures are measured",
    )
    parser.add_argument(
        "--people",
        action="store_true",
        help="also the bulk figure with each request another person's day of calls, "
        "and the latency with each outcome another person's (the default workload "
        "records every outcome as one person, at one moment)",
    )
    parser.add_argument("--sales-import-lines", type=int, default=0)
    parser.add_argument(
        "--replicas",
        action="store_true",
        help="also two replicas of each consumer and relay against one, on PostgreSQL",
    )
    parser.add_argument(
        "--postgres",
        default=None,
        help="an admin URL: the sales import on PostgreSQL too, and the "
        "server --replicas uses (else the local one)",
    )
    args = parser.parse_args()

    if args.sales_import_lines:
        with tempfile.TemporaryDirectory() as work:
            sales_import.imports(Path(work), args.sales_import_lines, args.postgres)

    before = broker.ceiling(args.amqp_url, args.messages)
    print(
        f"raw broker ceiling      {before:10.0f} msg/s  (persistent 1 KB, quorum queue, "
        f"confirms, batches of 500)",
        flush=True,
    )
    figures = {}
    for database in args.databases.split(","):
        figures[database] = end_to_end(args, database)
    # The ceiling moves by a quarter from one minute to the next on a shared machine:
    # measure it again after the system has stopped and compare with the mean.
    after = broker.ceiling(args.amqp_url, args.messages)
    raw = (before + after) / 2
    print(f"raw broker ceiling      {after:10.0f} msg/s  (again, after; mean {raw:.0f})")
    for database, (single, bulk) in figures.items():
        print(f"ratio, one a POST       {single / raw:10.3f}  ({database})")
        print(f"ratio, bulk             {bulk / raw:10.3f}  ({database}; target >= 0.15)")
    if args.replicas:
        replicas.compare(
            args.amqp_url,
            args.postgres or replicas.POSTGRES,
            args.outcomes // 2,
            args.customers,
            args.per_request,
        )


def end_to_end(args, database: str) -> tuple[float, float]:
    """One a POST, in bulk, and the latency at a steady rate, on fresh ``database``
    databases (``sqlite`` files, or ``postgres`` on the --postgres server)."""
    urls = {}
    if database == "postgres":
        admin = args.postgres or replicas.POSTGRES
        urls = replicas.databases(admin)
    try:
        with (
            tempfile.TemporaryDirectory() as work,
            system.Bench(args.amqp_url, Path(work), args.web_workers, settings=urls) as bench,
        ):
            single = system.throughput(bench, args.outcomes // 4, args.customers)
            print(
                f"end to end, one a POST  {single:10.0f} outcomes/s  ({args.outcomes // 4} "
                f"outcomes until profile and reporting show each; {database})",
                flush=True,
            )
            bulk = system.throughput(bench, args.outcomes, args.customers, args.per_request)
            print(
                f"end to end, bulk        {bulk:10.0f} outcomes/s  ({args.outcomes} outcomes, "
                f"{args.per_request} a POST, until profile and reporting show each; "
                f"{database})",
                flush=True,
            )
            if args.people:
                spread = system.throughput(
                    bench, args.outcomes, args.customers, args.per_request, people=True
                )
                print(
                    f"end to end, bulk, people {spread:9.0f} outcomes/s  (the same, each "
                    f"POST another person's day of calls; {database}; for information)",
                    flush=True,
                )
            p50, p99, n = system.latency(bench, args.latency_rate, args.latency_seconds)
            print(
                f"outcome -> profile      p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms "
                f"at {args.latency_rate:.0f} outcomes/s (n={n}; {database})",
                flush=True,
            )
            if args.people:
                p50, p99, n = system.latency(
                    bench, args.latency_rate, args.latency_seconds, people=True
                )
                print(
                    f"outcome -> profile, people p50 {p50 * 1000:.0f} ms, p99 "
                    f"{p99 * 1000:.0f} ms (the same, each outcome another person's; "
                    f"{database}; for information)",
                    flush=True,
                )
    finally:
        if urls:
            replicas.drop(admin, urls)
    return single, bulk


if __name__ == "__main__":
    main()
