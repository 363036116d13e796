"""Requests a fuzzer found answered 500 are the caller's mistakes, answered 4xx
problem+json with nothing written: a staff token on the partner API, numbers past
the database's integers in a path or a cursor, a staff agent with a partner id,
a NUL character PostgreSQL cannot store."""

from datetime import UTC, datetime

import pytest

from shared.web.pagination import encode_cursor
from tests.calls.helpers import (
    add_agent,
    add_partner,
    assign,
    build_app,
    calls_of,
    counts,
    create_plan,
    project,
    schedule,
)
from tests.conftest import auth, make_token

PROBLEM = "application/problem+json"
HUGE = (2**31, 2**63, 10**30)
REACHED = {"outcome": "reached", "satisfaction": 5, "propensity": 60, "duration_seconds": 200}


@pytest.fixture
def call_ids(app, client):
    """Calls of a staff agent and of a partner's agent."""
    project(app, "c1", "c2", "c3", "c4")
    partner = add_partner(client, "A-Call")
    add_agent(client, "agent-s")
    add_agent(client, "agent-a", kind="partner", partner_id=partner["id"])
    schedule(client, create_plan(client, rrule="FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=10")["id"], days=7)
    assign(client)
    calls = calls_of(client)
    assert {c["partner_id"] for c in calls} == {None, partner["id"]}
    return [c["id"] for c in calls]


def reads(client) -> list:
    return client.get("/api/v1/partner-reads", headers=auth(), query_string={"limit": 500}).json[
        "items"
    ]


@pytest.mark.parametrize("role", ["admin", "manager", "agent", "analyst"])
@pytest.mark.parametrize(
    "method, path, body",
    [
        ("GET", "/partner/calls", None),
        ("GET", "/partner/calls/{id}", None),
        ("POST", "/partner/calls/{id}/outcome", REACHED),
        ("PUT", "/partner/calls/{id}", {}),
        ("GET", "/partner/calls/{id}/outcome", None),
        ("POST", "/partner/outcomes", {"outcomes": [{"call_id": "{id}", **REACHED}]}),
    ],
)
def test_a_staff_token_on_the_partner_api_is_403_and_reads_nothing(
    app, client, call_ids, role, method, path, body
):
    before, audited = counts(app), reads(client)
    for call_id in call_ids:  # staff calls (no partner) and a partner's alike
        sent = body
        if body and "outcomes" in body:
            sent = {"outcomes": [{**body["outcomes"][0], "call_id": call_id}]}
        r = client.open(
            f"/api/v1{path.format(id=call_id)}", method=method, headers=auth(role), json=sent
        )
        assert (r.status_code, r.content_type) == (403, PROBLEM)
        assert r.json["detail"] == "the partner API is for partner credentials; staff use /calls"
    assert counts(app) == before and reads(client) == audited
    assert {c["status"] for c in calls_of(client)} == {"scheduled"}


@pytest.mark.parametrize("version", [0, *HUGE])
def test_a_plan_version_past_the_database_integer_is_not_found_like_any_missing_one(
    client, version
):
    plan = create_plan(client)
    r = client.get(f"/api/v1/call-plans/{plan['id']}/versions/{version}", headers=auth())
    assert (r.status_code, r.content_type) == (404, PROBLEM)
    assert r.json["detail"] == f"no version {version} of call plan {plan['id']}"
    assert (
        client.get(f"/api/v1/call-plans/{plan['id']}/versions/1", headers=auth()).json["version"]
        == 1
    )


def _queue_cursor(priority):
    # A fixed moment: the parameter's id must be the same in every test process.
    return encode_cursor(datetime(2026, 1, 5, 2, tzinfo=UTC).isoformat(), priority, "x")


@pytest.mark.parametrize(
    "path, cursor",
    [
        ("/call-plans/{plan}/versions", encode_cursor(2**63)),
        ("/call-plans/{plan}/versions", encode_cursor(-(10**30))),
        ("/call-plans/{plan}/versions", encode_cursor(True)),
        ("/partner-reads", encode_cursor(2**31)),
        ("/partner-reads", encode_cursor(10**30)),
        ("/queue", _queue_cursor(2**63)),
        ("/queue", _queue_cursor(10**30)),
        ("/coverage", encode_cursor([1, 2])),
        ("/coverage", encode_cursor(7)),
    ],
)
def test_a_cursor_with_a_number_past_the_database_integer_is_422(client, path, cursor):
    plan = create_plan(client)
    r = client.get(
        f"/api/v1{path.format(plan=plan['id'])}", headers=auth(), query_string={"cursor": cursor}
    )
    assert (r.status_code, r.content_type) == (422, PROBLEM)
    assert r.json["errors"] == {"cursor": ["not a valid cursor"]}


def test_a_staff_agent_with_an_empty_partner_id_is_422_and_not_added(app, client):
    body = {
        "id": "agent-e",
        "name": "E",
        "kind": "staff",
        "daily_capacity": 5,
        "rate_per_minute": "1.00",
        "partner_id": "",
    }
    r = client.post("/api/v1/agents", headers=auth(), json=body)
    assert (r.status_code, r.content_type) == (422, PROBLEM)
    assert r.json["errors"]["partner_id"] == ["A staff agent belongs to no partner."]
    assert client.get("/api/v1/agents/agent-e", headers=auth()).status_code == 404


@pytest.fixture
def both_app(service_app, database_url):
    """The app on SQLite and again on PostgreSQL, where a NUL failed in SQL."""
    return build_app(service_app, database_url)


@pytest.mark.parametrize(
    "method, path, body, role, where",
    [
        ("GET", "/calls/a%00b", None, "manager", "path"),
        ("GET", "/calls?customer_id=a%00b", None, "manager", "query"),
        ("GET", "/call-plans/a%00b/versions/1", None, "manager", "path"),
        ("POST", "/partners", {"name": "Call\u0000Co", "fee_per_call": "1"}, "manager", "json"),
        ("GET", "/partner/calls/a%00b", None, "partner", "path"),
        ("POST", "/partner/calls/a%00b/outcome", {"outcome": "busy"}, "partner", "path"),
        (
            "POST",
            "/partner/outcomes",
            {"outcomes": [{"call_id": "a\u0000b", "outcome": "busy"}]},
            "partner",
            "json",
        ),
    ],
)
def test_a_nul_character_anywhere_is_422_on_every_database(
    both_app, method, path, body, role, where
):
    client = both_app.test_client()
    before = counts(both_app)
    token = make_token(role, "someone", "p1" if role == "partner" else None)
    r = client.open(
        f"/api/v1{path}", method=method, json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert (r.status_code, r.content_type) == (422, PROBLEM)
    assert r.json["errors"] == {where: ["NUL characters (U+0000) are not accepted in text."]}
    assert counts(both_app) == before
    assert client.open(f"/api/v1{path}", method=method, json=body).status_code == 401
