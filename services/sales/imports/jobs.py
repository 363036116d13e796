"""Bulk import of sales with their lines from CSV or JSON Lines, streamed.

Shaped as the customer import is: the upload is saved to the data folder, a job
row registered, and the job run by a thread of the API process that took the
upload. It reads the file a sale at a time and writes ``CHUNK`` sales a
transaction; the job row carries its progress in the same transaction as the
sales, so what it reports is what is committed. A sale that fails any check is
rejected whole (nothing of it written), each line at fault reported with its
line number and field messages, while the others go in.

Every sale is recorded exactly as ``POST /transactions`` records one
(``services.build_entry``: the same checks, catalogue prices, ledger rows, P&L
bookings and ``sale.recorded`` event), only many to a statement. A sale whose
``external_ref`` is on file is skipped: importing the same file twice records
nothing the second time.

If that process stops (a deploy, a crash), the job is taken up again by another
process of the service: the relay's ``resume-imports`` periodic job finds it
without a heartbeat for ``STALE`` (ten minutes), takes it (once across replicas:
``shared.import_jobs``) and goes on from the first sale no chunk has committed,
so the job ends as it would have: no sale recorded twice or missed, each
rejection reported once, the counts those of one run. The upload stays in the
data folder, and in the database, until its job ends: a process whose data folder
lacks it (another pod's) writes it back from there (``shared.import_uploads``). If
it is in neither, the job is reported failed.
"""

from __future__ import annotations

import contextvars
import csv
import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select, tuple_

from services.sales.db import new_id
from services.sales.imports import rows as import_rows
from services.sales.imports import writes as import_writes
from services.sales.imports.tables import (
    SaleImportJob,
    SaleImportRejection,
    SaleImportUploadPart,
)
from shared import context, import_jobs, import_uploads
from shared.clock import utcnow
from shared.errors import Invalid, NotFound
from shared.import_files import Counting, csv_header, records
from shared.web.pagination import decode_cursor, page

log = logging.getLogger(__name__)
# Sales a transaction (about 20,000 lines of an invoice export): each commit also
# publishes the totals of every day its sales fall on.
CHUNK = 5000
FIELD_LIMIT = 64 * 1024
GONE = (
    "the upload file is gone from the data folder and the database, so the job "
    "cannot go on; the sales it recorded stay: import the file again (those sales "
    "are skipped)"
)
FIRST_REJECTIONS = 100


@dataclass(frozen=True)
class Setup:
    fmt: str
    actor: str
    zone: ZoneInfo


def save_upload(settings, stream, fmt: str, actor: str, uow) -> SaleImportJob:
    """Store the upload, check its header, and register the job (queued)."""
    job = SaleImportJob(
        format=fmt,
        actor=actor,
        status="queued",
        created_at=utcnow(),
        total_bytes=0,
        bytes_read=0,
        rows_read=0,
        sales_read=0,
        created=0,
        lines_created=0,
        skipped=0,
        rejected=0,
        correlation_id=context.correlation_id.get(),
    )
    job.id = new_id()
    check = _check_header if fmt == "csv" else None
    folder = Path(settings.data_dir) / "sale-imports"
    import_uploads.accept(uow, job, SaleImportUploadPart, stream, folder, check)
    return job


def _check_header(path: Path) -> None:
    header = csv_header(path, FIELD_LIMIT)
    problems = import_rows.header_problems([c.strip() for c in header])
    if problems:
        raise Invalid("the CSV header is not one this import reads", errors={"file": problems})


def start(uow, job_id: str, zone: ZoneInfo, owner: str | None = None) -> threading.Thread:
    """Run the job in a thread of this process, in the caller's context (an upload's
    events carry the request's correlation id): a new upload's (``owner`` None), or
    one this process has taken over from a process that stopped (``owner``)."""
    caller = contextvars.copy_context()
    return import_jobs.start_thread(
        caller.run, (_run_upload, uow, job_id, zone, owner), f"sale-import-{job_id}"
    )


def resume_stale(uow, zone: ZoneInfo, now: datetime) -> list[str]:
    """Take up every job whose process stopped (no heartbeat for ``STALE``) that this
    process wins, each in a thread of its own; the ids taken. The ``resume-imports``
    periodic job (``services.sales.periodic``)."""
    return import_jobs.take_up(
        uow.db,
        SaleImportJob,
        SaleImportUploadPart,
        now,
        lambda job_id, owner: start(uow, job_id, zone, owner),
    )


def _run_upload(uow, job_id: str, zone: ZoneInfo, owner: str | None = None) -> None:
    """Run an uploaded job, then remove the upload once the job has ended: it is kept
    no longer than its job needs it. A run that stops without ending the job (its
    process stopping, the job taken over) leaves the file for the run that takes the
    job up."""
    ended = False
    try:
        ended = run(uow, job_id, zone, owner=owner)
    finally:
        if ended:
            with uow.reader() as session:
                Path(session.get(SaleImportJob, job_id).path).unlink(missing_ok=True)


def run(uow, job_id: str, zone: ZoneInfo, chunk: int = CHUNK, owner: str | None = None) -> bool:
    """Process a job from its committed progress, ``chunk`` sales a transaction: a
    queued one, taken here, or one ``owner`` has taken over (``shared.import_jobs``).
    True once the job has ended (done or failed), False if another process has it.
    Its events carry its upload's correlation id."""
    with import_jobs.correlated(uow, SaleImportJob, job_id):
        return _run(uow, job_id, zone, chunk, owner)


