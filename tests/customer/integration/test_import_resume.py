"""An import job whose process stopped is taken up by another process and ends as an
uninterrupted run does: the same profiles, versions, events, rejections and counts,
on SQLite and PostgreSQL; of two processes that find it stale, one takes it; a run
that lost its job has its chunk refused; a job taken up where its upload is not on
disk (another pod's data folder) writes it back from the database; a job whose
upload is in neither is reported failed, saying so."""

import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select, update

from services.customer import config, periodic
from services.customer.imports import jobs as importer
from services.customer.imports.tables import ImportJob, ImportRejection, ImportUploadPart
from services.customer.tables import Outbox, PeriodicJob
from shared import import_jobs, import_uploads
from shared.clock import utcnow
from shared.db import Database
from shared.errors import Invalid
from shared.messaging.unit_of_work import UnitOfWorkFactory
from shared.periodic import Scheduler
from shared.testing import wait_for
from tests.conftest import make_token
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
from shared.errors import Invalid
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


def queued(uow, path, kept: bool = True, **fields) -> str:
    """A job registered as an upload registers it: its upload kept in the database
    too (``kept``), unless it stands for a job from before uploads were kept."""
    job = ImportJob(
        id=str(uuid.uuid4()),
        format="csv",
        path=str(path),
        actor="tester",
        status=fields.pop("status", "queued"),
        total_bytes=path.stat().st_size,
        **fields,
    )
    with uow() as work:
        work.session.add(job)
        work.session.flush()
        if kept:
            import_uploads.keep(work.session, ImportUploadPart, job.id, path)
    return job.id


def parts(uow, job_id: str) -> int:
    with uow.reader() as s:
        return s.scalar(
            select(func.count())
            .select_from(ImportUploadPart)
            .where(ImportUploadPart.job_id == job_id)
        )


def ended(uow, job_id: str) -> ImportJob:
    def probe():
        with uow.reader() as s:
            job = s.get(ImportJob, job_id)
            return job if job.status in ("done", "failed") else None

    return wait_for(probe, 60, message="the job to end")


