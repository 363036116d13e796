"""An import job whose process stopped is taken up by another process and ends as an
uninterrupted run does: the same profiles, versions, events, rejections and counts,
on SQLite and PostgreSQL; of two processes that find it stale, one takes it; a run
that lost its job has its chunk refused; a job whose upload is gone is reported
failed, saying so."""

import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from services.customer import config, periodic
from services.customer.imports import jobs as importer
from services.customer.imports.tables import ImportJob, ImportRejection
from services.customer.tables import Outbox, PeriodicJob
from shared import import_jobs
from shared.clock import utcnow
from shared.db import Database
from shared.messaging.unit_of_work import UnitOfWorkFactory
from shared.periodic import Scheduler
from shared.testing import wait_for
from tests.customer.integration.test_import_pipeline import (
    LINES,
    csv_path,
    import_file,
    outcome,
    service,
    stored,
)

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
# A process of the service that runs the job two chunks far and then stops there,
# to be killed: what a deploy or a crash does to the API process running a job.
CHILD = """
import sys, time
from services.customer.imports import jobs
from services.customer.tables import Outbox, PeriodicJob
from shared.db import Database
from shared.messaging.unit_of_work import UnitOfWorkFactory

url, job_id = sys.argv[1:3]
uow = UnitOfWorkFactory(Database(url), Outbox, "customer")
commit, chunks = jobs._commit_chunk, []

def commit_then_stop_after_two(*args):
    commit(*args)
    chunks.append(1)
    if len(chunks) == 2:
        print("two chunks committed", flush=True)
        time.sleep(600)

jobs._commit_chunk = commit_then_stop_after_two
jobs.run(uow, job_id, workers=0, chunk=10, piece=5)
"""
LATER = importer.import_jobs.STALE + timedelta(seconds=1)


def queued(uow, path, **fields) -> str:
    job = ImportJob(
        id=str(uuid.uuid4()),
        format="csv",
        path=str(path),
        actor="tester",
        status="queued",
        total_bytes=path.stat().st_size,
        **fields,
    )
    with uow() as work:
        work.session.add(job)
    return job.id


def ended(uow, job_id: str) -> ImportJob:
    def probe():
        with uow.reader() as s:
            job = s.get(ImportJob, job_id)
            return job if job.status in ("done", "failed") else None

    return wait_for(probe, 60, message="the job to end")


def test_a_job_killed_mid_way_is_taken_up_and_ends_as_an_uninterrupted_run(database_url, tmp_path):
    whole_db, whole = service(f"sqlite:///{tmp_path / 'uninterrupted.db'}")
    db, uow = service(database_url)
    expected = import_file(whole, csv_path(tmp_path, "whole.csv"), workers=0, chunk=10, piece=5)
    path = csv_path(tmp_path)
    job_id = queued(uow, path, correlation_id="upload-request-7")

    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, database_url, job_id],
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
    with uow.reader() as s:
        cut = s.get(ImportJob, job_id)
        assert (cut.status, cut.rows_read, cut.rejected) == ("running", 20, 5)
    assert path.exists()
    # Its heartbeat is fresh: no other process takes a job that may still be running.
    assert importer.resume_stale(uow, utcnow()) == []

    other_db = Database(database_url)  # another process of the service
    other = UnitOfWorkFactory(other_db, Outbox, "customer")
    assert importer.resume_stale(other, utcnow() + LATER) == [job_id]
    ended(uow, job_id)

    got = outcome(uow, job_id)
    assert got == expected
    assert (got["status"], got["rows"], got["created"]) == ("done", len(LINES), 45)
    with uow.reader() as s:  # each rejection reported once
        assert s.scalar(
            select(func.count())
            .select_from(ImportRejection)
            .where(ImportRejection.job_id == job_id)
        ) == len(expected["rejected"])
    assert stored(db) == stored(whole_db)
    # Every event carries the upload's correlation id, the killed run's and the run
    # that took the job up alike.
    with uow.reader() as s:
        bodies = s.scalars(select(Outbox.body))
        assert {json.loads(body)["correlation_id"] for body in bodies} == {"upload-request-7"}
    assert not path.exists()  # removed once the job ended
    for database in (whole_db, db, other_db):
        database.dispose()


