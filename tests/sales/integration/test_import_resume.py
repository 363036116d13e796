"""A sale import whose process stopped is taken up by another process and ends as an
uninterrupted run does: the same sales, lines, events, P&L, rejections and counts,
on SQLite and PostgreSQL, whether the process that takes it up has the upload on
its disk or writes it back from the database (another pod's data folder); of two
processes that find it stale, one takes it."""

import json
import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from services.sales import config, periodic
from services.sales.app import create_app
from services.sales.db import Outbox, PeriodicJob
from services.sales.imports import jobs as importer
from services.sales.imports.tables import (
    SaleImportJob,
    SaleImportRejection,
    SaleImportUploadPart,
)
from services.sales.ledger.tables import Sale, SaleLine
from services.sales.pnl.tables import PnlDaily
from shared import import_jobs, import_uploads
from shared.clock import utcnow
from shared.db import Database
from shared.messaging.unit_of_work import UnitOfWorkFactory
from shared.periodic import Scheduler
from shared.testing import wait_for
from tests.conftest import auth
from tests.sales.unit.test_sale_import import BAD, GOOD, WHEN, _seeded, csv_file

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
ZONE = ZoneInfo(config.DEFAULT_TIMEZONE)
CHUNK = 2  # sales a transaction
# INV-1, INV-2 | INV-3, BAD-1 (rejected) | then goods and bad ones after the cut.
ROWS = (
    GOOD
    + BAD["quantity"]
    + [f"S-{i},c{1 + i % 2},{WHEN},HKD,TEA-1,,{1 + i % 4},,," for i in range(5)]
    + BAD["sku"]
    + [f"S-{i},c1,{WHEN},HKD,,Tea set,1,300.00,120.00," for i in range(5, 9)]
    + BAD["discount"]
    + GOOD[3:4]  # INV-2 again: on file, skipped
)
# A process of the service that runs the job two chunks far and then stops there,
# to be killed: what a deploy or a crash does to the API process running a job.
CHILD = """
import sys, time
from zoneinfo import ZoneInfo
from services.sales.db import Outbox, PeriodicJob
from services.sales.imports import jobs
from shared.db import Database
from shared.messaging.unit_of_work import UnitOfWorkFactory

url, job_id, zone, chunk = sys.argv[1:5]
uow = UnitOfWorkFactory(Database(url), Outbox, "sales")
commit, chunks = jobs._commit_chunk, []

def commit_then_stop_after_two(*args):
    commit(*args)
    chunks.append(1)
    if len(chunks) == 2:
        print("two chunks committed", flush=True)
        time.sleep(600)

jobs._commit_chunk = commit_then_stop_after_two
jobs.run(uow, job_id, ZoneInfo(zone), chunk=int(chunk))
"""
LATER = import_jobs.STALE + timedelta(seconds=1)


def seeded(service_app, url, tmp_path):
    return _seeded(service_app(create_app, config.MIGRATIONS, url, DATA_DIR=str(tmp_path)))


def queued(uow, path, **fields) -> str:
    """A job registered as an upload registers it, its upload kept in the database too."""
    job_id = importer.new_id()
    counts = dict.fromkeys(
        ("bytes_read", "rows_read", "sales_read", "created", "lines_created", "skipped"), 0
    )
    with uow() as work:
        work.session.add(
            SaleImportJob(
                id=job_id,
                format="csv",
                path=str(path),
                actor="t",
                status="queued",
                total_bytes=path.stat().st_size,
                rejected=0,
                **{"created_at": utcnow(), **counts, **fields},
            )
        )
        work.session.flush()
        import_uploads.keep(work.session, SaleImportUploadPart, job_id, path)
    return job_id


def parts(uow, job_id: str) -> int:
    with uow.reader() as s:
        return s.scalar(
            select(func.count())
            .select_from(SaleImportUploadPart)
            .where(SaleImportUploadPart.job_id == job_id)
        )


def ended(uow, job_id: str) -> dict:
    def probe():
        job = importer.get_job(uow, job_id)
        return job if job["status"] in ("done", "failed") else None

    return wait_for(probe, 60, message="the job to end")


