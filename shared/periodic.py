"""Periodic work inside the system's own processes, once across replicas.

A service lists its ``Job``s (a name, how often, and one pass of the work at a
given time). A ``Scheduler`` thread in the service's relay process looks at the
``periodic_jobs`` table every ``tick`` and runs each job that is due. Running takes
a lease first, with one conditional UPDATE (due, not paused, no live lease):
whichever replica's UPDATE changes the row runs the job, every other one finds it
taken, on SQLite and PostgreSQL alike. A pass that dies with its process leaves a
lease that expires after ``Job.lease``, and the next replica then runs the job.
Every pass of a job must be idempotent (a pass after a lease expired may repeat
one that was still running), which is what each job's own rules make it.

Operators see and set the schedule (``GET``/``PATCH /api/v1/periodic-jobs``:
interval, paused, run now), and see it in Prometheus
(``rapport_periodic_job_runs_total``, ``…_last_success_timestamp_seconds``,
``…_duration_seconds``). Due times follow the system's clock (``shared.clock``):
a clock moved forward makes every job due at once, and each runs once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import Boolean, CursorResult, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column

from shared import clock
from shared.db import Database
from shared.types import UTCDateTime

log = logging.getLogger(__name__)

RUNS = Counter(
    "rapport_periodic_job_runs_total",
    "Passes of periodic jobs, by outcome",
    ["service", "job", "status"],
)
# A timestamp: across processes (multiprocess mode) the latest is the one that counts,
# and it outlives the process that set it, as a single process's gauge would.
LAST_SUCCESS = Gauge(
    "rapport_periodic_job_last_success_timestamp_seconds",
    "When a periodic job last finished a pass without error (system clock)",
    ["service", "job"],
    multiprocess_mode="max",
)
DURATION = Histogram(
    "rapport_periodic_job_duration_seconds", "How long a pass took", ["service", "job"]
)


@dataclass(frozen=True)
class Job:
    """``run(now)`` does one pass of the work as of ``now`` and may return what it
    did (logged); ``every`` is the default interval, which an operator can change
    (``<SERVICE>_JOB_<NAME>_SECONDS``, or the API) without a release."""

    name: str
    run: Callable[[datetime], object]
    every: timedelta
    lease: timedelta = timedelta(minutes=10)
    # Jobs made due at once when a pass of this one succeeds: the work this one
    # makes for them is then done within a tick, whichever replica takes it.
    then: tuple[str, ...] = ()


class PeriodicJobMixin:
    __tablename__ = "periodic_jobs"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    every_seconds: Mapped[int] = mapped_column(Integer)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(120), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_status: Mapped[str | None] = mapped_column(String(20), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)


def configured_every(settings, job: Job) -> timedelta:
    """The job's interval from ``<SERVICE>_JOB_<NAME>_SECONDS``, else its default."""
    raw = settings.get(f"JOB_{job.name.upper().replace('-', '_')}_SECONDS")
    if raw is None:
        return job.every
    seconds = float(raw)
    if not seconds > 0:
        raise ValueError(f"JOB_{job.name.upper()}_SECONDS must be positive, not {raw!r}")
    return timedelta(seconds=seconds)


