"""Continuous assignment on several replicas at once, on SQLite and on PostgreSQL: two
relays' schedulers and passes run outside any lease race for the same calls, and
still each call is assigned once, announced once, and no agent passes its capacity
(calls are taken FOR UPDATE SKIP LOCKED, agents FOR UPDATE in one order)."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from services.calls import config
from services.calls.calls.tables import Call
from services.calls.db import PeriodicJob
from services.calls.people import continuous_assignment as continuous
from services.calls.people.tables import Assignment
from shared import clock
from shared.periodic import Scheduler
from tests.calls.helpers import (
    add_agent,
    build_app,
    create_plan,
    only_jobs,
    payloads,
    project,
    schedule,
)

pytestmark = pytest.mark.integration
DAILY = "FREQ=DAILY;BYHOUR=10;BYMINUTE=0"
CUSTOMERS = 40


@pytest.fixture
def app(service_app, database_url):
    app = build_app(service_app, database_url)
    yield app
    app.extensions["rapport"].db.dispose()


def test_two_replicas_and_stray_passes_never_assign_a_call_twice(app):
    client, ctx = app.test_client(), app.extensions["rapport"]
    project(app, *[f"c{i:02d}" for i in range(CUSTOMERS)])
    schedule(client, create_plan(client, rrule=DAILY)["id"], days=3)
    for name in ("ann", "ben", "cat", "dan"):  # room for exactly one day's calls each
        add_agent(client, name, daily_capacity=CUSTOMERS // 4)
    settings = config.load({"DATABASE_URL": ctx.db.url, "DEV_MODE": "1"})
    replicas = [
        Scheduler(
            "calls",
            ctx.db,
            PeriodicJob,
            only_jobs(settings, ctx.db, "assign-calls"),
            settings=settings,
            owner=f"relay-{i}",
        )
        for i in range(2)
    ]
    for replica in replicas:
        replica.register()
    start = threading.Barrier(5)
    errors = []

    def race(work):
        start.wait()
        try:
            work()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    works = [r.run_due for r in replicas] + [lambda: continuous.run_pass(ctx.uow, clock.now())] * 3
    threads = [threading.Thread(target=race, args=(w,)) for w in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with ctx.db.reader() as session:
        due = session.scalar(
            select(func.count())
            .select_from(Call)
            .where(Call.due_at <= clock.now() + timedelta(hours=72))
        )
        decided = Counter(session.scalars(select(Assignment.call_id)))
        held = Counter(
            (agent, due_at.date())
            for agent, due_at in session.execute(
                select(Call.agent_id, Call.due_at).where(Call.agent_id.is_not(None))
            )
        )
        runs = session.get(PeriodicJob, "assign-calls").runs
    assert due >= CUSTOMERS and len(decided) == due
    assert set(decided.values()) == {1}
    assert len(payloads(app, "call.assigned")) == due
    assert max(held.values()) <= CUSTOMERS // 4
    assert runs == 1  # the two schedulers: one pass between them