def outcome(uow, job_id: str) -> dict:
    """What the job reports, and every rejection it stored."""
    job = importer.get_job(uow, job_id)
    with uow.reader() as s:
        rejections = sorted(
            (r.line, r.external_ref, json.dumps(r.reasons, sort_keys=True))
            for r in s.scalars(
                select(SaleImportRejection).where(SaleImportRejection.job_id == job_id)
            )
        )
    keys = ("status", "error", "bytes_read", "total_bytes", "rows_read", "sales_read")
    keys += ("created", "lines_created", "skipped", "rejected")
    return {"job": {k: job[k] for k in keys}, "rejections": rejections}


def stored(app) -> dict:
    """What the import left, without the ids it made."""
    with app.extensions["rapport"].db.reader() as s:
        refs = {sale.id: sale.external_ref for sale in s.scalars(select(Sale))}
        skip = {"id", "sale_id", "created_at", "updated_at"}

        def rows(model):
            return sorted(
                json.dumps(
                    {
                        c.key: str(getattr(row, c.key))
                        for c in model.__table__.columns
                        if c.key not in skip
                    }
                    | ({"sale": refs[row.sale_id]} if hasattr(row, "sale_id") else {}),
                    sort_keys=True,
                )
                for row in s.scalars(select(model))
            )

        events = sorted(
            json.dumps(
                {k: v for k, v in json.loads(body)["payload"].items() if k != "sale_id"},
                sort_keys=True,
            )
            for body in s.scalars(select(Outbox.body).where(Outbox.event_type == "sale.recorded"))
        )
        return {
            "sales": rows(Sale),
            "lines": rows(SaleLine),
            "pnl": rows(PnlDaily),
            "events": events,
        }


def expected_run(service_app, tmp_path, chunk=CHUNK) -> tuple[dict, dict]:
    app = seeded(service_app, f"sqlite:///{tmp_path / 'whole.db'}", tmp_path / "whole")
    uow = app.extensions["rapport"].uow
    path = tmp_path / "whole.csv"
    path.write_bytes(csv_file(ROWS))
    job_id = queued(uow, path)
    assert importer.run(uow, job_id, ZONE, chunk=chunk) is True
    return outcome(uow, job_id), stored(app)