@pytest.mark.parametrize("taker", ["same data folder", "another pod"])
def test_a_job_killed_mid_way_is_taken_up_and_ends_as_an_uninterrupted_run(
    database_url, tmp_path, monkeypatch, taker
):
    whole_db, whole = service(f"sqlite:///{tmp_path / 'uninterrupted.db'}")
    db, uow = service(database_url)
    expected = import_file(whole, csv_path(tmp_path, "whole.csv"), workers=0, chunk=10, piece=5)
    path = csv_path(tmp_path)
    monkeypatch.setattr(import_uploads, "PART", 700)  # the upload kept in several parts
    job_id = queued(uow, path, correlation_id="upload-request-7")
    assert parts(uow, job_id) == -(-path.stat().st_size // 700) > 2
    upload = path.read_bytes()

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
    if taker == "another pod":  # whose data folder is its own: the upload is not on it
        path.unlink()
    # Its heartbeat is fresh: no other process takes a job that may still be running.
    assert importer.resume_stale(uow, utcnow()) == []

    other_db = Database(database_url)  # another process of the service
    other = UnitOfWorkFactory(other_db, Outbox, "customer")
    restored = []
    restore = import_uploads.restore
    monkeypatch.setattr(
        import_uploads,
        "restore",
        lambda *a: restored.append((path.exists(), restore(*a), path.read_bytes())) or True,
    )
    assert importer.resume_stale(other, utcnow() + LATER) == [job_id]
    ended(uow, job_id)
    # The taker found the upload on its disk, or wrote it back from the database whole.
    assert restored == [(taker == "same data folder", True, upload)]

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
    assert not path.exists()  # removed once the job ended, from disk and database
    assert parts(uow, job_id) == 0
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
    # A job registered before uploads were kept in the database, its data folder emptied.
    job_id = queued(uow, path, kept=False, created_at=utcnow() - LATER)
    path.unlink()
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
    # Its upload's process stopped while running it (a job that never started, or
    # was handed back, counts no takeover when taken: see the tests above).
    job_id = queued(
        uow,
        path,
        status="running",
        owner="the upload's process",
        created_at=utcnow() - LATER,
        heartbeat_at=utcnow() - LATER,
    )
    taken = []
    for n in range(import_jobs.MAX_TAKEOVERS):  # each run it is given stops, unfinished
        assert import_jobs.take_up(
            db, ImportJob, ImportUploadPart, utcnow(), lambda *a: taken.append(a)
        ) == [job_id]
        with db.transaction() as s:
            s.execute(
                update(ImportJob)
                .where(ImportJob.id == job_id)
                .values(heartbeat_at=utcnow() - LATER)
            )
        with uow.reader() as s:
            assert s.get(ImportJob, job_id).takeovers == n + 1
    assert (
        import_jobs.take_up(db, ImportJob, ImportUploadPart, utcnow(), lambda *a: taken.append(a))
        == []
    )
    assert len(taken) == import_jobs.MAX_TAKEOVERS
    job = ended(uow, job_id)
    assert job.status == "failed" and job.error.startswith("the job's process stopped")
    assert not path.exists()  # the upload holds everyone in it: gone with its job
    assert parts(uow, job_id) == 0
    assert (
        import_jobs.take_up(db, ImportJob, ImportUploadPart, utcnow(), lambda *a: taken.append(a))
        == []
    )
    db.dispose()


def test_an_upload_is_accepted_with_its_parts_and_a_refused_one_leaves_nothing(
    database_url, tmp_path, monkeypatch
):
    db, uow = service(database_url)
    settings = config.load(
        {"DATABASE_URL": database_url, "DEV_MODE": "1", "DATA_DIR": str(tmp_path / "data")}
    )
    upload = csv_path(tmp_path).read_bytes()
    monkeypatch.setattr(import_uploads, "PART", 256)
    job = importer.save_upload(settings, io.BytesIO(upload), "csv", "tester", uow)
    with uow.reader() as s:
        stored_parts = s.execute(
            select(ImportUploadPart.seq, ImportUploadPart.data)
            .where(ImportUploadPart.job_id == job.id)
            .order_by(ImportUploadPart.seq)
        ).all()
    assert [seq for seq, _ in stored_parts] == list(range(-(-len(upload) // 256)))
    assert b"".join(data for _, data in stored_parts) == upload
    assert Path(job.path).read_bytes() == upload
    # Written back where the job looks for it, in a pod whose data folder is empty.
    Path(job.path).unlink()
    assert import_uploads.restore(db, ImportUploadPart, job.id, Path(job.path))
    assert Path(job.path).read_bytes() == upload
    assert not list(Path(job.path).parent.glob("*.restoring"))

    # A header the import does not read: no job, no parts, no file.
    with pytest.raises(Invalid):
        importer.save_upload(settings, io.BytesIO(b"nope,nothing\n1,2\n"), "csv", "tester", uow)
    with uow.reader() as s:
        assert s.scalar(select(func.count()).select_from(ImportJob)) == 1
        assert s.scalar(select(func.count()).select_from(ImportUploadPart)) == len(stored_parts)
    assert [p.name for p in Path(settings.data_dir, "imports").iterdir()] == [Path(job.path).name]
    db.dispose()


def test_a_process_that_stops_hands_its_job_back_to_be_taken_at_once(
    database_url, tmp_path, stopped_after_first_chunk
):
    """A deploy's SIGTERM: the job stops after the chunk it is writing and goes back
    to the queue, taken by the next process that looks (not ten minutes later), not
    counted as a takeover, and ends as an uninterrupted run."""
    whole_db, whole = service(f"sqlite:///{tmp_path / 'uninterrupted.db'}")
    db, uow = service(database_url)
    expected = import_file(whole, csv_path(tmp_path, "whole.csv"), workers=0, chunk=10, piece=5)
    job_id = queued(uow, csv_path(tmp_path))
    # What the process's shutdown does once the first chunk is in:
    assert stopped_after_first_chunk(importer, importer.run, (uow, job_id, 0, 10, 5)) == 0
    with uow.reader() as s:
        back = s.get(ImportJob, job_id)
        assert (back.status, back.owner, back.rows_read, back.takeovers) == ("queued", None, 10, 0)

    other_db = Database(database_url)
    other = UnitOfWorkFactory(other_db, Outbox, "customer")
    assert importer.resume_stale(other, utcnow()) == [job_id]  # now, not ten minutes on
    ended(uow, job_id)
    assert outcome(uow, job_id) == expected
    assert stored(db) == stored(whole_db)
    with uow.reader() as s:
        assert s.get(ImportJob, job_id).takeovers == 0
    for database in (whole_db, db, other_db):
        database.dispose()


def test_a_job_handed_back_after_its_takeovers_is_taken_not_failed(tmp_path):
    """The limit is on processes that stopped in a job: one handed back by a process
    that stopped gracefully is taken again, whatever its takeovers."""
    db, uow = service(f"sqlite:///{tmp_path / 'service.db'}")
    job_id = queued(
        uow,
        csv_path(tmp_path),
        takeovers=import_jobs.MAX_TAKEOVERS,
        heartbeat_at=utcnow() - import_jobs.STALE,  # as hand_back leaves it
    )
    taken = []
    assert import_jobs.take_up(
        db, ImportJob, ImportUploadPart, utcnow(), lambda *a: taken.append(a)
    ) == [job_id]
    with uow.reader() as s:
        job = s.get(ImportJob, job_id)
        assert (job.status, job.takeovers, job.error) == (
            "running",
            import_jobs.MAX_TAKEOVERS,
            None,
        )
    db.dispose()


def test_a_stopped_api_process_hands_its_running_import_back(tmp_path):
    """Through the API process as it runs in production (gunicorn, its workers'
    exit hook): SIGTERM while an upload's job runs, and the job is back in the
    queue, its committed rows kept, for the next process to take at once."""
    data = tmp_path / "data"
    url = f"sqlite:///{tmp_path / 'customer.db'}"
    db, uow = service(url)
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RAPPORT_SERVICE": "customer",
        "RAPPORT_DEV_MODE": "1",
        "RAPPORT_DATA_DIR": str(data),
        "CUSTOMER_DATABASE_URL": url,
        "CUSTOMER_PORT": str(port),
        "RAPPORT_WEB_WORKERS": "1",
    }
    api = subprocess.Popen(
        [sys.executable, "-m", "deploy.run", "api"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rows = 60_000
    upload = tmp_path / "big.csv"
    upload.write_text(
        "external_ref,name,phone,email,segment\n"
        + "".join(f"B{i},Chan Tai Man,51{i:06d},b{i}@example.com,smb\n" for i in range(rows))
    )
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        headers = {"Authorization": f"Bearer {make_token('manager')}"}
        wait_for(lambda: _answers(f"{base}/segments", headers), 60, message="the API")
        with upload.open("rb") as body:
            answer = requests.post(
                f"{base}/customers/import",
                data=body,
                headers={**headers, "Content-Type": "text/csv"},
                timeout=60,
            )
        assert answer.status_code == 202, answer.text
        job_id = answer.json()["id"]

        def first_chunk():
            with uow.reader() as s:
                return s.get(ImportJob, job_id).rows_read > 0

        wait_for(first_chunk, 60, message="the job's first chunk")
        api.send_signal(signal.SIGTERM)
        assert api.wait(30) == 0
    finally:
        if api.poll() is None:
            api.kill()
    with uow.reader() as s:
        job = s.get(ImportJob, job_id)
        assert (job.status, job.owner, job.takeovers) == ("queued", None, 0)
        assert 0 < job.rows_read < rows
    other_db = Database(url)  # the relay of another pod, at its next look
    other = UnitOfWorkFactory(other_db, Outbox, "customer")
    Path(job.path).unlink()  # its data folder is its own
    assert importer.resume_stale(other, utcnow()) == [job_id]
    done = ended(uow, job_id)
    assert (done.status, done.created, done.rejected) == ("done", rows, 0)
    other_db.dispose()
    db.dispose()


def _answers(url: str, headers: dict) -> bool:
    try:
        return requests.get(url, headers=headers, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
