"""Plans with windows and checklists, assignment to staff and partner agents, queue,
partner bulk outcomes, follow-ups, the missed-call sweep and an opt-out, on SQLite
and on PostgreSQL (JSON columns, partial indexes, row locks)."""

from datetime import UTC, datetime, timedelta

import pytest

from services.calls.calls import missed
from services.calls.calls.tables import Call
from tests.calls.helpers import (
    add_agent,
    add_partner,
    assign,
    build_app,
    calls_of,
    create_plan,
    deliver,
    payloads,
    project,
    schedule,
)
from tests.conftest import auth, make_token

pytestmark = pytest.mark.integration
CHECKLIST = [{"id": "needs", "question": "Needs?", "answer_type": "text"}]


@pytest.fixture
def app(service_app, database_url):
    app = build_app(service_app, database_url)
    yield app
    app.extensions["rapport"].db.dispose()


def test_the_whole_calling_cycle(app):
    client = app.test_client()
    project(app, *[f"c{i}" for i in range(6)])
    plan = create_plan(
        client,
        rrule="FREQ=DAILY;BYHOUR=10;BYMINUTE=0",
        checklist=CHECKLIST,
        windows=[
            {"days": ["MO", "TU", "WE", "TH", "FR", "SA", "SU"], "start": "08:00", "end": "20:00"}
        ],
        allow_holidays=True,
    )
    assert schedule(client, plan["id"], days=3).json["created"] == 18
    partner = add_partner(client)
    add_agent(client, "alice", daily_capacity=3)
    add_agent(client, "pat", kind="partner", partner_id=partner["id"], daily_capacity=3)
    result = assign(client, within_days=5)
    assert result["assigned"] == 18 - result["unassignable"]
    queue = client.get(
        "/api/v1/queue", headers={"Authorization": f"Bearer {make_token('agent', 'alice')}"}
    ).json["items"]
    assert queue and all(i["call"]["agent_id"] == "alice" for i in queue)
    ph = {"Authorization": f"Bearer {make_token('partner', 'sup', partner['id'])}"}
    mine = [i["call"]["id"] for i in client.get("/api/v1/partner/calls", headers=ph).json["items"]]
    at = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    items = [
        {
            "call_id": mine[0],
            "outcome": "reached",
            "satisfaction": 5,
            "propensity": 80,
            "duration_seconds": 300,
            "answers": {"needs": "more"},
            "completed_at": at,
        },
        {"call_id": mine[1], "outcome": "no_answer", "completed_at": at},
        {"call_id": queue[0]["call"]["id"], "outcome": "busy"},
    ]
    r = client.post(
        "/api/v1/partner/outcomes",
        headers={**ph, "Idempotency-Key": "k1"},
        json={"outcomes": items},
    )
    assert [x["status"] for x in r.json["results"]] == [201, 201, 404]
    [done, _] = payloads(app, "call.completed")
    assert (done["cost"], done["agent_kind"], done["checklist_compliance"]) == (
        "25.00",
        "partner",
        1.0,
    )
    assert [f["kind"] for f in payloads(app, "followup.created")] == ["retry"]
    open_calls = calls_of(client, status="scheduled")
    with app.extensions["rapport"].uow() as work:
        call = work.session.get(Call, open_calls[0]["id"])
        call.window_end = datetime.now(UTC) - timedelta(minutes=1)
    assert missed.sweep_missed(app.extensions["rapport"].uow)["missed"] == 1
    deliver(app, "customer.opted_out", customer_id="c0", opted_out_at=datetime.now(UTC))
    assert all(c["status"] != "scheduled" for c in calls_of(client, customer_id="c0"))
    coverage = client.get("/api/v1/coverage", headers=auth()).json["items"]
    assert {row["customer_id"] for row in coverage} >= {"c1", "c2"}
