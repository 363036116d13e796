"""Call plans through the API: creation, validation, reads and access."""

import pytest

from tests.calls.helpers import PAST, WEEKLY, counts, create_plan
from tests.conftest import auth

VALID = {"name": "SMB weekly", "segment": "smb", "channel": "phone", "rrule": WEEKLY}


def test_create_plan_applies_defaults_and_normalises_the_rule(client):
    r = client.post(
        "/api/v1/call-plans",
        headers=auth(),
        json={**VALID, "rrule": "RRULE:freq=weekly;byday=mo;byhour=10;byminute=0"},
    )
    assert r.status_code == 201
    plan = r.json
    assert (plan["timezone"], plan["priority"], plan["rrule"]) == ("Asia/Hong_Kong", 3, WEEKLY)
    assert plan["starts_at"].endswith(":00+00:00")  # planned to the minute
    assert r.headers["Location"].endswith(plan["id"])
    got = client.get(r.headers["Location"], headers=auth("agent"))
    assert got.status_code == 200 and got.json == plan


@pytest.mark.parametrize(
    "change, field",
    [
        ({"rrule": "every monday"}, "rrule"),
        ({"rrule": "FREQ=WEEKLY;BYDAY=XX"}, "rrule"),
        ({"rrule": "FREQ=DAILY;INTERVAL=0"}, "rrule"),
        ({"rrule": "FREQ=DAILY;COUNT=-1"}, "rrule"),
        ({"rrule": "FREQ=MINUTELY"}, "rrule"),
        ({"rrule": "FREQ=DAILY;FREQ=WEEKLY"}, "rrule"),
        ({"rrule": "FREQ=DAILY;BYMONTH=13"}, "rrule"),
        ({"rrule": "DTSTART:20260101T000000Z\nRRULE:FREQ=DAILY"}, "rrule"),
        ({"rrule": "FREQ=DAILY;UNTIL=20270101"}, "rrule"),
        ({"rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"}, "rrule"),  # never occurs
        ({"channel": "fax"}, "channel"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": "localtime"}, "timezone"),
        ({"segment": "SMB!"}, "segment"),
        ({"name": "  "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"priority": 6}, "priority"),
        ({"priority": "3"}, "priority"),
        ({"starts_at": "2026-01-01T10:00:00"}, "starts_at"),
        ({"horizon": 30}, "horizon"),
    ],
)
def test_invalid_plan_is_a_field_problem_and_writes_nothing(app, client, change, field):
    r = client.post("/api/v1/call-plans", headers=auth(), json={**VALID, **change})
    assert r.status_code == 422
    assert r.content_type == "application/problem+json"
    assert list(r.json["errors"]) == [field]
    assert counts(app) == (0, 0, 0)


def test_plans_are_listed_with_a_cursor(client):
    names = [create_plan(client, name=f"P{i}")["name"] for i in range(5)]
    seen, cursor = [], None
    while True:
        r = client.get(
            "/api/v1/call-plans",
            headers=auth("analyst"),
            query_string={"limit": 2, **({"cursor": cursor} if cursor else {})},
        )
        seen += [p["name"] for p in r.json["items"]]
        cursor = r.json["next_cursor"]
        if not cursor:
            break
    assert seen == names


@pytest.mark.parametrize("cursor", ["%%%", "WyJ4IiwgInkiXQ", "WyIyMDI2LTAxLTAxIiwieCJd"])
def test_a_cursor_this_api_did_not_issue_is_422(client, cursor):
    r = client.get("/api/v1/call-plans", headers=auth(), query_string={"cursor": cursor})
    assert r.status_code == 422 and "cursor" in r.json["errors"]


def test_unknown_plan_is_404(client):
    r = client.get("/api/v1/call-plans/nope", headers=auth())
    assert r.status_code == 404 and r.content_type == "application/problem+json"


def test_plans_need_a_token_and_a_manager_to_create(app, client):
    assert client.post("/api/v1/call-plans", json=VALID).status_code == 401
    for role in ("agent", "analyst"):
        r = client.post("/api/v1/call-plans", headers=auth(role), json=VALID)
        assert r.status_code == 403 and r.content_type == "application/problem+json"
    partner = client.get("/api/v1/call-plans", headers=auth("partner", partner_id="p1"))
    assert partner.status_code == 403
    assert counts(app) == (0, 0, 0)


def test_starts_at_keeps_the_given_instant(client):
    plan = create_plan(client, starts_at=PAST)
    assert plan["starts_at"] == "2023-12-31T16:00:00+00:00"


def test_openapi_document_lists_the_routes(client):
    paths = client.get("/api/docs/openapi.json").json["paths"]
    assert {
        "/api/v1/call-plans",
        "/api/v1/call-plans/{plan_id}/schedule",
        "/api/v1/calls",
        "/api/v1/calls/{call_id}/outcome",
    } <= set(paths)
