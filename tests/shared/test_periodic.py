"""Periodic work: each pass once across replicas, on the system's clock, set by an operator."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import DeclarativeBase

from shared import clock
from shared.db import Database
from shared.periodic import Job, PeriodicJobMixin, Scheduler


class Base(DeclarativeBase):
    pass


class PeriodicJob(PeriodicJobMixin, Base):
    pass


@pytest.fixture
def db(database_url):
    engine = create_engine(database_url)
    Base.metadata.create_all(engine)
    engine.dispose()
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def moved_clock(tmp_path):
    path = tmp_path / "offset"
    clock.use_offset_file(path)
    offset = [timedelta(0)]

    def move(by: timedelta) -> None:
        offset[0] += by
        clock.set_offset(path, offset[0])

    yield move
    clock.use_offset_file(None)


class Passes:
    """A job's passes, counted; optionally slow, to let replicas race."""

    def __init__(self, fail: bool = False):
        self.times, self.fail, self.lock = [], fail, threading.Lock()

    def __call__(self, now):
        with self.lock:
            self.times.append(now)
        if self.fail:
            raise RuntimeError("the work failed")
        return len(self.times)


def test_jobs_due_in_one_tick_run_in_the_order_listed(db, moved_clock):
    """A job that makes work for another (extend-schedules for assign-calls) runs
    first in a tick where both are due, whichever came due first."""
    order = []
    jobs = [
        Job(name, lambda now, name=name: order.append(name), timedelta(minutes=every))
        for name, every in (("plan", 15), ("sweep", 1), ("assign", 1))
    ]
    scheduler = Scheduler("test", db, PeriodicJob, jobs)
    scheduler.register()
    assert scheduler.run_due() == ["plan", "sweep", "assign"]
    moved_clock(timedelta(minutes=2))  # the two every minute come due before "plan"
    assert scheduler.run_due() == ["sweep", "assign"]
    moved_clock(timedelta(minutes=14))  # all three due again, the minute jobs longest
    assert scheduler.run_due() == ["plan", "sweep", "assign"]
    assert order == ["plan", "sweep", "assign", "sweep", "assign", "plan", "sweep", "assign"]


def test_a_pass_makes_the_jobs_it_feeds_due_at_once(db, moved_clock):
    """extend-schedules plans calls, then assign-calls must not wait its interval for
    them: on whichever replica, it runs in the next tick."""
    runs = []
    plan = Job("plan", lambda now: runs.append("plan"), timedelta(minutes=15), then=("assign",))
    assign = Job("assign", lambda now: runs.append("assign"), timedelta(hours=1))
    replicas = [Scheduler("test", db, PeriodicJob, [plan, assign], owner=f"r{i}") for i in (1, 2)]
    replicas[0].register()
    assert replicas[0].run_due() == ["plan", "assign"]
    moved_clock(timedelta(minutes=15, seconds=1))  # plan due again; assign not for an hour
    assert replicas[0].run_due() == ["plan"]
    assert replicas[1].run_due() == ["assign"]  # the next tick, on the other replica
    assert replicas[0].run_due() == replicas[1].run_due() == []
    assert runs == ["plan", "assign", "plan", "assign"]


def test_a_job_fed_while_it_runs_runs_again_after(db, moved_clock):
    """assign-calls running on one replica while extend-schedules finishes on another
    may have read before the new calls were there: it runs again when it is done."""
    runs = []
    plan = Job("plan", lambda now: runs.append("plan"), timedelta(minutes=15), then=("assign",))
    first = Scheduler("test", db, PeriodicJob, [plan, Job("assign", print, timedelta(hours=1))])

    def assign(now):
        runs.append("assign")
        if len(runs) == 1:
            assert first.run_due() == ["plan"]  # on the other replica, meanwhile

    second = Scheduler("test", db, PeriodicJob, [Job("assign", assign, timedelta(hours=1))])
    second.register()
    first.register()
    assert second.run_due() == ["assign"]
    assert second.run_due() == ["assign"]
    assert second.run_due() == first.run_due() == []
    assert runs == ["assign", "plan", "assign"]


def test_a_pass_asked_for_while_one_runs_is_not_lost(db, moved_clock):
    """An operator's "run now" (or another job's ``then``) while a pass is running
    gets a pass of its own: the running one may have read before what it asked for."""
    runs = []

    def work(now):
        runs.append(now)
        if len(runs) == 1:
            with db.transaction() as session:
                session.get(PeriodicJob, "assign").next_run_at = clock.now()

    scheduler = Scheduler("test", db, PeriodicJob, [Job("assign", work, timedelta(hours=1))])
    scheduler.register()
    assert scheduler.run_due() == ["assign"]
    moved_clock(timedelta(seconds=1))
    assert scheduler.run_due() == ["assign"]  # the pass asked for meanwhile
    moved_clock(timedelta(seconds=1))
    assert scheduler.run_due() == []  # then its interval again
    assert len(runs) == 2


