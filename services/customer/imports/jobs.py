"""Bulk import of customers from CSV or JSON Lines, streamed.

The upload is saved to the data folder and processed by a job in the background,
10,000 rows a transaction; the job row carries its progress in the same
transaction as the rows, so what it reports is what is committed. A row that
fails validation is rejected with its line number and reasons while the others go
in. A row with an ``external_ref`` already on file updates that customer (an
idempotent upsert: importing the same file twice changes nothing); a new row whose
phone or e-mail belongs to a customer on file is rejected as a likely duplicate.

The job reads the file and writes every chunk in order; checking the rows is left
to worker processes on a large file (``pipeline``), in pieces of 1,000
rows up to a chunk ahead of the writes.

The job runs in a thread of the API process that took the upload. If that process
stops (a deploy, a crash), the job is taken up again by another process of the
service: the relay's ``resume-imports`` periodic job finds it without a heartbeat
for ``STALE``, takes it (once across replicas: ``shared.import_jobs``) and goes on
from the first row no chunk has committed, so the job ends as it would have:
no row imported twice or missed, each rejection reported once. The upload stays
in the data folder, and in the database, until its job ends: a process whose data
folder lacks it (another pod's) writes it back from there
(``shared.import_uploads``). If it is in neither, the job is reported failed.
"""

from __future__ import annotations

import csv
import logging
import threading
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

from sqlalchemy import select, tuple_

from services.customer.imports import chunk_writes, pipeline
from services.customer.imports import files as import_files
from services.customer.imports import row_validation as import_rows
from services.customer.imports.preparation import Prepared, Setup
from services.customer.imports.tables import ImportJob, ImportRejection, ImportUploadPart
from services.customer.tables import new_id
from shared import context, import_jobs, import_uploads
from shared.clock import utcnow
from shared.errors import Invalid, NotFound
from shared.import_files import csv_header
from shared.web.pagination import decode_cursor, page

log = logging.getLogger(__name__)
CHUNK = 10_000  # rows a transaction: each commit rewrites the index pages it touched
PIECE = 1000  # rows a worker prepares at a time
FIELD_LIMIT = 64 * 1024
POOL_MIN_BYTES = 1 << 20  # below about 10,000 rows, workers cost more than they save
GONE = (
    "the upload file is gone from the data folder and the database, so the job "
    "cannot go on; the rows it committed stay: import the file again (those rows are found "
    "unchanged)"
)


def save_upload(settings, stream, fmt: str, actor: str, uow) -> ImportJob:
    """Store the upload, check its header, and register the job (queued)."""
    job = ImportJob(
        format=fmt,
        actor=actor,
        status="queued",
        created_at=utcnow(),
        correlation_id=context.correlation_id.get(),
    )
    job.id = new_id()
    check = _check_header if fmt == "csv" else None
    folder = Path(settings.data_dir) / "imports"
    import_uploads.accept(uow, job, ImportUploadPart, stream, folder, check)
    return job


def _check_header(path: Path) -> None:
    problems = import_rows.header_problems(csv_header(path, FIELD_LIMIT))
    if problems:
        raise Invalid("the CSV header is not one this import reads", errors={"file": problems})


def start(uow, job_id: str, owner: str | None = None) -> threading.Thread:
    """Run the job in a thread of this process: a new upload's (``owner`` None), or
    one this process has taken over from a process that stopped (``owner``)."""
    return import_jobs.start_thread(_run_upload, (uow, job_id, owner), f"import-{job_id}")


def resume_stale(uow, now) -> list[str]:
    """Take up every job whose process stopped (no heartbeat for ``STALE``) that this
    process wins, each in a thread of its own; the ids taken. The ``resume-imports``
    periodic job (``services.customer.periodic``)."""
    return import_jobs.take_up(
        uow.db, ImportJob, ImportUploadPart, now, lambda job_id, owner: start(uow, job_id, owner)
    )


def _run_upload(uow, job_id: str, owner: str | None = None) -> None:
    """Run an uploaded job, then remove the upload once the job has ended: it holds
    everyone in it, and is kept no longer than its job needs it (PDPO). A run that
    stops without ending the job (its process stopping, the job taken over) leaves
    the file for the run that takes the job up."""
    ended = False
    try:
        ended = run(uow, job_id, owner=owner)
    finally:
        if ended:
            with uow.reader() as session:
                Path(session.get(ImportJob, job_id).path).unlink(missing_ok=True)


def run(
    uow,
    job_id: str,
    workers: int | None = None,
    chunk: int = CHUNK,
    piece: int = PIECE,
    owner: str | None = None,
) -> bool:
    """Process a job from its committed progress: a queued one, taken here, or one
    ``owner`` has taken over (``shared.import_jobs``); ``workers``: processes that
    check rows (0: none, None: one a core for a large file); ``chunk`` rows a
    transaction, ``piece`` a worker's task. True once the job has ended (done or
    failed), False if another process has it. Its events carry its upload's
    correlation id."""
    with import_jobs.correlated(uow, ImportJob, job_id):
        return _run(uow, job_id, workers, chunk, piece, owner)


