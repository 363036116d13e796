"""Many outcomes in one request: each item judged on its own, answered in order."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from marshmallow import ValidationError

from services.calls.calls import outcomes
from services.calls.calls.outcome_schemas import BulkOutcomeItem
from tests.calls.helpers import (
    calls_of,
    counts,
    create_plan,
    outbox,
    payloads,
    project,
    schedule,
)
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


def _item(rng: random.Random) -> object:
    """An upload item, well-formed or not in many ways."""
    now = datetime.now(UTC)
    choices = {
        "call_id": ["c-1", "", "x" * 65, 7, None],
        "outcome": ["reached", "busy", "no_answer", "callback_requested", "complaint", "gone", 3],
        "satisfaction": [None, 1, 5, 0, 6, "4", 4.0, True],
        "propensity": [None, 0, 100, 101, -1, "50"],
        "duration_seconds": [0, 120, 4 * 3600 + 1, -5, None, "60", 1.5],
        "notes": [None, "", "fine", "x" * 2001, 12],
        "completed_at": [
            None,
            (now - timedelta(hours=1)).isoformat(),
            (now + timedelta(hours=1)).isoformat(),
            "2026-01-01T10:00:00",
            "yesterday",
        ],
        "answers": [{}, {"q1": True}, {"q" * 65: 1}, {"q1": None}, [1]],
        "competitor_mentions": [[], ["Acme"], [" "], ["x"] * 21, "Acme"],
        "referrals": [
            [],
            [{"name": "Ann", "phone": "+852 2345 6789"}],
            [{"name": "Bob"}],
            [{"name": "Cy", "email": "not-an-address"}],
            [{"name": "Di", "email": "di@example.com", "segment": "smb", "extra": 1}],
        ],
        "opt_out_notice_given": [False, True, "yes", 1, None],
        "callback_at": [None, (now + timedelta(days=1)).isoformat(), "soon"],
        "confirmed_fields": [{}, {"email": "a@b.c"}, {"k" * 65: 1}],
        "surprise": [1],
    }
    if rng.random() < 0.03:
        return rng.choice(["not an object", None, [1]])
    # Mostly well-formed items; now and then a key left out or a wrong value.
    item = {"call_id": "c-1", **REACHED}
    for name, values in choices.items():
        if rng.random() < 0.15:
            item[name] = rng.choice(values)
        elif rng.random() < 0.03:
            item.pop(name, None)
    if item.get("outcome") == "callback_requested" and rng.random() < 0.7:
        item["callback_at"] = (now + timedelta(hours=3)).isoformat()
    return item


def test_an_item_loads_as_its_schema_loads_it():
    """The fast path answers what ``Schema.load`` answers, or leaves it to it."""
    rng = random.Random(18)
    schema, accepted, refused = BulkOutcomeItem(), 0, 0
    for _ in range(3000):
        item = _item(rng)
        try:
            expected = schema.load(item)
        except ValidationError as exc:
            with pytest.raises(ValidationError) as raised:
                outcomes.load_item(item)
            assert raised.value.messages == exc.messages, item
            refused += 1
            continue
        assert outcomes.load_item(item) == expected, item
        accepted += 1
    assert accepted > 500 and refused > 500


def test_a_do_not_call_in_an_upload_cancels_the_customers_other_open_calls_in_it(
    app, client, calls
):
    """The calls completed before it in the upload stay completed (not cancelled), the
    customer's open ones it cancels refuse their outcome further on, and the answers
    are what one request an item would have had."""
    first, second, third, fourth = (c["id"] for c in calls[:4])
    opt_out = {"outcome": "do_not_call_requested", "duration_seconds": 30}
    r = bulk(
        client,
        [
            {"call_id": first, **REACHED},
            {"call_id": third, "outcome": "reached", "satisfaction": 7, "propensity": 1},
            {"call_id": second, **opt_out},
            {"call_id": third, **REACHED},
            {"call_id": first, **REACHED},
            {"call_id": second, **opt_out},
            {"call_id": fourth, "outcome": "busy"},
        ],
    )
    assert [x["status"] for x in r.json["results"]] == [201, 422, 201, 409, 200, 200, 409]
    assert "do_not_call_requested" in r.json["results"][3]["detail"]
    statuses = {c["id"]: c["status"] for c in calls_of(client, customer_id="c1")}
    assert (statuses[first], statuses[second], statuses[third], statuses[fourth]) == (
        "completed",
        "completed",
        "cancelled",
        "cancelled",
    )
    cancelled = {e["call_id"] for e in payloads(app, "call.cancelled")}
    assert first not in cancelled and second not in cancelled and {third, fourth} <= cancelled
    assert {e["call_id"] for e in payloads(app, "call.completed")} == {first, second}
    assert {c["status"] for c in calls_of(client, customer_id="c2")} == {"scheduled"}


def test_an_uploads_items_are_held_to_the_quality_rules_against_each_other(app, client):
    """Each item against the agent's calls recorded before it, in the same upload too:
    one a minute for two minutes each overlaps the one before, and from the 31st in
    an hour each is one too many."""
    project(app, *(f"c{i}" for i in range(10)))
    schedule(client, create_plan(client)["id"])
    ids = [c["id"] for c in calls_of(client)][:32]
    base = datetime.now(UTC) - timedelta(hours=2)
    items = [
        {
            "call_id": call_id,
            **REACHED,
            "duration_seconds": 120,
            "completed_at": (base + timedelta(minutes=i)).isoformat(),
        }
        for i, call_id in enumerate(ids)
    ]
    assert bulk(client, items).json["created"] == 32
    flags = {p["call_id"]: p["quality_flags"] for p in payloads(app, "call.completed")}
    assert [flags[call_id] for call_id in ids] == (
        [[]] + [["overlap"]] * 29 + [["overlap", "rate"]] * 2
    )
