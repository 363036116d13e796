"""The rolling schedule: every active plan keeps its calls planned its horizon ahead
(the calls job extend-schedules), and an edit, a pause or an end takes effect on the
calls ahead. The clock is the system's, moved through weeks with an offset file."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import REGISTRY

from services.calls.db import PeriodicJob
from services.calls.plans import rolling
from shared import clock
from shared.periodic import Scheduler
from tests.calls.helpers import (
    build_app,
    calls_of,
    create_plan,
    only_jobs,
    payloads,
    project,
)
from tests.conftest import auth

HKT = ZoneInfo("Asia/Hong_Kong")
MONDAYS = "FREQ=WEEKLY;BYDAY=MO;BYHOUR=10;BYMINUTE=0"


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


@pytest.fixture
def app(service_app, sqlite_url, moved_clock):
    return build_app(service_app, sqlite_url)


@pytest.fixture
def client(app):
    return app.test_client()


def extend(app) -> dict:
    return rolling.extend_schedules(app.extensions["rapport"].uow)


def mondays(start: datetime, days: int) -> list[datetime]:
    """Every Monday 10:00 in Hong Kong in (start, start + days], worked out by hand."""
    day = start.astimezone(HKT).replace(hour=10, minute=0, second=0, microsecond=0)
    found = []
    for step in range(-1, days + 2):
        when = day + timedelta(days=step)
        if when.weekday() == 0 and start < when <= start + timedelta(days=days):
            found.append(when)
    return found


def ahead(client, status="scheduled", **filters) -> list[dict]:
    now = clock.now()
    return [
        c
        for c in calls_of(client, **filters)
        if c["status"] == status
        and c["kind"] == "planned"
        and datetime.fromisoformat(c["due_at"]) > now
    ]


def slots(calls) -> set[tuple[str, datetime]]:
    return {(c["customer_id"], datetime.fromisoformat(c["due_at"])) for c in calls}


def expected(customers, days) -> set[tuple[str, datetime]]:
    return {(c, when) for c in customers for when in mondays(clock.now(), days)}


def patch(client, plan_id, **body):
    return client.patch(f"/api/v1/call-plans/{plan_id}", headers=auth(), json=body)


@pytest.fixture
def replicas_app(service_app, database_url, moved_clock):
    return build_app(service_app, database_url)


def test_over_ninety_days_each_customer_has_its_calls_a_horizon_ahead_and_never_twice(
    replicas_app, moved_clock
):
    app, client = replicas_app, replicas_app.test_client()
    project(app, "c1", "c2", "c3")
    plan = create_plan(client, rrule=MONDAYS, allow_holidays=True, horizon_days=14)
    ctx = app.extensions["rapport"]
    jobs = only_jobs(ctx.settings, ctx.db, "extend-schedules")
    replicas = [
        Scheduler("calls", ctx.db, PeriodicJob, jobs, ctx.settings, owner=f"relay-{i}")
        for i in range(2)
    ]
    replicas[0].register()
    runs = Counter()
    for _step in range(18):  # 90 days, five at a time
        threads = [threading.Thread(target=lambda r=r: runs.update(r.run_due())) for r in replicas]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        again = extend(app)  # a second pass at the same time plans nothing more
        assert again["created"] == 0 and again["plans"] == 1, again
        assert slots(ahead(client, plan_id=plan["id"])) == expected(["c1", "c2", "c3"], 14)
        moved_clock(timedelta(days=5))
    assert runs["extend-schedules"] == 18  # once a step, on one replica
    live = [c for c in calls_of(client) if c["status"] != "cancelled" and c["kind"] == "planned"]
    assert len(live) == len(slots(live))  # never two calls for one customer and time


def test_a_clock_moved_forward_plans_from_now_and_moved_back_plans_nothing_twice(
    app, client, moved_clock
):
    project(app, "c1")
    create_plan(client, rrule=MONDAYS, allow_holidays=True, horizon_days=14)
    extend(app)
    moved_clock(timedelta(days=60))
    start = clock.now()
    extend(app)
    planned = [c for c in calls_of(client) if c["kind"] == "planned"]
    # Nothing between the two passes was backfilled: that is the missed-calls job's.
    assert not [
        c
        for c in planned
        if start - timedelta(days=40) < datetime.fromisoformat(c["due_at"]) < start
    ]
    assert slots(ahead(client)) == expected(["c1"], 14)
    moved_clock(timedelta(days=-30))
    back = extend(app)
    assert back["created"] == len(mondays(clock.now(), 14))
    moved_clock(timedelta(days=30))
    assert extend(app)["created"] == 0
    assert len(planned := calls_of(client)) == len(slots(planned))


def test_pausing_cancels_the_calls_ahead_and_stops_extension_until_resumed(
    app, client, moved_clock
):
    project(app, "c1", "c2")
    plan = create_plan(client, rrule=MONDAYS, allow_holidays=True)
    extend(app)
    before = ahead(client)
    r = patch(client, plan["id"], status="paused")
    assert r.status_code == 200 and (r.json["status"], r.json["version"]) == ("paused", 2)
    assert ahead(client) == []
    cancelled = ahead(client, status="cancelled")
    assert {c["cancel_reason"] for c in cancelled} == {"plan_paused"}
    assert len(cancelled) == len(before)
    assert {p["call_id"] for p in payloads(app, "call.cancelled")} == {c["id"] for c in before}
    moved_clock(timedelta(days=10))
    assert extend(app)["created"] == 0 and ahead(client) == []
    assert (
        client.post(
            f"/api/v1/call-plans/{plan['id']}/schedule", headers=auth(), json={}
        ).status_code
        == 409
    )
    assert patch(client, plan["id"], status="active").json["status"] == "active"
    assert extend(app)["created"] == len(expected(["c1", "c2"], 30))
    assert slots(ahead(client)) == expected(["c1", "c2"], 30)
    assert {c["plan_version"] for c in ahead(client)} == {3}


def test_ending_a_plan_stops_its_calls_at_the_end_date_and_for_good(app, client, moved_clock):
    project(app, "c1")
    plan = create_plan(client, rrule=MONDAYS, allow_holidays=True, horizon_days=60)
    extend(app)
    end = clock.now() + timedelta(days=20)
    r = patch(client, plan["id"], ends_at=end.isoformat())
    assert r.status_code == 200
    assert max(datetime.fromisoformat(c["due_at"]) for c in ahead(client)) <= end
    assert {c["cancel_reason"] for c in ahead(client, status="cancelled")} == {"plan_ended"}
    moved_clock(timedelta(days=30))
    assert extend(app)["created"] == 0 and ahead(client) == []
    r = patch(client, plan["id"], status="ended", ends_at=None)
    assert r.status_code == 200 and r.json["status"] == "ended"
    assert extend(app)["plans"] == 0
    refused = patch(client, plan["id"], status="active")
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    assert client.get(f"/api/v1/call-plans/{plan['id']}", headers=auth()).json["status"] == "ended"


def test_ending_a_plan_now_cancels_every_call_ahead(app, client):
    project(app, "c1")
    plan = create_plan(client, rrule=MONDAYS, allow_holidays=True)
    extend(app)
    patch(client, plan["id"], status="ended")
    assert ahead(client) == []
    assert {c["cancel_reason"] for c in ahead(client, status="cancelled")} == {"plan_ended"}


def test_a_new_recurrence_cancels_the_calls_that_no_longer_fit_and_plans_the_new_ones(app, client):
    project(app, "c1")
    plan = create_plan(client, rrule=MONDAYS, allow_holidays=True, horizon_days=21)
    extend(app)
    mondays_ahead = slots(ahead(client))
    r = patch(client, plan["id"], rrule="FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=10;BYMINUTE=0")
    assert r.status_code == 200 and r.json["version"] == 2
    assert slots(ahead(client)) == mondays_ahead  # Mondays still fit: kept, at version 1
    extend(app)
    new = [c for c in ahead(client) if c["plan_version"] == 2]
    assert {datetime.fromisoformat(c["due_at"]).astimezone(HKT).weekday() for c in new} == {2}
    patch(client, plan["id"], rrule="FREQ=WEEKLY;BYDAY=WE;BYHOUR=10;BYMINUTE=0")
    cancelled = ahead(client, status="cancelled")
    assert slots(cancelled) == mondays_ahead
    assert {c["cancel_reason"] for c in cancelled} == {"plan_changed"}
    extend(app)
    assert {
        datetime.fromisoformat(c["due_at"]).astimezone(HKT).weekday() for c in ahead(client)
    } == {2}


def test_a_new_channel_or_checklist_replans_the_calls_ahead_in_their_slots(app, client):
    project(app, "c1")
    plan = create_plan(client, rrule=MONDAYS, allow_holidays=True)
    extend(app)
    before = slots(ahead(client))
    patch(client, plan["id"], channel="email")
    assert ahead(client) == []
    extend(app)
    assert slots(ahead(client)) == before
    assert {(c["channel"], c["plan_version"]) for c in ahead(client)} == {("email", 2)}
    patch(client, plan["id"], checklist=[{"id": "q", "question": "Q?", "answer_type": "text"}])
    extend(app)
    assert {c["plan_version"] for c in ahead(client)} == {3}
    assert patch(client, plan["id"], name="renamed").json["version"] == 4
    assert {c["plan_version"] for c in ahead(client)} == {3}  # a new name fits every call


def test_a_shorter_horizon_cancels_calls_beyond_it_and_a_longer_one_plans_further(app, client):
    project(app, "c1")
    plan = create_plan(client, rrule=MONDAYS, allow_holidays=True, horizon_days=60)
    extend(app)
    r = patch(client, plan["id"], horizon_days=10)
    assert r.status_code == 200 and r.json["horizon_days"] == 10
    assert slots(ahead(client)) == expected(["c1"], 10)
    patch(client, plan["id"], horizon_days=45)
    assert extend(app)["created"] == len(expected(["c1"], 45)) - len(expected(["c1"], 10))
    assert slots(ahead(client)) == expected(["c1"], 45)


def test_a_completed_or_assigned_call_ahead_is_not_rewritten(app, client):
    from services.calls.calls.tables import Call

    project(app, "c1")
    plan = create_plan(client, rrule=MONDAYS, allow_holidays=True, horizon_days=21)
    extend(app)
    first, second = sorted(ahead(client), key=lambda c: c["due_at"])[:2]
    with app.extensions["rapport"].uow() as work:
        work.session.get(Call, first["id"]).status = "completed"
    assert patch(client, plan["id"], channel="visit").status_code == 200
    calls = {c["id"]: c for c in calls_of(client)}
    assert (calls[first["id"]]["status"], calls[first["id"]]["channel"]) == ("completed", "phone")
    assert calls[second["id"]]["status"] == "cancelled"  # announced, never edited in place


def test_an_opt_out_and_the_frequency_cap_still_gate_the_extension(app, client):
    from tests.calls.helpers import deliver

    project(app, "c1", "c2")
    deliver(
        app,
        "customer.opted_out",
        customer_id="c2",
        channel=None,
        purpose=None,
        reason="do_not_call",
        opted_out_at=clock.now(),
    )
    client.put("/api/v1/contact-policy", headers=auth(), json={"max_calls": 1, "per_days": 10})
    create_plan(client, rrule=MONDAYS, allow_holidays=True, horizon_days=28)
    done = extend(app)
    assert {c["customer_id"] for c in ahead(client)} == {"c1"}
    assert done["no_consent"] == len(mondays(clock.now(), 28)) and done["capped"] > 0
    # Operators see the refusals of the last pass, by channel.
    assert (
        REGISTRY.get_sample_value(
            "rapport_calls_consent_refused_slots", {"service": "calls", "channel": "phone"}
        )
        == done["no_consent"]
    )
    whens = sorted(datetime.fromisoformat(c["due_at"]) for c in ahead(client))
    assert all(b - a > timedelta(days=10) for a, b in pairwise(whens))


def test_customers_who_join_by_event_are_planned_over_the_plans_horizon_not_paused_plans(
    app, client
):
    from tests.calls.helpers import register

    create_plan(client, rrule=MONDAYS, allow_holidays=True, horizon_days=60, segment="smb")
    paused = create_plan(client, rrule=MONDAYS, allow_holidays=True, segment="smb", status="paused")
    assert paused["status"] == "paused"
    register(app, "c9")
    assert slots(ahead(client)) == expected(["c9"], 60)
    assert ahead(client, plan_id=paused["id"]) == []


@pytest.mark.parametrize(
    "body, field",
    [
        ({"horizon_days": 0}, "horizon_days"),
        ({"horizon_days": 367}, "horizon_days"),
        ({"horizon_days": "30"}, "horizon_days"),
        ({"status": "sleeping"}, "status"),
    ],
)
def test_a_bad_horizon_or_status_is_a_422_and_changes_nothing(app, client, body, field):
    project(app, "c1")
    plan = create_plan(client, rrule=MONDAYS, allow_holidays=True)
    r = patch(client, plan["id"], **body)
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert field in r.json["errors"]
    now = client.get(f"/api/v1/call-plans/{plan['id']}", headers=auth()).json
    assert (now["version"], now["horizon_days"], now["status"]) == (1, 30, "active")
    r = client.post(
        "/api/v1/call-plans",
        headers=auth(),
        json={"name": "P", "segment": "smb", "channel": "phone", "rrule": MONDAYS, **body},
    )
    assert r.status_code == 422 and field in r.json["errors"]
    assert len(client.get("/api/v1/call-plans", headers=auth()).json["items"]) == 1


def test_a_horizon_giving_more_calls_than_a_run_plans_is_refused(app, client):
    dense = "FREQ=DAILY;BYHOUR=9,10,11,12,13,14,15,16;BYMINUTE=0,30"
    plan = create_plan(client, rrule=dense, allow_holidays=True, horizon_days=30)
    r = patch(client, plan["id"], horizon_days=90)
    assert r.status_code == 422 and "horizon_days" in r.json["errors"]
    assert client.get(f"/api/v1/call-plans/{plan['id']}", headers=auth()).json["version"] == 1


def test_an_edit_whose_check_of_the_calls_ahead_was_cut_short_is_finished_by_the_next_pass(
    app, client
):
    from services.calls.plans import plans

    project(app, "c1")
    plan = create_plan(client, rrule=MONDAYS, allow_holidays=True)
    extend(app)
    before = slots(ahead(client))
    # The edit committed, then its process died before it checked the calls ahead.
    plans.edit_plan(app.extensions["rapport"].uow, plan["id"], {"channel": "email"})
    assert {c["channel"] for c in ahead(client)} == {"phone"}
    done = extend(app)
    assert done["cancelled"] == len(before) and done["created"] == len(before)
    assert {(c["channel"], c["plan_version"]) for c in ahead(client)} == {("email", 2)}
    assert extend(app)["cancelled"] == 0


def test_a_pause_of_a_large_plan_cancels_a_bounded_part_at_once_and_the_pass_the_rest(
    app, client, monkeypatch
):
    monkeypatch.setattr(rolling, "BATCH", 3)
    monkeypatch.setattr(rolling, "REQUEST_BATCHES", 2)
    project(app, *[f"c{i}" for i in range(5)])
    plan = create_plan(client, rrule=MONDAYS, allow_holidays=True)
    extend(app)
    total = len(ahead(client))
    assert total > 6
    assert patch(client, plan["id"], status="paused").status_code == 200
    assert len(ahead(client, status="cancelled")) == 6
    assert extend(app)["cancelled"] == total - 6
    assert ahead(client) == [] and len(ahead(client, status="cancelled")) == total
