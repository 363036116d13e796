"""Agents' calendar feeds: valid iCalendar of the agent's own open calls at a secret
URL without a bearer token; the secret is rotatable by the agent or a manager."""

from icalendar import Calendar

from tests.calls.helpers import add_agent, assign, calls_of, create_plan, project, schedule
from tests.conftest import auth, make_token


def agent_headers(agent_id):
    return {"Authorization": f"Bearer {make_token('agent', agent_id)}"}


def feed_path(token_answer):
    return token_answer["url"].split("localhost", 1)[1]


def test_an_agent_subscribes_to_its_own_open_calls_as_icalendar(app, client):
    project(app, "c1", "c2")
    add_agent(client, "amy")
    add_agent(client, "ben")
    schedule(client, create_plan(client, rrule="FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=10")["id"], days=14)
    assign(client)
    mine = [c for c in calls_of(client) if c["agent_id"] == "amy"]
    assert mine
    r = client.post("/api/v1/agents/amy/calendar-token", headers=agent_headers("amy"))
    assert r.status_code == 201
    feed = client.get(feed_path(r.json))  # no Authorization header at all
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    calendar = Calendar.from_ical(feed.data)
    events = calendar.walk("VEVENT")
    assert sorted(str(e["uid"]) for e in events) == sorted(f"{c['id']}@rapport" for c in mine)
    first = min(events, key=lambda e: e.decoded("dtstart"))
    call = min(mine, key=lambda c: c["due_at"])
    assert first.decoded("dtstart").isoformat() == call["due_at"].replace("Z", "+00:00")
    assert str(first["summary"]) == "Phone call: Customer C."  # "Customer c1", minimised
    assert str(first["url"]).endswith(f"/api/v1/calls/{call['id']}")
    assert first.decoded("dtend") > first.decoded("dtstart")


def test_the_feed_secret_is_rotated_by_the_agent_or_a_manager_only(app, client):
    add_agent(client, "amy")
    add_agent(client, "ben")
    old = client.post("/api/v1/agents/amy/calendar-token", headers=agent_headers("amy")).json
    assert client.get(feed_path(old)).status_code == 200
    assert (
        client.post("/api/v1/agents/amy/calendar-token", headers=agent_headers("ben")).status_code
        == 403
    )
    new = client.post("/api/v1/agents/amy/calendar-token", headers=auth()).json
    assert client.get(feed_path(old)).status_code == 404
    assert client.get(feed_path(new)).status_code == 200
    assert client.get(feed_path(new).replace("/amy/", "/ben/")).status_code == 404
    r = client.get("/api/v1/agents/amy/calendar.ics")
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert client.post("/api/v1/agents/nobody/calendar-token", headers=auth()).status_code == 404
