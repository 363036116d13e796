"""The sales import figure: an invoice export of the public online-retail shape
(70,000 lines, about four a sale, 4,000 customers, 3,700 products) through the
sales import (read, checked by the API's schema, priced from the catalogue,
ledger rows, P&L bookings, day totals and ``sale.recorded`` events) against a raw
bulk insert of the same sales and lines into the same migrated tables, measured
in the same run, on SQLite and, given an admin URL, on PostgreSQL.

    python -m bench.sales_import [--lines 70000] [--turns 3] [--postgres ADMIN_URL]

The file is generated (seeded, so every run imports the same one): the public
data set itself is not shipped.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from services.sales import config
from services.sales.catalogue.tables import Product, ProductPrice
from services.sales.customers.tables import Customer
from services.sales.db import Outbox
from services.sales.imports import jobs as importer
from services.sales.imports.tables import SaleImportJob
from services.sales.ledger.tables import Sale, SaleLine
from shared import migrations
from shared.db import Database
from shared.messaging.unit_of_work import UnitOfWorkFactory
from shared.startup import freeze_startup_objects

HEADER = [
    "external_ref",
    "customer_id",
    "recorded_at",
    "currency",
    "sku",
    "description",
    "quantity",
    "unit_price",
]
CUSTOMERS, PRODUCTS = 4000, 3700
SEGMENTS = ("retail", "smb", "enterprise")
START = datetime(2025, 12, 1, 8, 0, tzinfo=ZoneInfo("Asia/Hong_Kong"))


def write_csv(path: Path, lines: int) -> int:
    """An invoice export of ``lines`` rows, about four a sale; returns the sales."""
    rng = random.Random(7)
    sales = 0
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        written = 0
        while written < lines:
            sales += 1
            ref, customer = f"5{sales:06d}", f"C{rng.randrange(CUSTOMERS):05d}"
            at = (START + timedelta(minutes=rng.randrange(360 * 24 * 60))).isoformat()
            for _ in range(min(lines - written, max(1, round(rng.gauss(4, 2))))):
                product = rng.randrange(PRODUCTS)
                out.writerow(
                    [
                        ref,
                        customer,
                        at,
                        "HKD",
                        f"SKU-{product:05d}",
                        f"Product {product}",
                        rng.randint(1, 24),
                        _price(product),
                    ]
                )
                written += 1
    return sales


def _price(product: int) -> str:
    return f"{1 + product % 97 + (product % 7) / 4:.2f}"


def populate(url: str) -> None:
    """The catalogue and the customers the sales service knows (the state, not the path)."""
    engine = create_engine(url)
    since = datetime(2025, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(Product.__table__),
            [
                {
                    "sku": f"SKU-{i:05d}",
                    "name": f"Product {i}",
                    "category": None,
                    "currency": "HKD",
                    "created_at": since,
                    "created_by": "bench",
                }
                for i in range(PRODUCTS)
            ],
        )
        conn.execute(
            insert(ProductPrice.__table__),
            [
                {
                    "sku": f"SKU-{i:05d}",
                    "effective_from": since,
                    "price": Decimal(_price(i)),
                    "unit_cost": Decimal(_price(i)) * Decimal("0.6"),
                    "recorded_at": since,
                    "recorded_by": "bench",
                }
                for i in range(PRODUCTS)
            ],
        )
        conn.execute(
            insert(Customer.__table__),
            [
                {
                    "customer_id": f"C{i:05d}",
                    "segment": SEGMENTS[i % 3],
                    "name": None,
                    "as_of": since,
                    "erased": False,
                }
                for i in range(CUSTOMERS)
            ],
        )
    engine.dispose()


def migrated_sqlite(folder: Path, name: str) -> str:
    url = f"sqlite:///{folder / name}"
    migrations.upgrade(url, config.MIGRATIONS)
    populate(url)
    return url


def migrated_postgres(admin_url: str, made: list[str]) -> str:
    name = f"rapport_bench_sales_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    made.append(name)
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    migrations.upgrade(url, config.MIGRATIONS)
    populate(url)
    return url


def drop_postgres(admin_url: str, name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def raw_insert(url: str, path: Path) -> tuple[float, float]:
    """The baseline: the same sales and lines read and bulk-inserted into the same
    tables, amounts multiplied out, nothing checked, no events, no P&L."""
    engine = create_engine(url)
    started, cpu = time.perf_counter(), time.process_time()
    now = datetime.now(UTC)
    with path.open(newline="") as fh, engine.begin() as conn:
        sales, lines, current = [], [], None
        for row in csv.DictReader(fh):
            if current is None or row["external_ref"] != current["external_ref"]:
                if len(sales) >= importer.CHUNK:
                    conn.execute(insert(Sale.__table__), sales)
                    conn.execute(insert(SaleLine.__table__), lines)
                    sales, lines = [], []
                current = {
                    "id": str(uuid.uuid4()),
                    "external_ref": row["external_ref"],
                    "customer_id": row["customer_id"],
                    "currency": row["currency"],
                    "recorded_at": datetime.fromisoformat(row["recorded_at"]),
                    "revenue": Decimal(0),
                    "cost": Decimal(0),
                    "discount": Decimal(0),
                    "created_at": now,
                    "created_by": "bench",
                    "below_cost": False,
                }
                sales.append(current)
                number = 0
            number += 1
            quantity, price = Decimal(row["quantity"]), Decimal(row["unit_price"])
            current["revenue"] += quantity * price
            lines.append(
                {
                    "sale_id": current["id"],
                    "line_no": number,
                    "sku": row["sku"],
                    "description": row["description"],
                    "quantity": quantity,
                    "unit_price": price,
                    "unit_cost": price,
                    "discount": Decimal(0),
                    "revenue_cents": quantity * price,
                    "discount_cents": Decimal(0),
                    "cost_cents": quantity * price,
                }
            )
        if sales:
            conn.execute(insert(Sale.__table__), sales)
            conn.execute(insert(SaleLine.__table__), lines)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    engine.dispose()
    return elapsed, cpu


def rapport_import(url: str, path: Path) -> tuple[float, float, dict]:
    db = Database(url)
    uow = UnitOfWorkFactory(db, Outbox, "sales")
    job = SaleImportJob(
        id=str(uuid.uuid4()),
        format="csv",
        path=str(path),
        actor="bench",
        status="queued",
        total_bytes=path.stat().st_size,
        bytes_read=0,
        rows_read=0,
        sales_read=0,
        created=0,
        lines_created=0,
        skipped=0,
        rejected=0,
        created_at=datetime.now(UTC),
    )
    with uow() as work:
        work.session.add(job)
    # The import runs in a thread of the sales API's process, which froze its
    # start-up objects out of the garbage collector when its app was made.
    freeze_startup_objects()
    started, cpu = time.perf_counter(), time.process_time()
    importer.run(uow, job.id, ZoneInfo(config.DEFAULT_TIMEZONE))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    done = importer.get_job(uow, job.id)
    db.dispose()
    return elapsed, cpu, done


def imports(folder: Path, lines: int, postgres: str | None, turns: int = 3) -> list[str]:
    """The figure on SQLite and, given an admin URL, on PostgreSQL, in ``turns``
    turns of a raw insert then an import, each into fresh databases: on a shared
    machine the speed drifts from one minute to the next, and a turn compares two
    runs a few seconds apart. The lines printed are returned."""
    path = folder / "sales.csv"
    sales = write_csv(path, lines)
    report = []

    def say(line: str) -> None:
        print(line, flush=True)
        report.append(line)

    for backend in ["sqlite"] + (["postgresql"] if postgres else []):
        ratios, cpu_ratios, seconds = [], [], []
        for turn in range(1, turns + 1):
            made: list[str] = []
            try:
                if backend == "sqlite":
                    raw_url = migrated_sqlite(folder, f"raw-{turn}.db")
                    url = migrated_sqlite(folder, f"import-{turn}.db")
                else:
                    raw_url, url = (migrated_postgres(postgres, made) for _ in range(2))
                raw, raw_cpu = raw_insert(raw_url, path)
                elapsed, cpu, job = rapport_import(url, path)
            finally:
                for name in made:
                    drop_postgres(postgres, name)
            if job["status"] != "done" or job["lines_created"] != lines:
                raise SystemExit(f"{backend}: the import did not record every line: {job}")
            ratios.append(raw / elapsed)
            cpu_ratios.append(raw_cpu / cpu)
            seconds.append(elapsed)
            say(
                f"{backend} turn {turn}: raw bulk insert {lines / raw:7.0f} lines/s, import "
                f"{lines / elapsed:7.0f} lines/s ({job['created']} of {sales} sales, "
                f"{elapsed:.1f} s): ratio {raw / elapsed:.3f}, CPU {raw_cpu / cpu:.3f}"
            )
        say(
            f"{backend}: ratio, import   {statistics.median(ratios):.3f} median of {turns} "
            f"({min(ratios):.3f}-{max(ratios):.3f}; CPU time {statistics.median(cpu_ratios):.3f})"
            f"; {lines:,} lines in {statistics.median(seconds):.1f} s "
            f"(target >= 0.3, under 60 s)"
        )
    return report


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=70_000)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument(
        "--postgres",
        default=None,
        help="an admin URL: databases are created under it and dropped after",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        imports(Path(folder), args.lines, args.postgres, args.turns)


if __name__ == "__main__":
    main()
