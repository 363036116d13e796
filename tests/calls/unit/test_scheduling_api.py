"""Scheduling through the API: the right calls, once, for the right customers."""

import json
from datetime import datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from services.calls.plans import scheduling
from tests.calls.helpers import calls_of, counts, create_plan, outbox, project, schedule
from tests.conftest import auth

HKT = ZoneInfo("Asia/Hong_Kong")


def due_times(calls) -> list:
    return sorted(datetime.fromisoformat(c["due_at"]) for c in calls)


def test_weekly_monday_ten_hkt_gives_four_calls_per_customer_at_two_utc(app, client):
    project(app, "c1", "c2")
    project(app, "other", segment="enterprise")
    plan = create_plan(client)
    r = schedule(client, plan["id"], days=28)
    assert r.status_code == 200 and r.json == {
        "created": 8,
        "existing": 0,
        "no_consent": 0,
        "capped": 0,
    }
    for customer in ("c1", "c2"):
        due = due_times(calls_of(client, customer_id=customer))
        assert len(due) == 4
        assert all(
            (d.weekday(), d.hour, d.minute, d.utcoffset()) == (0, 2, 0, timedelta(0)) for d in due
        )
        assert [b - a for a, b in pairwise(due)] == [timedelta(days=7)] * 3
    assert calls_of(client, customer_id="other") == []


def test_month_end_rule_gives_the_last_day_of_each_month(app, client):
    project(app, "c1")
    plan = create_plan(client, rrule="FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9;BYMINUTE=0")
    schedule(client, plan["id"], days=366)
    local = [d.astimezone(HKT) for d in due_times(calls_of(client))]
    assert len(local) in (12, 13)
    assert all((d + timedelta(days=1)).day == 1 and d.hour == 9 for d in local)
    assert len({(d.year, d.month) for d in local}) == len(local)


def test_scheduling_twice_creates_nothing_the_second_time(app, client):
    project(app, "c1", "c2", "c3")
    plan = create_plan(client)
    first = schedule(client, plan["id"]).json
    before = counts(app)
    second = schedule(client, plan["id"]).json
    assert first["created"] == 12 and second == {
        "created": 0,
        "existing": 12,
        "no_consent": 0,
        "capped": 0,
    }
    assert counts(app) == before == (1, 12, 12)


def test_a_new_customer_gets_only_its_own_calls_on_regeneration(app, client):
    project(app, "c1")
    plan = create_plan(client)
    schedule(client, plan["id"])
    project(app, "c2")
    assert schedule(client, plan["id"]).json == {
        "created": 4,
        "existing": 4,
        "no_consent": 0,
        "capped": 0,
    }
    assert len(calls_of(client, customer_id="c2")) == 4


def test_archived_customers_are_not_called(app, client):
    project(app, "c1")
    project(app, "gone", status="archived")
    plan = create_plan(client)
    assert schedule(client, plan["id"]).json["created"] == 4
    assert calls_of(client, customer_id="gone") == []


def test_each_new_call_is_announced_with_its_plan_and_segment(app, client):
    project(app, "c1")
    plan = create_plan(client, channel="visit", priority=1)
    schedule(client, plan["id"])
    calls = {c["id"]: c for c in calls_of(client)}
    events = [json.loads(row.body) for row in outbox(app, "call.scheduled")]
    assert {e["payload"]["call_id"] for e in events} == set(calls)
    payload = events[0]["payload"]
    call = calls[payload["call_id"]]
    assert payload == {
        "call_id": call["id"],
        "plan_id": plan["id"],
        "customer_id": "c1",
        "channel": "visit",
        "due_at": call["due_at"],
        "segment": "smb",
        "plan_version": 1,
        "purpose": "service",
        "priority": 1,
        "window_end": call["window_end"],
        "max_gap_days": 7,
    }
    assert (call["status"], call["priority"], call["channel"]) == ("scheduled", 1, "visit")
    assert (events[0]["event_type"], events[0]["producer"]) == ("call.scheduled", "calls")


def test_small_transactions_give_the_same_calls(app, client, monkeypatch):
    monkeypatch.setattr(scheduling, "ROWS_PER_TRANSACTION", 5)
    project(app, *[f"c{i}" for i in range(0, 14, 2)])
    plan = create_plan(client)
    assert schedule(client, plan["id"]).json == {
        "created": 28,
        "existing": 0,
        "no_consent": 0,
        "capped": 0,
    }
    project(app, "c3", "c7")  # between customers already scheduled
    assert schedule(client, plan["id"]).json == {
        "created": 8,
        "existing": 28,
        "no_consent": 0,
        "capped": 0,
    }
    assert counts(app) == (1, 36, 36)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"horizon_days": 0}, "horizon_days"),
        ({"horizon_days": 367}, "horizon_days"),
        ({"horizon_days": "30"}, "horizon_days"),
        ({"horizon_days": 30, "force": True}, "force"),
    ],
)
def test_invalid_horizon_is_422_and_writes_nothing(app, client, body, field):
    project(app, "c1")
    plan = create_plan(client)
    r = client.post(f"/api/v1/call-plans/{plan['id']}/schedule", headers=auth(), json=body)
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert list(r.json["errors"]) == [field]
    assert counts(app) == (1, 0, 0)


def test_a_horizon_giving_too_many_calls_per_customer_is_refused(app, client):
    project(app, "c1")
    hours = ",".join(str(h) for h in range(24))
    plan = create_plan(client, rrule=f"FREQ=DAILY;BYHOUR={hours};BYMINUTE=0")
    r = schedule(client, plan["id"], days=60)
    assert r.status_code == 422 and "horizon_days" in r.json["errors"]
    assert counts(app) == (1, 0, 0)
    assert schedule(client, plan["id"], days=7).json["created"] == 24 * 7


def test_default_horizon_is_thirty_days(app, client):
    project(app, "c1")
    # Holidays allowed: a public holiday's call moves to the next day's, merging two.
    plan = create_plan(client, rrule="FREQ=DAILY;BYHOUR=10;BYMINUTE=0", allow_holidays=True)
    r = client.post(f"/api/v1/call-plans/{plan['id']}/schedule", headers=auth())
    assert r.status_code == 200 and r.json["created"] in (30, 31)


def test_scheduling_an_unknown_plan_is_404(client):
    assert schedule(client, "nope").status_code == 404


def test_only_managers_schedule(app, client):
    project(app, "c1")
    plan = create_plan(client)
    assert schedule(client, plan["id"], role="agent").status_code == 403
    r = client.post(f"/api/v1/call-plans/{plan['id']}/schedule", json={})
    assert r.status_code == 401
    assert counts(app) == (1, 0, 0)


def test_events_built_in_bulk_are_what_the_contract_makes(app, client):
    from shared.events import make_event
    from shared.events.envelope import parse_event

    project(app, "c1", "c2", "c3")
    schedule(client, create_plan(client)["id"])
    rows = outbox(app, "call.scheduled")
    assert len(rows) == 12
    for row in rows:
        event = parse_event(row.body)  # the consumer's own validation
        again = make_event("call.scheduled", event.payload, producer="calls")
        assert json.loads(row.body)["payload"] == again.wire_payload
    assert len({json.loads(r.body)["event_id"] for r in rows}) == 12
