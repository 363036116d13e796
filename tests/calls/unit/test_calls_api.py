"""Calls through the API: reads, and recording an outcome once."""

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from services.calls.calls.tables import Call
from tests.calls.helpers import calls_of, counts, create_plan, outbox, project, schedule
from tests.conftest import auth

REACHED = {
    "outcome": "reached",
    "satisfaction": 4,
    "propensity": 70,
    "duration_seconds": 300,
    "notes": "Interested in the new plan.",
}


@pytest.fixture
def call(app, client):
    """One scheduled call of customer c1 (c2 has four more)."""
    project(app, "c1", "c2")
    plan = create_plan(client)
    schedule(client, plan["id"])
    return calls_of(client, customer_id="c1")[0]


def post_outcome(client, call_id, body, role="agent"):
    return client.post(f"/api/v1/calls/{call_id}/outcome", headers=auth(role), json=body)


def completed_events(app) -> list[dict]:
    return [json.loads(row.body)["payload"] for row in outbox(app, "call.completed")]


def test_reached_outcome_completes_the_call_and_announces_it(app, client, call):
    r = post_outcome(client, call["id"], REACHED)
    assert r.status_code == 201
    body = r.json
    assert (body["status"], body["outcome"], body["satisfaction"]) == ("completed", "reached", 4)
    assert body["completed_by"] == "tester" and body["completed_at"]
    assert client.get(f"/api/v1/calls/{call['id']}", headers=auth("analyst")).json == body
    [event] = completed_events(app)
    assert event == {
        "call_id": call["id"],
        "plan_id": call["plan_id"],
        "customer_id": "c1",
        "channel": "phone",
        "outcome": "reached",
        "completed_at": body["completed_at"],
        "duration_seconds": 300,
        "satisfaction": 4,
        "propensity": 70,
        "notes": "Interested in the new plan.",
        "segment": "smb",
        "agent_id": "tester",
        "agent_kind": "staff",
        "partner_id": None,
        "cost": None,
        "currency": "HKD",
        "team": None,
        "purpose": "service",
        "plan_version": 1,
        "due_at": call["due_at"],
        "checklist_compliance": 1.0,
        "competitor_mentions": [],
        "referrals": [],
        "opt_out_notice_given": False,
        "callback_at": None,
        "confirmed_fields": {},
        "kind": "planned",
        "quality_flags": [],
    }


def test_other_outcomes_need_no_findings(app, client, call):
    when = datetime.now(UTC) - timedelta(hours=1)
    local = when.astimezone(ZoneInfo("Asia/Hong_Kong")).isoformat()
    r = post_outcome(
        client, call["id"], {"outcome": "no_answer", "completed_at": local}, role="manager"
    )
    assert r.status_code == 201
    assert (r.json["satisfaction"], r.json["duration_seconds"]) == (None, 0)
    assert r.json["completed_at"] == when.isoformat()  # answered in UTC
    assert completed_events(app)[0]["outcome"] == "no_answer"


FUTURE = (datetime.now(UTC) + timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    "body, field",
    [
        ({**REACHED, "satisfaction": 7}, "satisfaction"),
        ({**REACHED, "satisfaction": 4.5}, "satisfaction"),
        ({**REACHED, "propensity": 101}, "propensity"),
        ({"outcome": "reached", "propensity": 50}, "satisfaction"),
        ({"outcome": "no_answer", "satisfaction": 3}, "satisfaction"),
        ({"outcome": "busy", "propensity": 0}, "propensity"),
        ({**REACHED, "duration_seconds": 144000}, "duration_seconds"),
        ({**REACHED, "duration_seconds": -1}, "duration_seconds"),
        ({**REACHED, "notes": "x" * 2001}, "notes"),
        ({**REACHED, "completed_at": FUTURE}, "completed_at"),
        ({**REACHED, "completed_at": "2026-01-01T10:00:00"}, "completed_at"),
        ({**REACHED, "outcome": "delighted"}, "outcome"),
        ({**REACHED, "agent_id": "someone-else"}, "agent_id"),
        ({"satisfaction": 3}, "outcome"),
    ],
)
def test_invalid_outcome_is_a_field_problem_and_writes_nothing(app, client, call, body, field):
    before = counts(app)
    r = post_outcome(client, call["id"], body)
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert field in r.json["errors"]
    assert counts(app) == before
    assert client.get(f"/api/v1/calls/{call['id']}", headers=auth()).json == call


