"""The customer import figure: 100,000 customers through the import pipeline
(parse, validate, normalise phones and e-mails, duplicate checks, profile
versions and events) vs a raw bulk insert of the same rows into the same migrated
schema, measured in the same run, on SQLite and on PostgreSQL. Run it through
``python -m bench.customer`` (see there)."""

from __future__ import annotations

import csv
import random
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from services.customer import config
from services.customer.imports import jobs as importer
from services.customer.imports.tables import ImportJob
from services.customer.profiles.tables import Customer
from services.customer.tables import Outbox
from shared import migrations
from shared.db import Database
from shared.messaging.unit_of_work import UnitOfWorkFactory
from shared.startup import freeze_startup_objects

SURNAMES = ["Chan", "Wong", "Lee", "Cheung", "Lau", "Ng", "Leung", "Ho", "Lam", "Tam"]
GIVEN = ["Tai", "Man", "Siu", "Ming", "Ka", "Wai", "Chi", "Kin", "Wing", "Yan", "Hoi"]


def write_csv(path: Path, rows: int) -> None:
    rng = random.Random(1)
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(
            [
                "external_ref",
                "name",
                "phone",
                "email",
                "segment",
                "address_line1",
                "address_district",
            ]
        )
        for i in range(rows):
            name = f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)} {rng.choice(GIVEN)}"
            out.writerow(
                [
                    f"EXT-{i}",
                    name,
                    f"51{i:06d}",
                    f"c{i}@example.com",
                    "smb",
                    f"{rng.randint(1, 999)} Nathan Road",
                    "Mong Kok",
                ]
            )


def migrated(folder: Path, name: str) -> str:
    url = f"sqlite:///{folder / name}"
    migrations.upgrade(url, config.MIGRATIONS)
    return url


def _postgres(admin_url: str, made: list[str]) -> str:
    """A new migrated PostgreSQL database under ``admin_url`` (its name added to
    ``made``, to be dropped after)."""
    name = f"rapport_bench_customer_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    made.append(name)
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    migrations.upgrade(url, config.MIGRATIONS)
    return url


def _drop_postgres(admin_url: str, name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def raw_insert(url: str, path: Path) -> float:
    """The baseline: the same rows, read and bulk-inserted, no checks."""
    engine = create_engine(url)
    started = time.perf_counter()
    now = datetime.now(UTC)
    with path.open(newline="") as fh, engine.begin() as conn:
        batch = []
        for row in csv.DictReader(fh):
            batch.append(
                {
                    "id": str(uuid.uuid4()),
                    "kind": "person",
                    "name": row["name"],
                    "name_key": row["name"],
                    "name_rkey": row["name"],
                    "phone": row["phone"],
                    "email": row["email"],
                    "segment": row["segment"],
                    "external_ref": row["external_ref"],
                    "lifecycle_status": "active",
                    "tags": "[]",
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                    "calls_completed": 0,
                    "do_not_call": False,
                    "source": "import",
                    "lifetime_revenue": 0,
                    "lifetime_margin": 0,
                }
            )
            if len(batch) == 5000:
                conn.execute(insert(Customer.__table__), batch)
                batch = []
        if batch:
            conn.execute(insert(Customer.__table__), batch)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def rapport_import(url: str, path: Path, workers: int | None = None) -> tuple[float, ImportJob]:
    db = Database(url)
    uow = UnitOfWorkFactory(db, Outbox, "customer")
    job = ImportJob(
        id=str(uuid.uuid4()),
        format="csv",
        path=str(path),
        actor="bench",
        status="queued",
        total_bytes=path.stat().st_size,
    )
    with uow() as work:
        work.session.add(job)
    # The import runs in a thread of the customer API's process, which froze its
    # start-up objects out of the garbage collector when its app was made.
    freeze_startup_objects()
    started = time.perf_counter()
    importer.run(uow, job.id, workers=workers)
    elapsed = time.perf_counter() - started
    with db.reader() as s:
        done = s.get(ImportJob, job.id)
    db.dispose()
    return elapsed, done


def imports(folder: Path, path: Path, rows: int, postgres: str | None, workers: int | None) -> None:
    """The import figure on SQLite and, given an admin URL, on PostgreSQL."""
    for backend in ["sqlite"] + (["postgresql"] if postgres else []):
        made: list[str] = []
        try:
            if backend == "sqlite":
                raw_url, url = migrated(folder, "raw.db"), migrated(folder, "import.db")
            else:
                raw_url, url = (_postgres(postgres, made) for _ in range(2))
            raw = rows / raw_insert(raw_url, path)
            elapsed, job = rapport_import(url, path, workers)
        finally:
            for name in made:
                _drop_postgres(postgres, name)
        rate = rows / elapsed
        print(f"{backend}: raw bulk insert {raw:10.0f} rows/s")
        print(
            f"{backend}: import          {rate:10.0f} rows/s  ({job.created} created, "
            f"{job.rejected} rejected, {elapsed:.1f} s)"
        )
        print(
            f"{backend}: ratio, import   {rate / raw:10.3f}  (target >= 0.5)",
            flush=True,
        )