def test_of_two_processes_that_find_a_job_stale_one_takes_it(database_url, tmp_path):
    whole_db, whole = service(f"sqlite:///{tmp_path / 'uninterrupted.db'}")
    db, uow = service(database_url)
    expected = import_file(whole, csv_path(tmp_path, "whole.csv"), workers=0)
    # A job whose process stopped before its thread took it: queued, long ago.
    job_id = queued(uow, csv_path(tmp_path), created_at=utcnow() - LATER)
    replicas = [Database(database_url) for _ in range(2)]
    start = threading.Barrier(2)
    taken: list[list[str]] = []

    def replica(database):
        start.wait()
        taken.append(
            importer.resume_stale(UnitOfWorkFactory(database, Outbox, "customer"), utcnow())
        )

    threads = [threading.Thread(target=replica, args=(d,)) for d in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(taken) == [[], [job_id]]
    ended(uow, job_id)
    assert outcome(uow, job_id) == expected
    assert stored(db) == stored(whole_db)
    for database in (whole_db, db, *replicas):
        database.dispose()


def test_a_run_that_lost_its_job_has_its_chunk_refused(tmp_path):
    db, uow = service(f"sqlite:///{tmp_path / 'service.db'}")
    job_id = queued(uow, csv_path(tmp_path))
    with db.transaction() as s:
        assert import_jobs.take_new(s, ImportJob, job_id, "slow")
        assert not import_jobs.take_new(s, ImportJob, job_id, "another")
    with db.transaction() as s:  # the slow run's heartbeat, ten minutes old
        s.execute(
            update(ImportJob).where(ImportJob.id == job_id).values(heartbeat_at=utcnow() - LATER)
        )
    with db.transaction() as s:
        assert import_jobs.take_stale(s, ImportJob, job_id, "slow", "taker", utcnow())
    with db.transaction() as s:  # the same stale sight, a moment later: taken already
        assert not import_jobs.take_stale(s, ImportJob, job_id, "slow", "late", utcnow() + LATER)
    with pytest.raises(import_jobs.Taken), uow() as work:
        import_jobs.beat(work.session, ImportJob, job_id, "slow")
    # The slow run, going on, writes nothing and leaves the job and its file alone.
    assert importer.run(uow, job_id, workers=0, chunk=10, owner="slow") is False
    with uow.reader() as s:
        job = s.get(ImportJob, job_id)
        assert (job.owner, job.status, job.rows_read) == ("taker", "running", 0)
    assert stored(db)["customers"] == []
    db.dispose()


def test_a_job_whose_upload_is_gone_is_reported_failed_saying_so(tmp_path):
    db, uow = service(f"sqlite:///{tmp_path / 'service.db'}")
    path = csv_path(tmp_path)
    job_id = queued(uow, path, created_at=utcnow() - LATER)
    path.unlink()  # the data folder was emptied
    assert importer.resume_stale(uow, utcnow()) == [job_id]
    job = ended(uow, job_id)
    assert job.status == "failed" and "upload file is gone" in job.error
    assert job.error == importer.GONE
    db.dispose()


def test_the_relays_periodic_work_takes_the_job_up(tmp_path):
    db, uow = service(f"sqlite:///{tmp_path / 'service.db'}")
    job_id = queued(uow, csv_path(tmp_path), created_at=utcnow() - LATER)
    settings = config.load({"DATABASE_URL": str(db.engine.url), "DEV_MODE": "1"})
    scheduler = Scheduler("customer", db, PeriodicJob, periodic.jobs(settings, db))
    scheduler.register()
    assert "resume-imports" in scheduler.run_due()
    job = ended(uow, job_id)
    assert (job.status, job.rows_read) == ("done", len(LINES))
    db.dispose()


def test_a_job_that_stops_every_process_running_it_is_failed_not_taken_up_forever(tmp_path):
    db, uow = service(f"sqlite:///{tmp_path / 'service.db'}")
    path = csv_path(tmp_path)
    job_id = queued(uow, path, created_at=utcnow() - LATER)
    taken = []
    for n in range(import_jobs.MAX_TAKEOVERS):  # each run it is given stops, unfinished
        assert import_jobs.take_up(db, ImportJob, utcnow(), lambda *a: taken.append(a)) == [job_id]
        with db.transaction() as s:
            s.execute(
                update(ImportJob)
                .where(ImportJob.id == job_id)
                .values(heartbeat_at=utcnow() - LATER)
            )
        with uow.reader() as s:
            assert s.get(ImportJob, job_id).takeovers == n + 1
    assert import_jobs.take_up(db, ImportJob, utcnow(), lambda *a: taken.append(a)) == []
    assert len(taken) == import_jobs.MAX_TAKEOVERS
    job = ended(uow, job_id)
    assert job.status == "failed" and job.error.startswith("the job's process stopped")
    assert not path.exists()  # the upload holds everyone in it: gone with its job
    assert import_jobs.take_up(db, ImportJob, utcnow(), lambda *a: taken.append(a)) == []
    db.dispose()
