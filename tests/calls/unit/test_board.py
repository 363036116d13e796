"""The manager's assignment board (/workspace/board): agents' loads are the API's,
the bulk form is judged and done by POST /calls/reassign's schema and use case,
refusals stand next to the fields and nothing is written, non-managers and forms
without the CSRF field are refused."""

import re
from datetime import datetime, timedelta

import pytest

from services.calls.people.assignment import local_day
from services.calls.workspace.board import end_of_today
from shared import clock
from tests.calls.helpers import (
    add_agent,
    assign,
    calls_of,
    create_plan,
    project,
    schedule,
)
from tests.conftest import make_token


@pytest.fixture
def desk(app, client):
    """Six customers with a daily call for three days, spread between ann and bob."""
    project(app, *[f"c{i}" for i in range(6)])
    add_agent(client, "ann", daily_capacity=2)
    add_agent(client, "bob", daily_capacity=2)
    plan = create_plan(client, rrule="FREQ=DAILY;BYHOUR=10;BYMINUTE=0")
    schedule(client, plan["id"], days=3)
    assign(client)
    client.get("/workspace/board/", query_string={"token": make_token("manager", "meg")})
    return plan


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', html).group(1)


def _cell(html: str, agent: str, col: str) -> int:
    row = re.search(rf'<tr id="agent-{agent}">(.*?)</tr>', html, re.DOTALL).group(1)
    return int(re.search(rf'data-col="{col}">(\d+)', row).group(1))


def _due(call) -> datetime:
    return datetime.fromisoformat(call["due_at"])


def test_the_board_shows_the_agents_loads_equal_to_the_apis(desk, client):
    html = client.get("/workspace/board/").get_data(as_text=True)
    now = clock.now()
    for agent in ("ann", "bob"):
        held = calls_of(client, agent_id=agent)
        open_ = [c for c in held if c["status"] == "scheduled"]
        assert _cell(html, agent, "today") == sum(_due(c) < end_of_today(now) for c in open_)
        assert _cell(html, agent, "lead") == sum(_due(c) < now + timedelta(days=7) for c in open_)
        assert _cell(html, agent, "load") == sum(
            local_day(_due(c)) == local_day(now)
            for c in held
            if c["status"] in ("scheduled", "completed")
        )
        assert _cell(html, agent, "capacity") == 2
    assert sum(_cell(html, a, "lead") for a in ("ann", "bob")) > 0


def test_the_board_lists_unassignable_calls_with_the_assigners_reasons(desk, client):
    unassignable = calls_of(client, unassignable=True)
    assert unassignable, "capacity 2 each cannot hold 6 calls a day"
    html = client.get("/workspace/board/").get_data(as_text=True)
    assert unassignable[0]["unassigned_reason"] in html


def test_a_manager_reassigns_an_agents_calls_in_bulk_through_the_page(desk, client):
    add_agent(client, "cat")
    page = client.get("/workspace/board/").get_data(as_text=True)
    anns = {c["id"] for c in calls_of(client, agent_id="ann", status="scheduled")}
    r = client.post(
        "/workspace/board/",
        data={
            "csrf_token": _csrf(page),
            "agent_id": "ann",
            "to_agent_id": "cat",
            "reason": "ann is on leave",
        },
        follow_redirects=True,
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Reassignment done" in html
    assert f"{len(anns)} calls matched" in html
    assert not calls_of(client, agent_id="ann", status="scheduled")
    assert {c["id"] for c in calls_of(client, agent_id="cat", status="scheduled")} == anns
    assert _cell(html, "cat", "lead") == len(anns)


def test_bad_input_shows_the_apis_reasons_by_the_fields_and_writes_nothing(desk, client):
    page = client.get("/workspace/board/").get_data(as_text=True)
    before = {c["id"]: c["agent_id"] for c in calls_of(client)}
    r = client.post("/workspace/board/", data={"csrf_token": _csrf(page), "reason": "cover"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and 'id="filters-error"' in html and "Name the calls" in html
    r = client.post(
        "/workspace/board/", data={"csrf_token": _csrf(page), "agent_id": "ann", "reason": " "}
    )
    assert r.status_code == 422 and 'id="reason-error"' in r.get_data(as_text=True)
    r = client.post(
        "/workspace/board/",
        data={
            "csrf_token": _csrf(page),
            "agent_id": "ann",
            "to_agent_id": "nobody",
            "reason": "cover",
        },
    )
    assert r.status_code == 422 and 'id="to_agent_id-error"' in r.get_data(as_text=True)
    assert "No agent nobody." in r.get_data(as_text=True)
    r = client.post(
        "/workspace/board/",
        data={
            "csrf_token": _csrf(page),
            "agent_id": "ann",
            "to_agent_id": "bob",
            "reason": "cover",
        },
    )
    assert r.status_code == 422 and "at capacity" in r.get_data(as_text=True)
    assert {c["id"]: c["agent_id"] for c in calls_of(client)} == before


def test_a_form_without_the_csrf_token_is_refused_and_moves_nothing(desk, client):
    before = {c["id"]: c["agent_id"] for c in calls_of(client)}
    r = client.post("/workspace/board/", data={"agent_id": "ann", "reason": "leave"})
    assert r.status_code == 403 and "nothing was saved" in r.get_data(as_text=True)
    assert {c["id"]: c["agent_id"] for c in calls_of(client)} == before


@pytest.mark.parametrize("role", ["agent", "analyst"])
def test_non_managers_are_refused_the_board(desk, client, role):
    client.get("/workspace/board/", query_string={"token": make_token(role, "ann")})
    assert client.get("/workspace/board/").status_code == 403