def _run(uow, job_id: str, zone: ZoneInfo, chunk: int, owner: str | None) -> bool:
    owner = import_jobs.claimed(uow, SaleImportJob, job_id, owner)
    if owner is None:
        return False
    with uow.reader() as session:
        job = session.get(SaleImportJob, job_id)
        setup, path, done = Setup(job.format, job.actor, zone), job.path, job.rows_read
    # Taken up in another pod, or after a restart, the run finds its upload in the database.
    if not import_uploads.restore(uow.db, SaleImportUploadPart, job_id, Path(path)):
        return _fail(uow, job_id, owner, GONE)
    try:
        csv.field_size_limit(FIELD_LIMIT)
        with open(path, "rb", buffering=0) as raw:
            counter = Counting(raw)
            # The lines committed before are passed over (``rows_read`` counts every
            # line of the sales committed): a job taken up goes on with the first
            # sale no chunk of it has committed.
            lines = islice(records(setup.fmt, counter), done, None)
            batch: list = []
            for group in import_rows.groups(setup.fmt, lines):
                batch.append(import_rows.load(group, setup.fmt))
                if len(batch) >= chunk:
                    import_jobs.check_stopping()
                    _commit_chunk(uow, job_id, owner, setup, batch, counter.count)
                    batch = []
            if batch:
                import_jobs.check_stopping()
                _commit_chunk(uow, job_id, owner, setup, batch, counter.count)
        with uow() as work:
            import_jobs.beat(work.session, SaleImportJob, job_id, owner)
            job = work.session.get(SaleImportJob, job_id)
            job.status, job.finished_at, job.bytes_read = "done", utcnow(), job.total_bytes
            import_uploads.drop(work.session, SaleImportUploadPart, job_id)
    except import_jobs.Taken:
        log.warning("sale import %s was taken over by another process; this run stops", job_id)
        return False
    except import_jobs.HandedBack:
        if import_jobs.hand_back(uow.db, SaleImportJob, job_id, owner):
            log.info("sale import %s handed back: this process is stopping", job_id)
        return False
    except Exception as exc:  # the job reports it; committed chunks stay
        log.exception("sale import %s failed", job_id)
        return _fail(uow, job_id, owner, str(exc)[:2000])
    return True


def _fail(uow, job_id: str, owner: str, error: str) -> bool:
    """Report the job failed, if it is still this run's."""
    try:
        with uow() as work:
            import_jobs.beat(work.session, SaleImportJob, job_id, owner)
            job = work.session.get(SaleImportJob, job_id)
            job.status, job.error, job.finished_at = "failed", error, utcnow()
            import_uploads.drop(work.session, SaleImportUploadPart, job_id)
    except import_jobs.Taken:
        return False
    return True


def _commit_chunk(uow, job_id: str, owner: str, setup: Setup, batch: list, position: int) -> None:
    def write() -> None:
        with uow() as work:
            import_jobs.beat(work.session, SaleImportJob, job_id, owner)
            counts = import_writes.apply(work, setup, batch)
            for line, ref, reasons in counts.pop("rejections"):
                work.add_row(
                    SaleImportRejection,
                    {
                        "id": new_id(),
                        "job_id": job_id,
                        "line": line,
                        "external_ref": ref,
                        "reasons": reasons,
                    },
                )
            job = work.session.get(SaleImportJob, job_id)
            for key, value in counts.items():
                setattr(job, key, getattr(job, key) + value)
            job.bytes_read = min(position, job.total_bytes)

    # A sale with one of the chunk's references recorded meanwhile: written again,
    # that sale is found on file and skipped.
    import_jobs.racing_refs(write, job_id)


def get_job(uow, job_id: str) -> dict:
    data = _job(uow, job_id)
    data["progress"] = (
        round(data["bytes_read"] / data["total_bytes"], 4) if data["total_bytes"] else 0.0
    )
    return data


def _job(uow, job_id: str) -> dict:
    with uow.reader() as session:
        job = session.get(SaleImportJob, job_id)
        if job is None:
            raise NotFound(f"no sale import job {job_id}")
        data = {
            c.key: getattr(job, c.key)
            for c in SaleImportJob.__table__.columns
            if c.key not in ("path", "actor", "owner")
        }
        data["rejections"] = list(
            session.scalars(
                select(SaleImportRejection)
                .where(SaleImportRejection.job_id == job_id)
                .order_by(SaleImportRejection.line, SaleImportRejection.id)
                .limit(FIRST_REJECTIONS)
            )
        )
    return data


def rejections(uow, job_id: str, limit: int, cursor: str | None) -> dict:
    after = decode_cursor(cursor, 2) or [0, ""]
    with uow.reader() as session:
        if session.get(SaleImportJob, job_id) is None:
            raise NotFound(f"no sale import job {job_id}")
        rows = list(
            session.scalars(
                select(SaleImportRejection)
                .where(
                    SaleImportRejection.job_id == job_id,
                    tuple_(SaleImportRejection.line, SaleImportRejection.id) > tuple(after),
                )
                .order_by(SaleImportRejection.line, SaleImportRejection.id)
                .limit(limit + 1)
            )
        )
    return page(rows, limit, lambda r: (r.line, r.id))
