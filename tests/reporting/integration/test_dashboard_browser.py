"""The dashboard in a real headless Chromium (Debian's package), driven over the
DevTools protocol: it loads, shows its charts, and logs no console error.

Skips, saying why, where there is no Chromium or no websocket-client."""
from __future__ import annotations

import json
import random
import threading

import pytest

from services.reporting.app import create_app
from tests.conftest import make_token
from tests.reporting import generate


@pytest.fixture
def served(make_dispatcher, sqlite_url):
    from werkzeug.serving import make_server
    dispatcher = make_dispatcher(sqlite_url)
    events = (generate.effectiveness_stream(per_segment=12)[0]
              + generate.parity_stream(calls=120)[0] + generate.commerce_stream())
    random.Random(2).shuffle(events)
    for event in events:
        dispatcher.dispatch(event)
    server = make_server("127.0.0.1", 0,
                         create_app({"DATABASE_URL": sqlite_url, "DEV_MODE": "1"}), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_the_dashboard_loads_with_charts_and_no_console_errors(served, chromium):
    browser = chromium
    browser.goto(f"{served}/dashboard?token={make_token('manager')}")
    result = browser.send("Runtime.evaluate", returnByValue=True, expression=(
        "JSON.stringify({title: document.title, url: location.href,"
        " images: Array.from(document.images).map(i => i.complete && i.naturalWidth),"
        " sections: Array.from(document.querySelectorAll('section h2')).map(h => h.textContent)})"))
    page = json.loads(result["result"]["value"])
    assert page["title"].startswith("Rapport") and "token=" not in page["url"]
    assert len(page["images"]) >= 6 and all(width and width > 100 for width in page["images"])
    assert "Does calling work?" in page["sections"]
    assert browser.errors() == []
