"""An import's upload kept in the service's database until its job ends (the
customer and sales imports alike), so that any process of the service can take the
job up.

The upload is saved to the data folder of the process that took it, and the job
runs from that file. A process that takes a stopped job up (``shared.import_jobs``)
runs in another pod, whose data folder is its own (an ``emptyDir``), or in the same
pod restarted with an empty one: the file is not there. So the upload is also
stored in the database, in parts of ``PART`` bytes, in the transaction that
registers its job (``register``): a job is never accepted without its upload. A run
that finds no file at the job's path writes it back from those parts (``restore``)
and goes on as if it had been there. The parts are deleted in the transaction that
ends the job, done or failed (``drop``): the upload holds everyone in it, and is
kept no longer than its job (PDPO).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from sqlalchemy import Integer, LargeBinary, delete, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared.errors import Invalid
from shared.web import idempotency

PART = 1 << 20  # bytes a row: a large upload is written and read back a part at a time


class UploadPartMixin:
    """A part of a job's upload, kept until the job ends so that any process of the
    service can take the job up. A service's table adds its name and ``job_id``, the
    key of its jobs, first in the primary key."""

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


def accept(uow, job, parts, stream, folder: Path, check=None) -> None:
    """Take an upload for ``job`` (its id and format set): saved from ``stream`` under
    ``folder``, refused if it is empty or ``check(path)`` refuses it (a CSV's
    header, say), made known to the request's Idempotency-Key (which answers with
    the first upload's job instead, for a retry), then ``job`` registered with it,
    its path and size set. A refused upload leaves no file, job or parts."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{job.id}.{job.format}"
    size, digest = receive(stream, path)
    try:
        if size == 0:
            raise Invalid("the upload is empty", errors={"file": ["Empty file."]})
        if check is not None:
            check(path)
        idempotency.received(f"{job.format}:{digest}")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    job.path, job.total_bytes = str(path), size
    register(uow, job, parts, path)


def receive(stream, path: Path) -> tuple[int, str]:
    """Write the upload read from ``stream`` to ``path``, a part at a time: its size
    in bytes and its SHA-256 (hex), by which a retry with the same Idempotency-Key
    is told from another upload (``shared.web.idempotency.received``). A read that
    fails midway (the client gone) leaves no file."""
    digest, size = hashlib.sha256(), 0
    try:
        with path.open("wb") as out:
            while data := stream.read(PART):
                out.write(data)
                digest.update(data)
                size += len(data)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return size, digest.hexdigest()


def register(uow, job, parts, path: Path) -> None:
    """Register ``job`` (its row added) with its upload at ``path`` kept, in one
    transaction: a job is accepted with its upload or not at all (the file removed)."""
    try:
        with uow() as work:
            work.session.add(job)
            work.session.flush()
            keep(work.session, parts, job.id, path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def keep(session: Session, parts, job_id: str, path: Path) -> int:
    """Store the upload at ``path`` as ``parts`` rows of the job (a model with
    ``job_id``, ``seq`` and ``data``), in the caller's transaction; the parts
    written. The job's row must be flushed before (the parts refer to it)."""
    statement = insert(parts)
    seq = 0
    with path.open("rb") as upload:
        while data := upload.read(PART):
            session.execute(statement, {"job_id": job_id, "seq": seq, "data": data})
            seq += 1
    return seq


def restore(db, parts, job_id: str, path: Path) -> bool:
    """Make sure the upload is at ``path``: there already, or written back from its
    stored parts (to a file beside it, then renamed, so a run that stops midway
    leaves no partial upload at ``path``). False if it is not there and the
    database has no parts of it (a job registered before they were kept, or ended)."""
    if path.exists():
        return True
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.restoring")
    found = False
    with db.reader() as session, partial.open("wb") as out:
        for data in session.scalars(
            select(parts.data)
            .where(parts.job_id == job_id)
            .order_by(parts.seq)
            .execution_options(yield_per=1)
        ):
            out.write(data)
            found = True
        out.flush()
        os.fsync(out.fileno())
    if not found:
        partial.unlink()
        return False
    partial.replace(path)
    return True


def drop(session: Session, parts, job_id: str) -> None:
    """Delete the job's stored upload, in the transaction that ends the job."""
    session.execute(delete(parts).where(parts.job_id == job_id))
