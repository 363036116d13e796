"""The dashboard in a real headless Chromium (Debian's package), driven over the
DevTools protocol: it loads, shows its charts, and logs no console error.

Skips, saying why, where there is no Chromium or no websocket-client."""
from __future__ import annotations

import json
import random
import shutil
import subprocess
import threading
from datetime import datetime, timezone

import pytest
import requests

from deploy.launcher import free_ports
from services.reporting.app import create_app
from shared import clock
from shared.testing import wait_for
from tests.conftest import make_token
from tests.reporting import generate

websocket = pytest.importorskip("websocket", reason="websocket-client is not installed")
BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no Chromium (apt-get install chromium)")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage"]


@pytest.fixture
def in_september_2025(tmp_path):
    """The clock moved to just after the parity stream's month, so the dashboard's
    fixed periods hold the generated calls."""
    path = tmp_path / "clock-offset"
    clock.use_offset_file(path)
    clock.set_offset(path, datetime(2025, 9, 1, 4, tzinfo=timezone.utc)
                     - datetime.now(timezone.utc))
    yield
    clock.use_offset_file(None)


@pytest.fixture
def served(make_dispatcher, sqlite_url, in_september_2025):
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


@pytest.fixture
def browser(tmp_path):
    [port] = free_ports(1)
    process = subprocess.Popen([BROWSER, *FLAGS, f"--remote-debugging-port={port}",
                                f"--user-data-dir={tmp_path / 'profile'}", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def pages():
            try:
                targets = requests.get(f"http://127.0.0.1:{port}/json/list", timeout=2).json()
            except requests.RequestException:
                return None  # not listening yet
            return [t for t in targets if t["type"] == "page"]
        found = wait_for(pages, timeout=30, message="Chromium's DevTools endpoint")
        yield DevTools(found[0]["webSocketDebuggerUrl"])
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


class DevTools:
    def __init__(self, url: str):
        self.ws = websocket.create_connection(url, timeout=30, suppress_origin=True)
        self.next_id, self.events = 0, []

    def send(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                return message.get("result", {})
            self.events.append(message)

    def until(self, method: str) -> dict:
        for seen in self.events:
            if seen.get("method") == method:
                return seen
        while True:
            message = json.loads(self.ws.recv())
            self.events.append(message)
            if message.get("method") == method:
                return message


def test_the_dashboard_loads_with_charts_and_no_console_errors(served, browser):
    for domain in ("Page", "Runtime", "Log"):
        browser.send(f"{domain}.enable")
    browser.send("Page.navigate", url=f"{served}/dashboard?token={make_token('manager')}")
    browser.until("Page.loadEventFired")
    result = browser.send("Runtime.evaluate", returnByValue=True, expression=(
        "JSON.stringify({title: document.title, url: location.href,"
        " images: Array.from(document.images).map(i => i.complete && i.naturalWidth),"
        " sections: Array.from(document.querySelectorAll('section h2')).map(h => h.textContent),"
        " agents: Array.from(document.querySelectorAll('#agents table')).map(t => ({"
        "   caption: t.caption && t.caption.textContent,"
        "   rows: Array.from(t.tBodies[0].rows).map(r => r.cells[0].scope === 'row'"
        "     && r.cells[0].textContent)}))})"))
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
    errors = [e for e in browser.events
              if e.get("method") == "Runtime.exceptionThrown"
              or (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] == "error")
              or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")]
    assert errors == []
