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

import os
from pathlib import Path

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

PART = 1 << 20  # bytes a row: a large upload is written and read back a part at a time


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