def _run(uow, job_id: str, workers: int | None, chunk: int, piece: int, owner: str | None) -> bool:
    owner = import_jobs.claimed(uow, ImportJob, job_id, owner)
    if owner is None:
        return False
    with uow.reader() as session:
        job = session.get(ImportJob, job_id)
        fmt, path, actor = job.format, job.path, job.actor
        left, done = job.total_bytes - job.bytes_read, job.rows_read
    # Taken up in another pod, or after a restart, the run finds its upload in the database.
    if not import_uploads.restore(uow.db, ImportUploadPart, job_id, Path(path)):
        return _fail(uow, job_id, owner, GONE)
    if workers is None:
        workers = pipeline.default_workers() if left >= POOL_MIN_BYTES else 0
    setup = Setup(
        fmt,
        actor,
        uow.producer,
        uow.db.engine.url.drivername,
        correlation_id=context.correlation_id.get(),
        causation_id=context.causation_id.get(),
    )
    try:
        csv.field_size_limit(FIELD_LIMIT)
        with open(path, "rb", buffering=0) as raw:
            counter = import_files.Counting(raw)
            # The rows committed before are passed over: a job taken up goes on
            # with the first row no chunk of it has committed.
            rows = islice(import_files.records(fmt, counter), done, None)
            pieces = import_files.batches(rows, counter, piece)
            for batch, prepared, position in _transactions(
                pipeline.prepared(setup, pieces, workers), chunk
            ):
                import_jobs.check_stopping()
                _commit_chunk(uow, job_id, owner, setup, batch, prepared, position)
        _finish(uow, job_id, owner)
    except import_jobs.Taken:
        log.warning("import %s was taken over by another process; this run stops", job_id)
        return False
    except import_jobs.HandedBack:
        if import_jobs.hand_back(uow.db, ImportJob, job_id, owner):
            log.info("import %s handed back: this process is stopping", job_id)
        return False
    except Exception as exc:  # the job reports it; committed chunks stay
        log.exception("import %s failed", job_id)
        return _fail(uow, job_id, owner, str(exc)[:2000])
    return True


def _fail(uow, job_id: str, owner: str, error: str) -> bool:
    """Report the job failed, if it is still this run's."""
    try:
        with uow() as work:
            import_jobs.beat(work.session, ImportJob, job_id, owner)
            job = work.session.get(ImportJob, job_id)
            job.status, job.error, job.finished_at = "failed", error, utcnow()
            import_uploads.drop(work.session, ImportUploadPart, job_id)
    except import_jobs.Taken:
        return False
    return True


def _transactions(pieces: Iterator, size: int) -> Iterator[tuple[list, Prepared, int]]:
    """Prepared pieces joined into chunks of about ``size`` rows, one transaction each."""
    group: list = []
    for piece in pieces:
        group.append(piece)
        if sum(len(batch) for batch, _, _ in group) >= size:
            yield _joined(group)
            group = []
    if group:
        yield _joined(group)


def _joined(group: list) -> tuple[list, Prepared, int]:
    batch = [record for records, _, _ in group for record in records]
    rows = [row for _, prepared, _ in group for row in prepared.rows]
    return batch, Prepared(rows, group[0][1].statements), group[-1][2]


def _commit_chunk(
    uow, job_id: str, owner: str, setup: Setup, batch: list, prepared, position: int
) -> None:
    def write() -> None:
        with uow() as work:
            import_jobs.beat(work.session, ImportJob, job_id, owner)
            job = work.session.get(ImportJob, job_id)
            counts = chunk_writes.apply(work, setup, batch, prepared)
            for line, reasons in counts.pop("rejections"):
                work.add_row(
                    ImportRejection,
                    {"id": new_id(), "job_id": job_id, "line": line, "reasons": reasons},
                )
            job.rows_read += len(prepared.rows)
            for key, value in counts.items():
                setattr(job, key, getattr(job, key) + value)
            job.bytes_read = min(position, job.total_bytes)

    # A customer registered meanwhile with one of the chunk's external refs: written
    # again, that row updates it.
    import_jobs.racing_refs(write, job_id)


def _finish(uow, job_id: str, owner: str) -> None:
    with uow() as work:
        import_jobs.beat(work.session, ImportJob, job_id, owner)
        job = work.session.get(ImportJob, job_id)
        job.status, job.finished_at, job.bytes_read = "done", utcnow(), job.total_bytes
        import_uploads.drop(work.session, ImportUploadPart, job_id)


def get_job(uow, job_id: str) -> dict:
    with uow.reader() as session:
        job = session.get(ImportJob, job_id)
        if job is None:
            raise NotFound(f"no import job {job_id}")
        data = {c.key: getattr(job, c.key) for c in ImportJob.__table__.columns}
    data["progress"] = round(job.bytes_read / job.total_bytes, 4) if job.total_bytes else 0.0
    return data


def rejections(uow, job_id: str, limit: int, cursor: str | None) -> dict:
    after = decode_cursor(cursor, 2) or [0, ""]
    with uow.reader() as session:
        if session.get(ImportJob, job_id) is None:
            raise NotFound(f"no import job {job_id}")
        rows = list(
            session.scalars(
                select(ImportRejection)
                .where(
                    ImportRejection.job_id == job_id,
                    tuple_(ImportRejection.line, ImportRejection.id) > tuple(after),
                )
                .order_by(ImportRejection.line, ImportRejection.id)
                .limit(limit + 1)
            )
        )
    return page(rows, limit, lambda r: (r.line, r.id))
