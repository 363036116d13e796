"""The manager's pages in a real headless Chromium: a manager reassigns an agent's
calls in bulk on the assignment board (a refusal first, with the API's reasons by
the fields and nothing moved), and the plan editor previews the dates a rule gives
as it is typed, equal to dateutil's own. No console errors, no serious axe-core
violations, no horizontal scroll on a 375 px phone. Screenshots go to
docs/screenshots/ (linked from docs/calls.md) with RAPPORT_SCREENSHOTS=1."""
from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr

from shared import clock
from shared.testing import wait_for
from tests.calls.helpers import (
    add_agent,
    assign,
    build_app,
    calls_of,
    create_plan,
    project,
    schedule,
)
from tests.conftest import make_token

RULE = "FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=10;BYMINUTE=30"
pytestmark = pytest.mark.integration


@pytest.fixture
def served(service_app, sqlite_url):
    from werkzeug.serving import make_server
    app = build_app(service_app, sqlite_url)
    client = app.test_client()
    project(app, *[f"c{i}" for i in range(6)])
    add_agent(client, "ann", daily_capacity=3)
    add_agent(client, "bob", daily_capacity=3)
    add_agent(client, "cat", daily_capacity=20)
    plan = create_plan(client, name="SMB daily", rrule="FREQ=DAILY;BYHOUR=10;BYMINUTE=0")
    schedule(client, plan["id"], days=2)
    assign(client)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", client
    server.shutdown()


def _holders(client) -> dict:
    return {c["id"]: c["agent_id"] for c in calls_of(client, status="scheduled")}


def test_a_manager_reassigns_an_agents_calls_in_bulk(served, chromium, axe_source, shots):
    url, client = served
    page = chromium
    page.goto(f"{url}/workspace/board/?token={make_token('manager', 'meg')}")
    assert "Assignment board" in page.text() and "token=" not in page.js("location.href")
    assert page.axe(axe_source) == []
    page.screenshot(shots / "board.png")
    anns = {i for i, agent in _holders(client).items() if agent == "ann"}
    assert anns

    before = _holders(client)
    page.fill({"agent_id": "ann", "to_agent_id": "", "reason": " "})
    page.submit()
    assert "Nothing was reassigned" in page.text()
    assert page.js("document.getElementById('reason').getAttribute('aria-invalid')") == "true"
    assert page.axe(axe_source) == []
    assert _holders(client) == before

    page.fill({"agent_id": "ann", "to_agent_id": "cat", "reason": "ann is on leave"})
    page.submit()
    assert f"{len(anns)} calls matched" in page.text()
    after = _holders(client)
    assert all(after[i] == "cat" for i in anns) and "ann" not in after.values()
    page.screenshot(shots / "board-reassigned.png")
    page.viewport(375, 800, mobile=True)
    assert not page.scrolls_sideways()
    page.viewport(1280, 800)
    assert page.errors() == []


def test_the_plan_editor_previews_the_rules_dates_as_it_is_typed(
        served, chromium, axe_source, shots):
    url, _client = served
    page = chromium
    page.goto(f"{url}/workspace/plans/new?token={make_token('manager', 'meg')}")
    page.fill({"name": "Twice weekly", "segments": "smb", "timezone": "Europe/London",
               "starts_at": "2026-03-01T00:00", "rrule": RULE})
    page.js("document.getElementById('rrule').dispatchEvent(new Event('input'))")
    shown = wait_for(lambda: page.js(
        "Array.from(document.querySelectorAll('#preview li[data-occurs]'))"
        ".map(li => li.dataset.occurs)"), timeout=10, message="the live preview")
    zone = ZoneInfo("Europe/London")
    start = datetime(2026, 3, 1, tzinfo=zone)
    expected = list(rrulestr(RULE, dtstart=start).xafter(max(clock.now(), start), inc=True,
                                                         count=10))
    assert [datetime.fromisoformat(s) for s in shown] == expected
    assert page.axe(axe_source) == []
    page.screenshot(shots / "plan-editor.png")
    page.viewport(375, 800, mobile=True)
    assert not page.scrolls_sideways()
    page.viewport(1280, 800)
    assert page.errors() == []
