"""Who runs an import job (the customer and sales imports alike), so that a job
whose process stopped is taken up again by another, and only by one.

A job row names its runner (``owner``, a token of one run: host, process and a
random part) and carries a heartbeat with every chunk it commits. Taking a job is
one conditional UPDATE, checked by its row count, on SQLite and PostgreSQL alike:
a new job is taken while it is still ``queued`` with no runner (``take_new``); a
job whose heartbeat is older than ``STALE`` is taken from the runner read with it
(``take_stale``), so of two processes that both found it stale, one changes the
row and the other finds it taken. Every chunk's transaction first renews the
heartbeat on the condition that the job is still its run's (``beat``): a run that
lost its job (it took longer than ``STALE`` over one chunk, and another process
took the job over) has its chunk rolled back and stops (``Taken``), so no row is
written twice. On PostgreSQL that UPDATE also holds the job's row until the chunk
commits, and a process taking the job over meanwhile waits for it and then finds
the heartbeat fresh.

A job taken over ``MAX_TAKEOVERS`` times whose process stopped once more is not
taken again but failed (``GAVE_UP``), its upload removed: something in it stops
every process that runs it (say, memory on one chunk), and taking it up forever
would stop the relay that runs it every ten minutes.

A process that stops gracefully (a deploy's SIGTERM) hands its running jobs back
instead of leaving them to go stale (``stop_all``): each stops after the chunk it is
writing and is put back in the queue with a heartbeat old enough to be taken at
once, by the next ``resume-imports`` run of any process (within a minute, not
``STALE``). A job handed back, like one that never started, does not count as a
takeover: only a process that stopped while running it does.

A job keeps the correlation id of the upload request that made it (``correlated``):
its events carry that id whichever process runs it, the upload's or one that took
the job up after it stopped.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared import context, import_uploads
from shared.clock import utcnow

log = logging.getLogger(__name__)
# A running job's heartbeat is at most a chunk old; one older was left by a process
# that stopped (or is stuck on one chunk for this long, and loses the job).
STALE = timedelta(minutes=10)
UNFINISHED = ("queued", "running")
MAX_TAKEOVERS = 3
GAVE_UP = (
    "the job's process stopped while running it {times} times, so it is not taken up "
    "again; the rows it committed stay: import the file again for the rest (those rows "
    "are found unchanged)"
)


@contextmanager
def correlated(uow, model, job_id: str) -> Iterator[None]:
    """Run a job's work under the correlation id its upload request stored with it
    (none stored: the caller's own)."""
    with uow.reader() as session:
        stored = session.scalar(select(model.correlation_id).where(model.id == job_id))
    token = context.correlation_id.set(stored) if stored else None
    try:
        yield
    finally:
        if token is not None:
            context.correlation_id.reset(token)


RACE_ATTEMPTS = 3


def racing_refs(write: Callable[[], None], job_id: str) -> None:
    """Run ``write`` (one chunk's transaction) again when the unique constraint on
    an external reference refuses it: a record with one of the chunk's references
    was written meanwhile by another transaction (PostgreSQL, where they run side by
    side; SQLite's writers take turns and a chunk reads inside its own). Written
    again, the chunk finds it on file. Past ``RACE_ATTEMPTS`` the error stands."""
    for attempt in range(1, RACE_ATTEMPTS + 1):
        try:
            write()
            return
        except IntegrityError:
            if attempt == RACE_ATTEMPTS:
                raise
            log.info("import %s: a chunk met a reference written meanwhile", job_id)


class Taken(Exception):
    """Another process has taken the job over: this run stops, its chunk undone."""


class HandedBack(Exception):
    """This process is stopping: the run stops before its next chunk and hands the
    job back (``hand_back``)."""


_stopping = threading.Event()  # set once, when the process stops
_running: set[threading.Thread] = set()
_running_lock = threading.Lock()


def start_thread(target: Callable, args: tuple, name: str) -> threading.Thread:
    """Run a job in a thread of this process that ``stop_all`` waits for."""

    def run() -> None:
        try:
            target(*args)
        finally:
            with _running_lock:
                _running.discard(thread)

    thread = threading.Thread(target=run, name=name, daemon=True)
    with _running_lock:
        _running.add(thread)
    thread.start()
    return thread


def check_stopping() -> None:
    """Raise ``HandedBack`` if this process is stopping (a run asks between chunks)."""
    if _stopping.is_set():
        raise HandedBack


def stop_all(timeout: float) -> int:
    """Ask every job running here to stop after its chunk and hand its job back, and
    wait for them up to ``timeout`` seconds in all; how many had not ended by then
    (their jobs go stale and are taken up as a stopped process's are)."""
    _stopping.set()
    with _running_lock:
        threads = list(_running)
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return sum(thread.is_alive() for thread in threads)


def hand_back(db, model, job_id: str, owner: str) -> bool:
    """Put the job back in the queue, to be taken at once by the next process that
    looks (its heartbeat made ``STALE`` old), if it is still ``owner``'s."""
    with db.transaction() as session:
        return _changed(
            session,
            update(model)
            .where(model.id == job_id, model.owner == owner, model.status == "running")
            .values(owner=None, status="queued", heartbeat_at=utcnow() - STALE),
        )


def new_owner() -> str:
    """A token for one run of a job."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _changed(session: Session, statement) -> bool:
    return cast("CursorResult[Any]", session.execute(statement)).rowcount == 1


def take_new(session: Session, model, job_id: str, owner: str) -> bool:
    """The job, for ``owner``, if it is still queued with no runner."""
    return _changed(
        session,
        update(model)
        .where(model.id == job_id, model.status == "queued", model.owner.is_(None))
        .values(owner=owner, status="running", heartbeat_at=utcnow()),
    )


def _stale(model, now: datetime):
    cutoff = now - STALE
    return and_(
        model.status.in_(UNFINISHED),
        or_(
            model.heartbeat_at < cutoff,
            and_(model.heartbeat_at.is_(None), model.created_at < cutoff),
        ),
    )


def stale_jobs(session: Session, model, now: datetime) -> list[tuple[str, str | None, int]]:
    """(id, runner, takeovers) of every unfinished job whose heartbeat is older than
    ``STALE``, oldest first."""
    return [
        (job_id, owner, takeovers)
        for job_id, owner, takeovers in session.execute(
            select(model.id, model.owner, model.takeovers)
            .where(_stale(model, now))
            .order_by(model.created_at)
        )
    ]


def _still_stale(model, job_id: str, old_owner: str | None, now: datetime) -> tuple:
    was = model.owner.is_(None) if old_owner is None else model.owner == old_owner
    return model.id == job_id, was, _stale(model, now)


def claimed(uow, model, job_id: str, owner: str | None) -> str | None:
    """The run's token: ``owner`` when this run was handed a job taken over, else a
    new one if the job was still queued and is now this run's; None if another
    process has it."""
    if owner is not None:
        return owner
    owner = new_owner()
    with uow() as work:
        return owner if take_new(work.session, model, job_id, owner) else None


def take_stale(
    session: Session, model, job_id: str, old_owner: str | None, owner: str, now: datetime
) -> bool:
    """The job, for ``owner``, if it is still stale and still ``old_owner``'s."""
    return _changed(
        session,
        update(model)
        .where(*_still_stale(model, job_id, old_owner, now))
        .values(
            owner=owner,
            status="running",
            heartbeat_at=utcnow(),
            # A job handed back, or never started, has no runner: no process stopped in it.
            takeovers=model.takeovers + (0 if old_owner is None else 1),
        ),
    )


def give_up(session: Session, model, job_id: str, old_owner: str | None, now: datetime) -> bool:
    """Fail the job (``GAVE_UP``) if it is still stale and still ``old_owner``'s."""
    return _changed(
        session,
        update(model)
        .where(*_still_stale(model, job_id, old_owner, now))
        .values(
            status="failed",
            error=GAVE_UP.format(times=MAX_TAKEOVERS + 1),
            finished_at=utcnow(),
        ),
    )


def beat(session: Session, model, job_id: str, owner: str) -> None:
    """Renew the heartbeat in the chunk's transaction, or raise ``Taken`` if the job
    is no longer this run's (the transaction then rolls back)."""
    if not _changed(
        session,
        update(model)
        .where(model.id == job_id, model.owner == owner, model.status == "running")
        .values(heartbeat_at=utcnow()),
    ):
        raise Taken(f"import job {job_id} is no longer run by {owner}")


def take_up(db, model, parts, now: datetime, resume) -> list[str]:
    """Take every stale job that this process wins, and hand each to
    ``resume(job_id, owner)``; the ids taken. ``parts``: the model of the jobs'
    stored uploads (``shared.import_uploads``)."""
    with db.reader() as session:
        found = stale_jobs(session, model, now)
    taken = []
    for job_id, old_owner, takeovers in found:
        if takeovers >= MAX_TAKEOVERS and old_owner is not None:
            with db.transaction() as session:
                if give_up(session, model, job_id, old_owner, now):
                    # The upload holds everyone in it: kept no longer than its job (PDPO).
                    import_uploads.drop(session, parts, job_id)
                    Path(session.get(model, job_id).path).unlink(missing_ok=True)
            continue
        owner = new_owner()
        with db.transaction() as session:
            won = take_stale(session, model, job_id, old_owner, owner, now)
        if won:
            resume(job_id, owner)
            taken.append(job_id)
    return taken