@pytest.mark.parametrize("taker", ["same data folder", "another pod"])
def test_a_job_killed_mid_way_is_taken_up_and_ends_as_an_uninterrupted_run(
    service_app, database_url, tmp_path, monkeypatch, taker
):
    expected, expected_rows = expected_run(service_app, tmp_path)
    app = seeded(service_app, database_url, tmp_path / "data")
    uow = app.extensions["rapport"].uow
    path = tmp_path / "sales.csv"
    path.write_bytes(csv_file(ROWS))
    monkeypatch.setattr(import_uploads, "PART", 300)  # the upload kept in several parts
    job_id = queued(uow, path, correlation_id="upload-request-7")
    assert parts(uow, job_id) == -(-path.stat().st_size // 300) > 2

    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, database_url, job_id, config.DEFAULT_TIMEZONE, str(CHUNK)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert child.stdout.readline().strip() == "two chunks committed"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    cut = importer.get_job(uow, job_id)
    assert (cut["status"], cut["sales_read"], cut["created"], cut["rejected"]) == (
        "running",
        4,
        3,
        1,
    )
    # Asked for, it is still running (it is taken up, not given up).
    later = importer.get_job(uow, job_id)
    assert later["status"] == "running" and later["error"] is None
    assert importer.resume_stale(uow, ZONE, utcnow()) == []  # its heartbeat is fresh
    if taker == "another pod":  # whose data folder is its own: the upload is not on it
        path.unlink()

    other_db = Database(database_url)  # another process of the service
    other = UnitOfWorkFactory(other_db, Outbox, "sales")
    assert importer.resume_stale(other, ZONE, utcnow() + LATER) == [job_id]
    ended(uow, job_id)
    got = outcome(uow, job_id)
    assert got == expected
    assert (got["job"]["status"], got["job"]["created"], got["job"]["skipped"]) == ("done", 12, 1)
    assert got["job"]["rejected"] == 3 and got["job"]["rows_read"] == len(ROWS)
    assert stored(app) == expected_rows
    # Every event carries the upload's correlation id, the killed run's and the run
    # that took the job up alike.
    with uow.reader() as s:
        bodies = s.scalars(select(Outbox.body).where(Outbox.event_type == "sale.recorded"))
        assert {json.loads(body)["correlation_id"] for body in bodies} == {"upload-request-7"}
    assert not path.exists()  # removed once the job ended, from disk and database
    assert parts(uow, job_id) == 0
    other_db.dispose()
    app.extensions["rapport"].db.dispose()


def test_of_two_processes_that_find_a_job_stale_one_takes_it(service_app, database_url, tmp_path):
    expected, expected_rows = expected_run(service_app, tmp_path, chunk=importer.CHUNK)
    app = seeded(service_app, database_url, tmp_path / "data")
    uow = app.extensions["rapport"].uow
    path = tmp_path / "sales.csv"
    path.write_bytes(csv_file(ROWS))
    # A job whose process stopped before its thread took it: queued, long ago.
    job_id = queued(uow, path, created_at=utcnow() - LATER)
    replicas = [Database(database_url) for _ in range(2)]
    start = threading.Barrier(2)
    taken: list[list[str]] = []

    def replica(database):
        start.wait()
        taken.append(
            importer.resume_stale(UnitOfWorkFactory(database, Outbox, "sales"), ZONE, utcnow())
        )

    threads = [threading.Thread(target=replica, args=(d,)) for d in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(taken) == [[], [job_id]]
    ended(uow, job_id)
    assert outcome(uow, job_id) == expected
    assert stored(app) == expected_rows
    for database in (*replicas, app.extensions["rapport"].db):
        database.dispose()


def test_the_relays_periodic_work_takes_the_job_up(service_app, sqlite_url, tmp_path):
    app = seeded(service_app, sqlite_url, tmp_path / "data")
    rapport = app.extensions["rapport"]
    path = tmp_path / "sales.csv"
    path.write_bytes(csv_file(ROWS))
    job_id = queued(rapport.uow, path, created_at=utcnow() - LATER)
    scheduler = Scheduler(
        "sales", rapport.db, PeriodicJob, periodic.jobs(rapport.settings, rapport.db)
    )
    scheduler.register()
    assert "resume-imports" in scheduler.run_due()
    assert ended(rapport.uow, job_id)["status"] == "done"
    listed = app.test_client().get("/api/v1/periodic-jobs", headers=auth()).json
    assert {j["name"]: j["last_status"] for j in listed}["resume-imports"] == "ok"
    rapport.db.dispose()


def test_a_process_that_stops_hands_its_job_back_to_be_taken_at_once(
    service_app, database_url, tmp_path, stopped_after_first_chunk
):
    """A deploy's SIGTERM: the job stops after the chunk it is writing and goes back
    to the queue, taken by the next process that looks, not counted as a takeover,
    and ends as an uninterrupted run."""
    expected, expected_rows = expected_run(service_app, tmp_path)
    app = seeded(service_app, database_url, tmp_path / "data")
    uow = app.extensions["rapport"].uow
    path = tmp_path / "sales.csv"
    path.write_bytes(csv_file(ROWS))
    job_id = queued(uow, path)
    # What the process's shutdown does once the first chunk is in:
    assert stopped_after_first_chunk(importer, importer.run, (uow, job_id, ZONE, CHUNK)) == 0
    back = importer.get_job(uow, job_id)
    assert (back["status"], back["sales_read"]) == ("queued", CHUNK)
    with uow.reader() as s:
        job = s.get(SaleImportJob, job_id)
        assert (job.owner, job.takeovers) == (None, 0)

    other_db = Database(database_url)
    other = UnitOfWorkFactory(other_db, Outbox, "sales")
    assert importer.resume_stale(other, ZONE, utcnow()) == [job_id]  # now, not ten minutes on
    ended(uow, job_id)
    assert outcome(uow, job_id) == expected
    assert stored(app) == expected_rows
    other_db.dispose()
    app.extensions["rapport"].db.dispose()
