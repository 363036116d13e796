"""PDPO's first direct-marketing contact, and the consumer's periodic missed-call sweep."""

import threading
from datetime import UTC, datetime, timedelta

from services.calls.calls.tables import Call
from tests.calls.helpers import calls_of, consent, create_plan, project, schedule
from tests.conftest import auth

REACHED = {"outcome": "reached", "satisfaction": 4, "propensity": 50, "duration_seconds": 60}


def test_the_first_marketing_conversation_must_record_the_opt_out_notice(app, client):
    project(app, "c1")
    consent(app, "c1", purpose="insurance")
    plan = create_plan(client, purpose="insurance", rrule="FREQ=DAILY;BYHOUR=10")
    schedule(client, plan["id"], days=3)
    first, second, third = [c["id"] for c in calls_of(client)]
    post = lambda call_id, body: client.post(  # noqa: E731
        f"/api/v1/calls/{call_id}/outcome", headers=auth(), json=body
    )
    r = post(first, REACHED)
    assert r.status_code == 422 and "opt_out_notice_given" in r.json["errors"]
    assert post(first, {"outcome": "no_answer"}).status_code == 201  # no conversation
    assert post(second, {**REACHED, "opt_out_notice_given": True}).status_code == 201
    assert post(third, REACHED).status_code == 201  # not the first any more


def test_service_calls_need_no_notice(app, client):
    project(app, "c1")
    schedule(client, create_plan(client)["id"], days=7)
    [call] = calls_of(client)
    r = client.post(f"/api/v1/calls/{call['id']}/outcome", headers=auth(), json=REACHED)
    assert r.status_code == 201


def test_the_relay_process_sweeps_missed_calls_periodically(app, client):
    from services.calls import config, periodic
    from services.calls.db import PeriodicJob
    from shared.periodic import Scheduler

    project(app, "c1")
    schedule(client, create_plan(client)["id"], days=7)
    [call] = calls_of(client)
    with app.extensions["rapport"].uow() as work:
        work.session.get(Call, call["id"]).window_end = datetime.now(UTC) - timedelta(hours=1)
    settings = config.load({"DATABASE_URL": app.extensions["rapport"].db.url, "DEV_MODE": "1"})
    db = app.extensions["rapport"].db
    scheduler = Scheduler(
        "calls", db, PeriodicJob, periodic.jobs(settings, db), settings, tick=0.05
    )
    stop = threading.Event()
    thread = threading.Thread(target=scheduler.run, args=(stop,), daemon=True)
    thread.start()
    try:
        from shared.testing import wait_for

        wait_for(lambda: calls_of(client, status="missed"), 10, message="the sweep")
    finally:
        stop.set()
        thread.join(5)
    assert [c["id"] for c in calls_of(client, status="missed")] == [call["id"]]
