"""The dashboard in a real headless Chromium (Debian's package), driven over the
DevTools protocol: it loads, shows its charts and the per-agent and per-partner
tables (quality flags and deal conversion too), logs no console error, and has no
serious axe-core violation. The per-agent tables' screenshot goes to
docs/screenshots/ with RAPPORT_SCREENSHOTS=1.

Skips, saying why, where there is no Chromium or no websocket-client."""

from __future__ import annotations

import json
import random
import re
import threading
from datetime import UTC, datetime

import pytest

from services.reporting.app import create_app
from shared import clock
from tests.conftest import make_token
from tests.reporting import generate


@pytest.fixture
def in_september_2025(tmp_path):
    """The clock moved to just after the parity stream's month, so the dashboard's
    fixed periods hold the generated calls."""
    path = tmp_path / "clock-offset"
    clock.use_offset_file(path)
    clock.set_offset(path, datetime(2025, 9, 1, 4, tzinfo=UTC) - datetime.now(UTC))
    yield
    clock.use_offset_file(None)


@pytest.fixture
def served(make_dispatcher, sqlite_url, in_september_2025):
    from werkzeug.serving import make_server

    dispatcher = make_dispatcher(sqlite_url)
    events = (
        generate.effectiveness_stream(per_segment=12)[0]
        + generate.parity_stream(calls=120, flagged=True)[0]
        + generate.commerce_stream()
    )
    random.Random(2).shuffle(events)
    for event in events:
        dispatcher.dispatch(event)
    server = make_server(
        "127.0.0.1", 0, create_app({"DATABASE_URL": sqlite_url, "DEV_MODE": "1"}), threaded=True
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_the_dashboard_loads_with_charts_and_no_console_errors(served, chromium, axe_source, shots):
    browser = chromium
    browser.goto(f"{served}/dashboard?token={make_token('manager')}")
    result = browser.send(
        "Runtime.evaluate",
        returnByValue=True,
        expression=(
            "JSON.stringify({title: document.title, url: location.href,"
            " images: Array.from(document.images).map(i => i.complete && i.naturalWidth),"
            " sections: Array.from(document.querySelectorAll('section h2'))"
            ".map(h => h.textContent),"
            " agents: Array.from(document.querySelectorAll('#agents table')).map(t => ({"
            "   caption: t.caption && t.caption.textContent,"
            "   rows: Array.from(t.tBodies[0].rows).map(r => r.cells[0].scope === 'row'"
            "     && r.cells[0].textContent)}))})"
        ),
    )
    page = json.loads(result["result"]["value"])
    assert page["title"].startswith("Rapport") and "token=" not in page["url"]
    assert len(page["images"]) >= 6 and all(width and width > 100 for width in page["images"])
    assert "Does calling work?" in page["sections"]
    # The per-agent and per-partner tables: captioned, a header cell heading each row.
    by_agent, by_partner = page["agents"]
    assert by_agent["caption"].startswith("Per agent")
    assert by_partner["caption"].startswith("Per partner")
    assert len(by_agent["rows"]) > 1 and all(by_agent["rows"])
    assert {"p-good", "p-bad"} <= set(by_partner["rows"])
    flags = browser.js(
        "document.querySelector('#agents-by-partner tbody tr').lastElementChild.textContent"
    )
    assert re.match(r"\d+ calls \(\d+\.\d%\):", flags), flags
    assert browser.axe(axe_source) == []
    browser.viewport(1600, 900)  # wide enough that the tables need no scrolling
    browser.screenshot(shots / "dashboard-agents.png", "#agents")
    assert browser.errors() == []
