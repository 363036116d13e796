"""Bulk import of customers from CSV or JSON Lines, streamed.

The upload is saved to the data folder and processed by a job in the background,
1,000 rows a transaction; the job row carries its progress in the same
transaction as the rows, so what it reports is what is committed. A row that
fails validation is rejected with its line number and reasons while the others go
in. A row with an ``external_ref`` already on file updates that customer (an
idempotent upsert: importing the same file twice changes nothing); a new row whose
phone or e-mail belongs to a customer on file is rejected as a likely duplicate.
"""
from __future__ import annotations

import csv
import io
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select, tuple_

from services.customer import rows as import_rows
from services.customer.models import new_id
from services.customer.models_ops import ImportJob, ImportRejection
from shared.errors import Invalid, NotFound
from shared.messaging.tables import utcnow
from shared.web.pagination import decode_cursor, page

log = logging.getLogger(__name__)
CHUNK = 1000
FIELD_LIMIT = 64 * 1024


class _Counting(io.RawIOBase):
    """A binary file that counts the bytes read through it (for progress)."""

    def __init__(self, raw):
        self.raw, self.count = raw, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        n = self.raw.readinto(buffer)
        self.count += n or 0
        return n


def save_upload(settings, stream, fmt: str, actor: str, uow) -> ImportJob:
    """Store the upload, check its header, and register the job (queued)."""
    folder = Path(settings.data_dir) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    job = ImportJob(format=fmt, actor=actor, status="queued", created_at=utcnow())
    job.id = new_id()
    path = folder / f"{job.id}.{fmt}"
    size = 0
    with path.open("wb") as out:
        while chunk := stream.read(1 << 20):
            out.write(chunk)
            size += len(chunk)
    if size == 0:
        path.unlink()
        raise Invalid("the upload is empty", errors={"file": ["Empty file."]})
    if fmt == "csv":
        _check_header(path)
    job.path, job.total_bytes = str(path), size
    with uow() as work:
        work.session.add(job)
    return job


def _check_header(path: Path) -> None:
    with path.open("rb") as fh:
        first = fh.readline(FIELD_LIMIT)
    try:
        header = next(csv.reader([first.decode("utf-8-sig")]))
    except (UnicodeDecodeError, StopIteration, csv.Error) as exc:
        path.unlink()
        raise Invalid("the CSV header cannot be read (it must be UTF-8)",
                      errors={"file": [str(exc) or "No header line."]}) from exc
    problems = import_rows.header_problems(header)
    if problems:
        path.unlink()
        raise Invalid("the CSV header is not one this import reads", errors={"file": problems})


def start(uow, job_id: str) -> threading.Thread:
    thread = threading.Thread(target=run, args=(uow, job_id), name=f"import-{job_id}",
                              daemon=True)
    thread.start()
    return thread


def _records(job: ImportJob, counter: _Counting) -> Iterator[tuple[int, dict | None, str | None]]:
    """(line number, record or None, why it could not be read) for each row."""
    text = io.TextIOWrapper(io.BufferedReader(counter), encoding="utf-8-sig",
                            errors="replace", newline="")
    if job.format == "jsonl":
        for number, line in enumerate(text, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                yield number, None, f"not valid JSON: {exc}"
                continue
            yield (number, record, None) if isinstance(record, dict) \
                else (number, None, "each line must be a JSON object")
        return
    lines = _Numbered(text)
    reader = csv.DictReader(lines)
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield lines.count, None, f"malformed CSV: {exc}"
            continue
        yield lines.count, record, None


class _Numbered:
    """The lines of a file, counted as the CSV reader takes them: the count is the
    physical line a record (or an error) ended on."""

    def __init__(self, lines):
        self.lines, self.count = lines, 0

    def __iter__(self):
        return self

    def __next__(self):
        line = next(self.lines)
        self.count += 1
        return line


def run(uow, job_id: str) -> None:
    with uow() as work:
        job = work.session.get(ImportJob, job_id)
        job.status, job.heartbeat_at = "running", utcnow()
    try:
        csv.field_size_limit(FIELD_LIMIT)
        with open(job.path, "rb", buffering=0) as raw:
            counter = _Counting(raw)
            batch: list = []
            for record in _records(job, counter):
                batch.append(record)
                if len(batch) >= CHUNK:
                    _commit_chunk(uow, job_id, batch, counter.count)
                    batch = []
            _commit_chunk(uow, job_id, batch, counter.count, last=True)
    except Exception as exc:  # the job reports it; committed chunks stay
        log.exception("import %s failed", job_id)
        with uow() as work:
            job = work.session.get(ImportJob, job_id)
            job.status, job.error, job.finished_at = "failed", str(exc)[:2000], utcnow()


def _commit_chunk(uow, job_id: str, batch: list, position: int, last: bool = False) -> None:
    with uow() as work:
        job = work.session.get(ImportJob, job_id)
        counts = import_rows.apply(work, batch, job.actor, job.format)
        for line, reasons in counts.pop("rejections"):
            work.add_row(ImportRejection, {"id": new_id(),
                                           "job_id": job_id, "line": line, "reasons": reasons})
        job.rows_read += len(batch)
        for key, value in counts.items():
            setattr(job, key, getattr(job, key) + value)
        job.bytes_read, job.heartbeat_at = min(position, job.total_bytes), utcnow()
        if last:
            job.status, job.finished_at, job.bytes_read = "done", utcnow(), job.total_bytes


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
        rows = list(session.scalars(
            select(ImportRejection).where(ImportRejection.job_id == job_id,
                                          tuple_(ImportRejection.line, ImportRejection.id)
                                          > tuple(after))
            .order_by(ImportRejection.line, ImportRejection.id).limit(limit + 1)))
    return page(rows, limit, lambda r: (r.line, r.id))
