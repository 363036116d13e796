"""Missed calls marked and re-planned; coverage compliance per customer."""

from datetime import UTC, datetime, timedelta

from services.calls.calls import missed
from services.calls.calls.tables import Call
from tests.calls.helpers import calls_of, counts, create_plan, payloads, project, schedule
from tests.conftest import auth

REACHED = {"outcome": "reached", "satisfaction": 4, "propensity": 70, "duration_seconds": 60}


def age(app, call_id, days):
    """Move a call (and its window) into the past."""
    with app.extensions["rapport"].uow() as work:
        call = work.session.get(Call, call_id)
        call.due_at -= timedelta(days=days)
        call.window_end -= timedelta(days=days)


def test_a_call_past_its_window_is_missed_and_replanned(app, client):
    project(app, "c1")
    plan = create_plan(client, rrule="FREQ=WEEKLY;BYDAY=MO;BYHOUR=10")
    schedule(client, plan["id"], days=7)
    [call] = calls_of(client)
    age(app, call["id"], 10)
    r = client.post("/api/v1/calls/missed", headers=auth())
    assert r.status_code == 200 and r.json == {"missed": 1, "replanned": 1}
    calls = {c["id"]: c for c in calls_of(client)}
    assert calls[call["id"]]["status"] == "missed"
    [again] = [c for c in calls.values() if c["id"] != call["id"]]
    assert (again["kind"], again["attempt"], again["source_call_id"]) == ("replan", 1, call["id"])
    assert again["status"] == "scheduled"
    [event] = payloads(app, "call.missed")
    assert (event["call_id"], event["replanned_call_id"]) == (call["id"], again["id"])
    assert client.post("/api/v1/calls/missed", headers=auth()).json == {"missed": 0, "replanned": 0}
    assert client.post("/api/v1/calls/missed", headers=auth("agent")).status_code == 403


def test_replanning_is_bounded(app, client):
    project(app, "c1")
    plan = create_plan(client, rrule="FREQ=WEEKLY;BYDAY=MO;BYHOUR=10")
    schedule(client, plan["id"], days=7)
    uow = app.extensions["rapport"].uow
    for round_ in range(missed.MAX_REPLANS + 2):
        for c in calls_of(client, status="scheduled"):
            age(app, c["id"], 30 * (round_ + 1))
        missed.sweep_missed(uow)
    assert len(calls_of(client, status="missed")) == missed.MAX_REPLANS + 1
    assert calls_of(client, status="scheduled") == []


def test_a_completed_call_is_never_missed(app, client):
    project(app, "c1")
    schedule(client, create_plan(client)["id"], days=7)
    [call] = calls_of(client)
    client.post(f"/api/v1/calls/{call['id']}/outcome", headers=auth("agent"), json=REACHED)
    age(app, call["id"], 10)
    before = counts(app)
    assert missed.sweep_missed(app.extensions["rapport"].uow) == {"missed": 0, "replanned": 0}
    assert counts(app) == before


def test_coverage_compares_the_last_qualifying_contact_with_the_tightest_plan(app, client):
    project(app, "fresh", "stale", "late")
    project(app, "untargeted", segment="other")
    create_plan(client, rrule="FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=10")
    weekly = create_plan(
        client, customer_ids=["stale", "late"], segment=None, rrule="FREQ=WEEKLY;BYDAY=MO;BYHOUR=10"
    )
    schedule(client, weekly["id"], days=7)
    [stale_call] = calls_of(client, customer_id="stale")
    [late_call] = calls_of(client, customer_id="late")
    age(app, late_call["id"], 10)
    long_ago = datetime.now(UTC) - timedelta(days=20)
    client.post(
        f"/api/v1/calls/{stale_call['id']}/outcome",
        headers=auth("agent"),
        json={**REACHED, "completed_at": long_ago.isoformat()},
    )
    rows = {
        r["customer_id"]: r
        for r in client.get("/api/v1/coverage", headers=auth("analyst")).json["items"]
    }
    assert set(rows) == {"fresh", "stale", "late"}
    # contacted: due the policy's days after the contact
    assert rows["stale"]["required_days"] == 7 and not rows["stale"]["compliant"]
    assert 19.9 < rows["stale"]["days_since_contact"] < 20.1
    assert datetime.fromisoformat(rows["stale"]["due_by"]) == long_ago + timedelta(days=7)
    # never contacted: due when its first planned call was
    late_due = datetime.fromisoformat(late_call["due_at"]) - timedelta(days=10)
    assert datetime.fromisoformat(rows["late"]["due_by"]) == late_due
    assert rows["late"]["last_contact_at"] is None and not rows["late"]["compliant"]
    # never contacted, nothing planned yet: nothing due
    assert rows["fresh"]["required_days"] in (28, 29, 30, 31)
    assert rows["fresh"]["due_by"] is None and rows["fresh"]["compliant"]
    overdue = client.get(
        "/api/v1/coverage", headers=auth(), query_string={"overdue": "true", "limit": 1}
    ).json
    assert len(overdue["items"]) == 1 and overdue["next_cursor"]
    nxt = client.get(
        "/api/v1/coverage",
        headers=auth(),
        query_string={"overdue": "true", "cursor": overdue["next_cursor"]},
    ).json
    assert {r["customer_id"] for r in overdue["items"] + nxt["items"]} == {"stale", "late"}


def test_a_recent_contact_is_compliant(app, client):
    project(app, "c1")
    plan = create_plan(client, rrule="FREQ=WEEKLY;BYDAY=MO;BYHOUR=10")
    schedule(client, plan["id"], days=7)
    [call] = calls_of(client)
    client.post(f"/api/v1/calls/{call['id']}/outcome", headers=auth("agent"), json=REACHED)
    [row] = client.get("/api/v1/coverage", headers=auth(), query_string={"customer_id": "c1"}).json[
        "items"
    ]
    assert row["compliant"] and row["days_since_contact"] < 0.1
    busy = create_plan(client, customer_ids=["c1"], rrule="FREQ=DAILY;BYHOUR=9")
    assert busy
    [row] = client.get("/api/v1/coverage", headers=auth(), query_string={"customer_id": "c1"}).json[
        "items"
    ]
    assert row["required_days"] == 1
