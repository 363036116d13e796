"""The plan editor in a real headless Chromium: it previews the dates a rule gives
as it is typed, equal to dateutil's own. No console errors, no serious axe-core
violations, no horizontal scroll on a 375 px phone. The screenshot goes to
docs/screenshots/ (linked from docs/pages.md) with RAPPORT_SCREENSHOTS=1. The
assignment board's bulk reassignment is driven against the running system in
tests/e2e/test_portal_and_board.py."""

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


def test_the_plan_editor_previews_the_rules_dates_as_it_is_typed(
    served, chromium, axe_source, shots
):
    url, _client = served
    page = chromium
    page.goto(f"{url}/workspace/plans/new?token={make_token('manager', 'meg')}")
    page.fill(
        {
            "name": "Twice weekly",
            "segments": "smb",
            "timezone": "Europe/London",
            "starts_at": "2026-03-01T00:00",
            "rrule": RULE,
        }
    )
    page.js("document.getElementById('rrule').dispatchEvent(new Event('input'))")
    shown = wait_for(
        lambda: page.js(
            "Array.from(document.querySelectorAll('#preview li[data-occurs]'))"
            ".map(li => li.dataset.occurs)"
        ),
        timeout=10,
        message="the live preview",
    )
    zone = ZoneInfo("Europe/London")
    start = datetime(2026, 3, 1, tzinfo=zone)
    expected = list(
        rrulestr(RULE, dtstart=start).xafter(max(clock.now(), start), inc=True, count=10)
    )
    assert [datetime.fromisoformat(s) for s in shown] == expected
    assert page.axe(axe_source) == []
    page.screenshot(shots / "plan-editor.png")
    page.viewport(375, 800, mobile=True)
    assert not page.scrolls_sideways()
    page.viewport(1280, 800)
    assert page.errors() == []