def test_findings_outside_reached_get_a_precise_message(client, call):
    r = post_outcome(client, call["id"], {"outcome": "no_answer", "satisfaction": 3})
    assert r.json["errors"] == {
        "satisfaction": ["Only recorded when the outcome is 'reached', not 'no_answer'."]
    }


def test_the_same_outcome_again_is_200_without_a_second_event(app, client, call):
    first = post_outcome(client, call["id"], REACHED)
    again = post_outcome(client, call["id"], REACHED)
    assert again.status_code == 200 and again.json == first.json
    timed = {**REACHED, "completed_at": first.json["completed_at"]}
    assert post_outcome(client, call["id"], timed).status_code == 200
    assert len(completed_events(app)) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"outcome": "interested", "satisfaction": None, "propensity": None},
        {"satisfaction": 5},
        {"notes": None},
        {"completed_at": "2025-01-01T00:00:00+00:00"},
    ],
)
def test_a_different_outcome_afterwards_is_409(app, client, call, change):
    first = post_outcome(client, call["id"], REACHED)
    r = post_outcome(client, call["id"], {**REACHED, **change})
    assert r.status_code == 409 and r.content_type == "application/problem+json"
    assert "recorded once" in r.json["detail"]
    assert client.get(f"/api/v1/calls/{call['id']}", headers=auth()).json == first.json
    assert len(completed_events(app)) == 1


def test_a_cancelled_call_takes_no_outcome(app, client, call):
    with app.extensions["rapport"].uow() as work:
        work.session.execute(update(Call).where(Call.id == call["id"]).values(status="cancelled"))
    before = counts(app)
    r = post_outcome(client, call["id"], REACHED)
    assert r.status_code == 409 and "cancelled" in r.json["detail"]
    assert counts(app) == before


def test_unknown_call_is_404(app, client, call):
    before = counts(app)
    assert post_outcome(client, "nope", REACHED).status_code == 404
    assert client.get("/api/v1/calls/nope", headers=auth()).status_code == 404
    assert counts(app) == before


def test_outcomes_need_a_token_and_an_agent_or_manager(app, client, call):
    before = counts(app)
    r = client.post(f"/api/v1/calls/{call['id']}/outcome", json=REACHED)
    assert r.status_code == 401 and r.content_type == "application/problem+json"
    assert post_outcome(client, call["id"], REACHED, role="analyst").status_code == 403
    assert post_outcome(client, call["id"], REACHED, role="admin").status_code == 201
    assert counts(app) == (before[0], before[1], before[2] + 1)


def test_calls_are_filtered_and_paged_by_due_time(app, client, call):
    post_outcome(client, call["id"], REACHED)
    everything = calls_of(client)
    assert len(everything) == 8
    keys = [(c["due_at"], c["id"]) for c in everything]
    assert keys == sorted(keys)
    assert [c["id"] for c in calls_of(client, status="completed")] == [call["id"]]
    assert len(calls_of(client, status="scheduled", customer_id="c2")) == 4
    assert len(calls_of(client, plan_id=call["plan_id"])) == 8
    assert calls_of(client, plan_id="other") == []
    paged, cursor = [], None
    while True:
        r = client.get(
            "/api/v1/calls",
            headers=auth("agent"),
            query_string={"limit": 3, **({"cursor": cursor} if cursor else {})},
        )
        paged += r.json["items"]
        cursor = r.json["next_cursor"]
        if not cursor:
            break
    assert paged == everything


@pytest.mark.parametrize(
    "query", [{"status": "lost"}, {"limit": 0}, {"cursor": "%%%"}, {"customer_id": "x" * 37}]
)
def test_bad_list_queries_are_422(client, query):
    r = client.get("/api/v1/calls", headers=auth(), query_string=query)
    assert r.status_code == 422 and r.content_type == "application/problem+json"