class Scheduler:
    """Runs a service's due jobs, each pass on one replica only."""

    def __init__(
        self,
        service: str,
        db: Database,
        model,
        jobs: Iterable[Job],
        settings=None,
        tick: float = 1.0,
        owner: str | None = None,
    ):
        self.service, self.db, self.model = service, db, model
        self.jobs = {job.name: job for job in jobs}
        self.order = {name: index for index, name in enumerate(self.jobs)}  # as listed
        self.every = {
            name: (configured_every(settings, job) if settings is not None else job.every)
            for name, job in self.jobs.items()
        }
        self.tick = tick
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.ready = True

    def register(self) -> None:
        """Insert a row for each job not yet known (due at once); a known job keeps the
        interval and pause an operator set, unless the environment sets one."""
        now = clock.now()
        with self.db.transaction() as session:
            known = {row.name: row for row in session.scalars(select(self.model))}
            for name, every in self.every.items():
                if name not in known:
                    session.add(
                        self.model(
                            name=name,
                            every_seconds=int(every.total_seconds()),
                            paused=False,
                            next_run_at=now,
                            runs=0,
                            failures=0,
                        )
                    )
                elif every != self.jobs[name].every:  # the environment's word is the latest
                    known[name].every_seconds = int(every.total_seconds())

    def run(self, stop: threading.Event) -> None:
        self._register_until_done(stop)
        while not stop.is_set():
            try:
                self.run_due()
            except Exception:
                log.exception("%s: looking for due periodic jobs failed", self.service)
            stop.wait(self.tick)

    def _register_until_done(self, stop: threading.Event) -> None:
        delay = 0.5
        while not stop.is_set():
            try:
                self.register()
                return
            except Exception:
                log.exception("%s: registering periodic jobs failed; retrying", self.service)
                stop.wait(delay)
                delay = min(delay * 2, 30.0)

    def run_due(self) -> list[str]:
        """Run every job due now that this replica wins; the names of those run."""
        ran = []
        for name, next_run_at in self._due(clock.now()):
            if self._claim(name, next_run_at):
                self._run(name)
                ran.append(name)
        return ran

    def _due(self, now: datetime) -> list[tuple[str, datetime]]:
        """Jobs due at ``now``: their time has come, or lies further ahead than two
        intervals, which only a clock moved back can do (the job would stall). (One
        interval ahead is what a pass that finished after ``now`` was read leaves.)
        They come in the order the service lists its jobs, so a job that makes work
        for another runs first in a tick where both are due: the calls that
        extend-schedules plans are assigned by assign-calls in the same tick, not a
        pass later."""
        with self.db.reader() as session:
            rows = session.execute(
                select(self.model.name, self.model.next_run_at, self.model.every_seconds).where(
                    self.model.paused.is_(False), self.model.name.in_(list(self.jobs))
                )
            ).all()
        return sorted(
            (
                (name, at)
                for name, at, every in rows
                if at <= now or at - now > timedelta(seconds=2 * every)
            ),
            key=lambda due: self.order[due[0]],
        )

    def _claim(self, name: str, next_run_at: datetime) -> bool:
        """The lease, if no other replica has taken this pass: the row still shows
        the due time read, and holds no lease that is still running."""
        now, model = clock.now(), self.model
        with self.db.transaction() as session:
            won = cast(
                "CursorResult[Any]",
                session.execute(
                    update(model)
                    .where(
                        model.name == name,
                        model.paused.is_(False),
                        model.next_run_at == next_run_at,
                        # A lease ending further ahead than twice a fresh one: the clock moved
                        # back. (Just ahead of ours is a replica that read the clock after us.)
                        model.lease_until.is_(None)
                        | (model.lease_until < now)
                        | (model.lease_until > now + 2 * self.jobs[name].lease),
                    )
                    .values(
                        lease_owner=self.owner,
                        lease_until=now + self.jobs[name].lease,
                        last_started_at=now,
                    )
                ),
            ).rowcount
        return won == 1

    def _run(self, name: str) -> None:
        job, started = self.jobs[name], time.perf_counter()
        status, error = "ok", None
        try:
            result = job.run(clock.now())
            log.info("%s: periodic job %s done: %s", self.service, name, result)
        except Exception as exc:
            status, error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
            log.exception("%s: periodic job %s failed", self.service, name)
        DURATION.labels(self.service, name).observe(time.perf_counter() - started)
        RUNS.labels(self.service, name, status).inc()
        self._release(name, status, error)

    def _release(self, name: str, status: str, error: str | None) -> None:
        now, model = clock.now(), self.model
        with self.db.transaction() as session:
            row = session.get(model, name)
            if row is None or row.lease_owner != self.owner:
                return  # the lease ran out and another replica took the job meanwhile
            row.lease_owner = row.lease_until = None
            row.last_finished_at, row.last_status, row.last_error = now, status, error
            row.runs += 1
            row.failures += status != "ok"
            if status == "ok":
                # An interval from the pass's start: a pass that was still running when
                # the clock moved (or that took longer than its interval) is due again
                # at once, rather than a whole interval after it finished.
                planned = (row.last_started_at or now) + timedelta(seconds=row.every_seconds)
                # A pass asked for while this one ran (another job's ``then``, or an
                # operator's "run now") stands: this pass may have read too early.
                asked = row.last_started_at is not None and row.next_run_at > row.last_started_at
                row.next_run_at = min(planned, row.next_run_at) if asked else planned
                if self.jobs[name].then:
                    # Due now; one that is running meanwhile runs again when it is done
                    # (its pass may have read before this one's work was committed).
                    # One that is due already and idle is left as it is.
                    session.execute(
                        update(model)
                        .where(
                            model.name.in_(self.jobs[name].then),
                            (model.next_run_at > now) | model.lease_owner.is_not(None),
                        )
                        .values(next_run_at=now)
                    )
            else:
                # Retry a failed pass sooner than a full interval, but not at once.
                row.next_run_at = now + timedelta(seconds=min(row.every_seconds, 60))
        if status == "ok":
            LAST_SUCCESS.labels(self.service, name).set(now.timestamp())
