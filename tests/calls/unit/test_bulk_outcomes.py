"""Many outcomes in one request: each item judged on its own, answered in order."""

import pytest

from tests.calls.helpers import calls_of, counts, create_plan, outbox, project, schedule
from tests.conftest import auth

REACHED = {"outcome": "reached", "satisfaction": 4, "propensity": 70, "duration_seconds": 300}


@pytest.fixture
def calls(app, client):
    project(app, "c1", "c2")
    schedule(client, create_plan(client)["id"])
    return calls_of(client, customer_id="c1")


def bulk(client, items, role="agent"):
    return client.post("/api/v1/calls/outcomes", headers=auth(role), json={"outcomes": items})


def test_good_and_bad_items_mixed_record_only_the_good(app, client, calls):
    first, second, third = (c["id"] for c in calls[:3])
    before = counts(app)
    r = bulk(
        client,
        [
            {"call_id": first, **REACHED},
            {
                "call_id": second,
                "outcome": "no_answer",
                "satisfaction": 3,
            },  # findings when not reached
            {"call_id": "no-such-call", "outcome": "busy"},
            {"call_id": third, "outcome": "reached", "satisfaction": 7, "propensity": 1},
            "not an object",
            {"call_id": first, **REACHED},  # the same again: unchanged
            {"call_id": first, "outcome": "busy"},  # a different outcome: conflict
            {"call_id": second, "outcome": "no_answer", "duration_seconds": 20},
        ],
    )
    assert r.status_code == 200
    body = r.json
    assert [x["status"] for x in body["results"]] == [201, 422, 404, 422, 422, 200, 409, 201]
    assert [x["index"] for x in body["results"]] == list(range(8))
    assert (body["created"], body["unchanged"], body["rejected"]) == (2, 1, 5)
    assert "satisfaction" in body["results"][1]["errors"]
    assert "satisfaction" in body["results"][3]["errors"]
    assert len(outbox(app, "call.completed")) == 2
    # Two completions, and the no-answer's retry: its call.scheduled and followup.created.
    assert counts(app)[2] == before[2] + 4
    assert [e.event_type for e in outbox(app)[before[2] :]].count("followup.created") == 1
    statuses = {c["id"]: c["status"] for c in calls_of(client, customer_id="c1")}
    assert (statuses[first], statuses[second], statuses[third]) == (
        "completed",
        "completed",
        "scheduled",
    )


@pytest.mark.parametrize(
    "body", [{"outcomes": []}, {"outcomes": [{}] * 1001}, {"items": []}, {"outcomes": "x"}]
)
def test_an_empty_oversized_or_malformed_request_is_refused_whole(app, client, calls, body):
    before = counts(app)
    r = client.post("/api/v1/calls/outcomes", headers=auth("agent"), json=body)
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert counts(app) == before


def test_bulk_needs_a_caller_role(client, calls):
    assert bulk(client, [{"call_id": calls[0]["id"], **REACHED}], role="analyst").status_code == 403


def test_a_replayed_bulk_request_answers_the_same_and_records_nothing_more(app, client, calls):
    items = [{"call_id": c["id"], **REACHED} for c in calls[:3]]
    headers = {**auth("agent"), "Idempotency-Key": "upload-7"}
    first = client.post("/api/v1/calls/outcomes", headers=headers, json={"outcomes": items})
    again = client.post("/api/v1/calls/outcomes", headers=headers, json={"outcomes": items})
    assert first.json == again.json and first.json["created"] == 3
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(outbox(app, "call.completed")) == 3
    other = client.post("/api/v1/calls/outcomes", headers=headers, json={"outcomes": items[:1]})
    assert other.status_code == 422
