"""Projection, planning, scheduling and outcomes end to end on SQLite and PostgreSQL,
including two schedulers or two agents racing on the same rows."""

import json
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from services.calls import config
from services.calls.calls.tables import Call
from services.calls.db import Inbox, Outbox
from services.calls.handlers import subscriptions
from services.calls.plans import scheduling
from shared.entrypoints import build_dispatcher
from shared.events import make_event
from tests.calls.helpers import build_app, calls_of, counts, create_plan, outbox, schedule
from tests.conftest import auth

REACHED = {"outcome": "reached", "satisfaction": 5, "propensity": 90, "duration_seconds": 600}


@pytest.fixture
def app(service_app, database_url):
    app = build_app(service_app, database_url)
    yield app
    app.extensions["rapport"].db.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def register(app, *ids, segment="smb"):
    ctx = app.extensions["rapport"]
    settings = config.load({"DATABASE_URL": ctx.db.url, "DEV_MODE": "1"})
    dispatcher = build_dispatcher(settings, ctx.db, Outbox, Inbox, subscriptions(settings))
    for customer_id in ids:
        dispatcher.dispatch(
            make_event(
                "customer.registered",
                {
                    "customer_id": customer_id,
                    "name": customer_id,
                    "segment": segment,
                    "registered_at": datetime.now(UTC),
                },
                producer="customer",
            )
        )


def together(*actions):
    """Run the actions at the same time; return their results in order."""
    results = [None] * len(actions)
    start = threading.Barrier(len(actions))

    def run(i):
        start.wait()
        results[i] = actions[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_customers_from_events_are_scheduled_once_and_called(app, client):
    register(app, "c1", "c2", "c3")
    register(app, "e1", segment="enterprise")
    plan = create_plan(client)
    assert schedule(client, plan["id"]).json == {
        "created": 12,
        "existing": 0,
        "no_consent": 0,
        "capped": 0,
    }
    assert schedule(client, plan["id"]).json == {
        "created": 0,
        "existing": 12,
        "no_consent": 0,
        "capped": 0,
    }
    assert counts(app) == (1, 12, 12)
    call = calls_of(client, customer_id="c2")[0]
    assert call["due_at"].endswith("T02:00:00+00:00")
    r = client.post(f"/api/v1/calls/{call['id']}/outcome", headers=auth("agent"), json=REACHED)
    assert r.status_code == 201
    again = client.post(f"/api/v1/calls/{call['id']}/outcome", headers=auth("agent"), json=REACHED)
    assert again.status_code == 200
    other = client.post(
        f"/api/v1/calls/{call['id']}/outcome", headers=auth("agent"), json={"outcome": "busy"}
    )
    assert other.status_code == 409
    [event] = outbox(app, "call.completed")
    payload = json.loads(event.body)["payload"]
    assert (payload["segment"], payload["satisfaction"], payload["customer_id"]) == ("smb", 5, "c2")
    assert calls_of(client, status="completed") == [r.json]


def test_racing_schedulers_create_each_call_once(app, client, monkeypatch):
    monkeypatch.setattr(scheduling, "ROWS_PER_TRANSACTION", 8)
    register(app, *[f"c{i:02d}" for i in range(20)])
    plan = create_plan(client)
    uow = app.extensions["rapport"].uow
    results = together(*[lambda: scheduling.schedule_plan(uow, plan["id"], 28)] * 2)
    assert sum(r["created"] for r in results) == 80
    assert all(r["created"] + r["existing"] == 80 for r in results)
    assert counts(app) == (1, 80, 80)
    with app.extensions["rapport"].db.reader() as s:
        keys = s.scalar(
            select(func.count()).select_from(
                select(Call.customer_id, Call.due_at).distinct().subquery()
            )
        )
    assert keys == 80


def test_racing_outcomes_record_one(app, client):
    register(app, "c1")
    plan = create_plan(client)
    schedule(client, plan["id"])
    call_id = calls_of(client)[0]["id"]

    def post(body):
        return lambda: (
            app.test_client()
            .post(f"/api/v1/calls/{call_id}/outcome", headers=auth("agent"), json=body)
            .status_code
        )

    statuses = together(post(REACHED), post({"outcome": "no_answer"}))
    assert sorted(statuses) == [201, 409]
    assert len(outbox(app, "call.completed")) == 1
