"""Plans: targets, purpose, windows, holidays, checklists, and versions on edit."""

import pytest

from tests.calls.helpers import PAST, WEEKLY, calls_of, counts, create_plan, project, schedule
from tests.conftest import auth

CHECKLIST = [
    {"id": "needs", "question": "What does the customer need?", "answer_type": "text"},
    {"id": "renew", "question": "Renewing?", "answer_type": "yes_no"},
    {
        "id": "tier",
        "question": "Which tier?",
        "answer_type": "choice",
        "options": ["gold", "silver"],
        "required": False,
    },
]


def test_a_plan_keeps_its_full_definition(client):
    plan = create_plan(
        client,
        segments=["smb", "retail"],
        customer_ids=["vip-1"],
        purpose="insurance",
        checklist=CHECKLIST,
        windows=[{"days": ["MO", "TU"], "start": "09:00", "end": "12:30"}],
        allow_holidays=True,
        ends_at="2030-01-01T00:00:00+08:00",
    )
    assert plan["segments"] == ["smb", "retail"] and plan["segment"] == "smb"
    assert (plan["purpose"], plan["version"], plan["allow_holidays"]) == ("insurance", 1, True)
    assert [i["id"] for i in plan["checklist"]] == ["needs", "renew", "tier"]
    assert plan["checklist"][0]["required"] is True
    assert plan["windows"] == [{"days": ["MO", "TU"], "start": "09:00", "end": "12:30"}]
    assert plan["ends_at"] == "2029-12-31T16:00:00+00:00"


def test_editing_makes_a_new_version_and_calls_keep_theirs(app, client):
    project(app, "c1")
    plan = create_plan(client, checklist=CHECKLIST)
    schedule(client, plan["id"], days=7)
    r = client.patch(
        f"/api/v1/call-plans/{plan['id']}",
        headers=auth(),
        json={"checklist": CHECKLIST[:1], "priority": 1},
    )
    assert r.status_code == 200 and r.json["version"] == 2
    assert r.json["checklist"] == [{**CHECKLIST[0], "required": True, "options": None}]
    [old] = calls_of(client)
    assert old["plan_version"] == 1 and old["priority"] == 3
    versions = client.get(f"/api/v1/call-plans/{plan['id']}/versions", headers=auth("agent")).json[
        "items"
    ]
    assert [v["version"] for v in versions] == [1, 2]
    assert len(versions[0]["snapshot"]["checklist"]) == 3
    assert len(versions[1]["snapshot"]["checklist"]) == 1
    first = client.get(
        f"/api/v1/call-plans/{plan['id']}/versions",
        headers=auth("agent"),
        query_string={"limit": 1},
    ).json
    rest = client.get(
        f"/api/v1/call-plans/{plan['id']}/versions",
        headers=auth("agent"),
        query_string={"limit": 1, "cursor": first["next_cursor"]},
    ).json
    assert [v["version"] for v in first["items"] + rest["items"]] == [1, 2]
    one = client.get(f"/api/v1/call-plans/{plan['id']}/versions/1", headers=auth("agent"))
    assert one.json["snapshot"]["priority"] == 3
    same = client.patch(f"/api/v1/call-plans/{plan['id']}", headers=auth(), json={"priority": 1})
    assert same.json["version"] == 2  # nothing changed, no new version
    project(app, "c2")
    schedule(client, plan["id"], days=7)
    assert calls_of(client, customer_id="c2")[0]["plan_version"] == 2


@pytest.mark.parametrize(
    "change, field",
    [
        ({"windows": [{"days": ["MO"], "start": "18:00", "end": "09:00"}]}, "windows"),
        ({"windows": [{"days": [], "start": "09:00", "end": "18:00"}]}, "windows"),
        ({"windows": [{"days": ["XX"], "start": "09:00", "end": "18:00"}]}, "windows"),
        ({"windows": [{"days": ["MO"], "start": "9am", "end": "18:00"}]}, "windows"),
        ({"checklist": [{"id": "a", "question": "Q", "answer_type": "essay"}]}, "checklist"),
        ({"checklist": [{"id": "a", "question": "Q", "answer_type": "choice"}]}, "checklist"),
        ({"checklist": [{"id": "a", "question": "Q", "answer_type": "text"}] * 2}, "checklist"),
        ({"ends_at": "2023-01-01T00:00:00+00:00"}, "ends_at"),
        ({"purpose": "Bad Purpose"}, "purpose"),
        ({"segment": None, "segments": [], "customer_ids": []}, "segments"),
    ],
)
def test_invalid_plans_are_422_and_write_nothing(app, client, change, field):
    body = {
        "name": "P",
        "segment": "smb",
        "channel": "phone",
        "rrule": WEEKLY,
        "starts_at": PAST,
        **change,
    }
    if body.get("segment") is None:
        body.pop("segment")
    r = client.post("/api/v1/call-plans", headers=auth(), json=body)
    assert r.status_code == 422 and r.content_type == "application/problem+json", r.json
    assert field in r.json["errors"]
    assert counts(app) == (0, 0, 0)


def test_an_edit_to_an_invalid_plan_is_refused_and_keeps_the_version(client):
    plan = create_plan(client)
    r = client.patch(
        f"/api/v1/call-plans/{plan['id']}",
        headers=auth(),
        json={"rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"},
    )
    assert r.status_code == 422 and "rrule" in r.json["errors"]
    assert client.get(f"/api/v1/call-plans/{plan['id']}", headers=auth()).json["version"] == 1
    assert (
        client.patch("/api/v1/call-plans/nope", headers=auth(), json={"priority": 1}).status_code
        == 404
    )
    assert (
        client.patch(
            f"/api/v1/call-plans/{plan['id']}", headers=auth("agent"), json={"priority": 1}
        ).status_code
        == 403
    )


def test_named_customers_are_targeted_beside_segments(app, client):
    project(app, "c1")
    project(app, "vip", segment="enterprise")
    plan = create_plan(client, customer_ids=["vip"])
    schedule(client, plan["id"], days=7)
    assert {c["customer_id"] for c in calls_of(client)} == {"c1", "vip"}