def test_each_pass_runs_on_one_replica_only(db, moved_clock):
    passes = Passes()
    job = Job("count", passes, timedelta(hours=1))
    replicas = [Scheduler("test", db, PeriodicJob, [job], owner=f"r{i}") for i in range(3)]
    replicas[0].register()
    replicas[1].register()  # a second replica starting changes nothing
    for _hour in range(6):
        threads = [threading.Thread(target=r.run_due) for r in replicas for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        moved_clock(timedelta(hours=1, seconds=1))
    assert len(passes.times) == 6
    with db.reader() as session:
        row = session.get(PeriodicJob, "count")
        assert (row.runs, row.failures, row.last_status, row.lease_owner) == (6, 0, "ok", None)


def test_a_clock_moved_forward_runs_a_job_once_and_back_does_not_stall_it(db, moved_clock):
    passes = Passes()
    scheduler = Scheduler("test", db, PeriodicJob, [Job("daily", passes, timedelta(days=1))])
    scheduler.register()
    assert scheduler.run_due() == ["daily"]
    assert scheduler.run_due() == []
    moved_clock(timedelta(days=30))  # a month later: due, and run once, not thirty times
    assert scheduler.run_due() == ["daily"]
    assert scheduler.run_due() == []
    moved_clock(-timedelta(days=30))  # back: the next pass lies 31 days ahead, too far
    assert scheduler.run_due() == ["daily"]
    assert scheduler.run_due() == []
    assert len(passes.times) == 3


def test_a_pass_running_when_the_clock_moves_forward_is_due_again_at_once(db, moved_clock):
    """The next pass is an interval from the last one's start: one that began before
    the clock moved (or ran longer than its interval) does not push the next a whole
    interval past its end."""
    starts = []

    def slow(now):
        starts.append(now)
        if len(starts) == 1:
            moved_clock(timedelta(days=7))  # the week turns while the pass runs

    scheduler = Scheduler("test", db, PeriodicJob, [Job("weekly-ish", slow, timedelta(hours=1))])
    scheduler.register()
    assert scheduler.run_due() == ["weekly-ish"]
    assert scheduler.run_due() == ["weekly-ish"]  # due at once, on the new time
    assert starts[1] - starts[0] >= timedelta(days=7)
    assert scheduler.run_due() == []


def test_a_failed_pass_is_recorded_and_tried_again_within_a_minute(db, moved_clock):
    scheduler = Scheduler(
        "test", db, PeriodicJob, [Job("flaky", Passes(fail=True), timedelta(hours=6))]
    )
    scheduler.register()
    assert scheduler.run_due() == ["flaky"]
    with db.reader() as session:
        row = session.get(PeriodicJob, "flaky")
        assert (row.last_status, row.failures, row.runs) == ("failed", 1, 1)
        assert "RuntimeError: the work failed" in row.last_error
        assert row.next_run_at - row.last_finished_at == timedelta(seconds=60)
    moved_clock(timedelta(seconds=61))
    assert scheduler.run_due() == ["flaky"]


def test_a_lease_left_by_a_dead_replica_expires_and_another_takes_the_job(db, moved_clock):
    passes = Passes()
    job = Job("work", passes, timedelta(hours=1), lease=timedelta(minutes=5))
    dead, alive = (Scheduler("test", db, PeriodicJob, [job], owner=o) for o in ("dead", "alive"))
    dead.register()
    [(name, due)] = dead._due(clock.now())
    assert dead._claim(name, due)
    assert alive.run_due() == []
    moved_clock(timedelta(minutes=6))
    assert alive.run_due() == ["work"]
    with db.reader() as session:
        assert session.scalar(select(PeriodicJob.lease_owner)) is None


def test_the_environment_sets_a_jobs_interval(db):
    settings = {"JOB_MISSED_CALLS_SECONDS": "15"}

    class Settings:
        def get(self, key, default=None):
            return settings.get(key, default)

    job = Job("missed-calls", Passes(), timedelta(minutes=1))
    Scheduler("test", db, PeriodicJob, [job], Settings()).register()
    with db.reader() as session:
        assert session.get(PeriodicJob, "missed-calls").every_seconds == 15
    settings["JOB_MISSED_CALLS_SECONDS"] = "0"
    with pytest.raises(ValueError, match="must be positive"):
        Scheduler("test", db, PeriodicJob, [job], Settings())
